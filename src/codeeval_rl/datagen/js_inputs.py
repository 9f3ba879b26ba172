"""JavaScript stage 2: argument lists to call a selected function with (source text).

Where the inputs come from, in this order (duplicates removed, at most ``limit`` in all):

1. ``callsite``: the project's own calls of the function's name with literal arguments (its
   tests included), as written.
2. ``default``: calls that leave out trailing parameters that have default values.
3. ``boundary``: one typical value per parameter, then each parameter in turn run through the
   boundary values of its type while the others keep their typical value.
4. ``random``: seeded random combinations of values of each parameter's type.

A parameter's type comes from its JSDoc ``@param`` type (:func:`parse_type`: names,
``?T``/``!T``, ``T=``, unions, ``T[]``, ``Array<T>``/``Array.<T>``, ``Object<K, V>``,
records ``{a: T}``, string and number literals, ``*``), else from its default value, else
from the literal arguments of its call sites, else from how the body uses it (string or
array methods, arithmetic), else from its name (``text``, ``items``, ``isX``, ``options``,
``callback``, ``n``...: :data:`_NAME_TYPES`), else it is ``*`` (a mix of numbers, strings,
arrays, null and objects). A ``number`` is generated as an integer when its name reads like a count or an index
(:data:`INTEGER_NAMES`), its type is ``integer``/``int``, or the doc comment says "integer".
Random numbers are mostly small integers, a quarter up to 10000, and 15% have two decimals.

Boundary values (:func:`boundary_values`): numbers 0, 1, -1, 2, 3, 10, 100, -7, 1000000, 0.5,
-2.5; strings ``''``, ``'a'``, ``' '``, mixed case with punctuation, spacing, digits, accents
and an emoji; booleans; ``[]``, one item, several items with duplicates; ``{}``; ``null`` or
``undefined`` only for types that admit them. ``NaN`` and ``Infinity`` are never generated
(they are rarely intended inputs and mostly test NaN propagation); a call site may still pass
them, and results that contain them are frozen exactly. Function-typed parameters get small
arrow functions (``x => x * 2``, ``(a, b) => a - b``...).

Everything is a pure function of the inputs and ``random.Random(seed)``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from codeeval_rl.datagen.model import Param

__all__ = [
    "INTEGER_NAMES",
    "JsInput",
    "JsType",
    "boundary_values",
    "infer_type",
    "make_inputs",
    "parse_type",
    "random_value",
]

INTEGER_NAMES = re.compile(
    r"^(n|i|j|k|m|count|size|index|idx|len|length|width|height|times|num|digits|places|"
    r"precision|base|radix|depth|level|limit|max|min|start|end|from|to|step|offset|pos|position)$"
    r"|(Count|Index|Size|Length|Width|Height|Len|Num)$", re.IGNORECASE)
"""Parameter names whose numbers are generated as integers."""


@dataclass(frozen=True)
class JsType:
    """A parsed JSDoc type. ``kind``: number, integer, string, boolean, null, undefined, any,
    array (``items[0]``), object, record (``fields``), map (``items`` = key, value), union
    (``items``), literal (``literal`` is its source), function, date, bigint."""

    kind: str
    items: tuple[JsType, ...] = ()
    fields: tuple[tuple[str, JsType], ...] = ()
    literal: str = ""


ANY = JsType("any")
_SIMPLE = {
    "number": "number", "float": "number", "double": "number", "integer": "integer", "int": "integer",
    "string": "string", "boolean": "boolean", "bool": "boolean", "null": "null", "undefined": "undefined",
    "void": "undefined", "*": "any", "any": "any", "unknown": "any", "mixed": "any", "object": "object",
    "function": "function", "date": "date", "bigint": "bigint",
}


@dataclass(frozen=True)
class JsInput:
    """One argument list, as JavaScript source (``"3, 'a'"``), and the maker that made it."""

    args: str
    source: str


# ---- parsing JSDoc types -------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(\.\.\.|\.<|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?|[\w$.]+|\S)")


def parse_type(text: str) -> JsType:
    """Parse a JSDoc type expression; anything not understood becomes ``*`` (any), never an
    error."""
    tokens = [m.group(1) for m in _TOKEN.finditer(text or "")]
    if not tokens:
        return ANY
    try:
        t, pos = _union(tokens, 0)
    except (IndexError, ValueError):
        return ANY
    return t if pos == len(tokens) else ANY


def _union(tok: list[str], pos: int) -> tuple[JsType, int]:
    parts = []
    t, pos = _postfix(tok, pos)
    parts.append(t)
    while pos < len(tok) and tok[pos] == "|":
        t, pos = _postfix(tok, pos + 1)
        parts.append(t)
    return (parts[0] if len(parts) == 1 else JsType("union", tuple(parts))), pos


def _postfix(tok: list[str], pos: int) -> tuple[JsType, int]:
    t, pos = _prefix(tok, pos)
    while pos < len(tok):
        if tok[pos] == "[" and pos + 1 < len(tok) and tok[pos + 1] == "]":
            t, pos = JsType("array", (t,)), pos + 2
        elif tok[pos] == "=":
            t, pos = JsType("union", (t, JsType("undefined"))), pos + 1
        else:
            break
    return t, pos


def _prefix(tok: list[str], pos: int) -> tuple[JsType, int]:
    head = tok[pos]
    if head == "?":
        t, pos = _prefix(tok, pos + 1)
        return JsType("union", (t, JsType("null"))), pos
    if head in ("!", "..."):
        return _prefix(tok, pos + 1)
    if head == "(":
        t, pos = _union(tok, pos + 1)
        if tok[pos] != ")":
            raise ValueError("unclosed (")
        return t, pos + 1
    if head == "{":
        return _record(tok, pos + 1)
    if head[0] in "'\"" or re.fullmatch(r"-?\d+(?:\.\d+)?", head):
        return JsType("literal", literal=head), pos + 1
    name = head.rstrip(".")
    pos += 1
    args: list[JsType] = []
    if pos < len(tok) and tok[pos] in ("<", ".<"):
        pos += 1
        while True:
            a, pos = _union(tok, pos)
            args.append(a)
            if tok[pos] == ",":
                pos += 1
                continue
            if tok[pos] != ">":
                raise ValueError("unclosed <")
            pos += 1
            break
    if name.lower() == "function" and pos < len(tok) and tok[pos] == "(":
        depth = 0
        while pos < len(tok):  # skip the parameter list and an optional ": result"
            depth += tok[pos] == "("
            depth -= tok[pos] == ")"
            pos += 1
            if depth == 0:
                break
        if pos < len(tok) and tok[pos] == ":":
            _, pos = _prefix(tok, pos + 1)
        return JsType("function"), pos
    return _named(name, args), pos


def _named(name: str, args: list[JsType]) -> JsType:
    low = name.lower()
    if low == "array":
        return JsType("array", (args[0] if args else ANY,))
    if low == "object" and len(args) == 2:
        return JsType("map", (args[0], args[1]))
    if low == "object" and len(args) == 1:
        return JsType("map", (JsType("string"), args[0]))
    if low in _SIMPLE:
        return JsType(_SIMPLE[low])
    if name in ("Map", "Set", "Promise", "RegExp", "Symbol") or name.endswith("Error"):
        return ANY
    return JsType("object")  # a typedef or class we cannot see


def _record(tok: list[str], pos: int) -> tuple[JsType, int]:
    fields: list[tuple[str, JsType]] = []
    while tok[pos] != "}":
        key = tok[pos].strip("'\"")
        optional = tok[pos + 1] == "?"
        pos += 2 if optional else 1
        if tok[pos] == ":":
            t, pos = _union(tok, pos + 1)
        else:
            t = ANY
        fields.append((key, JsType("union", (t, JsType("undefined"))) if optional else t))
        if tok[pos] == ",":
            pos += 1
    return JsType("record", fields=tuple(fields)), pos + 1


# ---- inferring a type without JSDoc ---------------------------------------------------------------
_STRING_METHODS = frozenset(["toLowerCase", "toUpperCase", "trim", "trimStart", "trimEnd", "split", "charAt", "charCodeAt", "codePointAt", "padStart", "padEnd", "replace", "replaceAll", "startsWith", "endsWith", "localeCompare", "normalize", "repeat", "match", "matchAll", "search", "substring", "substr"])
_ARRAY_METHODS = frozenset(["map", "filter", "reduce", "reduceRight", "forEach", "push", "pop", "shift", "unshift", "some", "every", "sort", "join", "flat", "flatMap", "find", "findIndex", "findLast", "splice", "reverse", "fill"])


def _literal_type(text: str) -> JsType:
    text = text.strip()
    if not text:
        return ANY
    if text[0] in "'\"`":
        return JsType("string")
    if text in ("true", "false"):
        return JsType("boolean")
    if text == "null":
        return JsType("null")
    if text[0] == "[":
        inner = text[1:-1].strip()
        first = inner.split(",")[0] if inner else ""
        return JsType("array", (_literal_type(first) if first and first.strip()[0] not in "[{" else ANY,))
    if text[0] == "{":
        return JsType("object")
    if re.fullmatch(r"[-+]?(\d+|\d*\.\d+)(e[-+]?\d+)?", text, re.IGNORECASE):
        return JsType("integer" if re.fullmatch(r"[-+]?\d+", text) else "number")
    return ANY


def _usage_type(name: str, body: str) -> JsType:
    n = re.escape(name)
    methods = set(re.findall(rf"(?<![\w$.]){n}\s*\.\s*([A-Za-z_$][\w$]*)", body))
    if methods & _STRING_METHODS:
        return JsType("string")
    if methods & _ARRAY_METHODS:
        return JsType("array", (ANY,))
    arithmetic = (rf"(?<![\w$.]){n}\s*(?:[-*/%]|[<>]=?\s*-?\d)|(?:[-*/%<]|(?<!=)>)=?\s*{n}(?![\w$])"
                  rf"|Math\.\w+\([^)]*(?<![\w$.]){n}(?![\w$])")
    if re.search(arithmetic, body):
        return JsType("number")
    if re.search(rf"(?<![\w$.]){n}\s*\[", body) or "length" in methods:
        return JsType("union", (JsType("string"), JsType("array", (ANY,))))
    return ANY


_NAME_TYPES: tuple[tuple[re.Pattern[str], JsType], ...] = (
    (re.compile(r"^(s|str|string|text|txt|name|char|ch|prefix|suffix|word|line|msg|message|label|title|"
                r"sep|separator|delimiter|pattern|url|path|key|id|slug|input)$|(Str|String|Text|Name)$", re.IGNORECASE),
     JsType("string")),
    (re.compile(r"^(arr|array|list|items|values|xs|elements|nums|numbers|words|strings|lines|rows)$|(List|Array)$",
                re.IGNORECASE), JsType("array", (ANY,))),
    (re.compile(r"^(is|has|should|can|allow)[A-Z_]|^(flag|enabled|strict|loose|verbose|force)$"), JsType("boolean")),
    (re.compile(r"^(obj|object|options|opts|config|settings|dict|map|record|props|params)$", re.IGNORECASE), JsType("object")),
    (re.compile(r"^(fn|func|callback|cb|predicate|iteratee|mapper|compare|comparator)$", re.IGNORECASE), JsType("function")),
    (re.compile(r"^(x|y|z|a|b|num|number|value|amount|total|count|n|i|j|k|lo|hi|low|high|min|max)$", re.IGNORECASE),
     JsType("number")),
)


def _name_type(name: str) -> JsType:
    for pattern, t in _NAME_TYPES:
        if pattern.search(name):
            return t
    return ANY


def infer_type(param: Param, callsite_args: Sequence[str], position: int, body: str) -> JsType:
    """The type of ``param`` (rules in the module docstring). ``callsite_args`` are the
    argument texts seen at this position."""
    t = ANY
    if param.annotation:
        t = parse_type(param.annotation)
    elif param.default:
        t = _literal_type(param.default)
    elif callsite_args:
        kinds = []
        for a in callsite_args:
            lt = _literal_type(a)
            if lt not in kinds:
                kinds.append(lt)
        t = kinds[0] if len(kinds) == 1 else JsType("union", tuple(kinds))
    if t.kind == "any" and not param.annotation:
        t = _usage_type(param.name, body)
    if t.kind == "any" and not param.annotation:
        t = _name_type(param.name)
    if param.kind == "varargs" and t.kind != "array":
        t = JsType("array", (t,))
    return _integerise(t, param.name)


def _integerise(t: JsType, name: str) -> JsType:
    if t.kind == "number" and INTEGER_NAMES.search(name):
        return JsType("integer")
    if t.kind == "union":
        return JsType("union", tuple(_integerise(x, name) for x in t.items))
    return t


# ---- values --------------------------------------------------------------------------------------
_INTS = ("0", "1", "-1", "2", "3", "10", "100", "-7", "1000000")
_SMALL_INTS = ("0", "1", "2", "3", "5", "-1", "10")
_FLOATS = ("0.5", "-2.5")
_STRINGS = ("''", "'a'", "' '", "'Hello, World!'", "'hello_world-example'", "'  padded  text  '",
            "'ABC def'", "'123'", "'a,b,c'", "'MixedCase42'", "'café déjà vu'", "'😀 ok'")
_WORDS = ("alpha", "Beta", "gamma", "x", "hello", "World", "foo", "BAR", "42", "baz", "qux", "été")
_FUNCTIONS = ("(x) => x", "(x) => x * 2", "(x) => String(x)", "(a, b) => a - b", "(x) => !x")


def boundary_values(t: JsType, depth: int = 0) -> list[str]:
    """The boundary values of a type, as JavaScript literals (deterministic, most typical
    first)."""
    k = t.kind
    if k == "integer":
        return list(_SMALL_INTS) + ["100", "-7", "1000000"]
    if k == "number":
        return ["3", *(v for v in _INTS if v != "3"), *_FLOATS]
    if k == "string":
        return ["'Hello, World!'", *(v for v in _STRINGS if v != "'Hello, World!'")]
    if k == "boolean":
        return ["true", "false"]
    if k in ("null", "undefined"):
        return [k]
    if k == "literal":
        return [t.literal]
    if k == "bigint":
        return ["10n", "0n", "-3n"]
    if k == "date":
        return ["new Date(0)", "new Date(1700000000000)"]
    if k == "function":
        return list(_FUNCTIONS)
    if k == "array":
        if depth >= 2:
            return ["[]"]
        items = boundary_values(t.items[0], depth + 1)
        few = [v for v in items if v not in ("null", "undefined")][:4] or items[:4]
        out = ["[" + ", ".join(few[:3]) + "]", "[]", f"[{few[0]}]", *([f"[{few[1]}]"] if len(few) > 1 else [])]
        if len(few) >= 2:
            out.append(f"[{few[1]}, {few[0]}, {few[1]}, {few[0]}]")
        out.append("[" + ", ".join(reversed(few)) + "]")
        return _dedupe(out)
    if k == "record":
        if depth >= 2:
            return ["{}"]
        base = {key: boundary_values(ft, depth + 1) for key, ft in t.fields}
        first = "{" + ", ".join(f"{_key(key)}: {vals[0]}" for key, vals in base.items()) + "}"
        out = [first]
        for key, vals in base.items():
            for v in vals[1:3]:
                out.append("{" + ", ".join(f"{_key(k2)}: {v if k2 == key else base[k2][0]}"
                                           for k2 in base) + "}")
        return _dedupe(out)
    if k == "map":
        vals = boundary_values(t.items[1], depth + 1)
        keys = ["'a'", "'b'", "'c'"] if t.items[0].kind != "number" and t.items[0].kind != "integer" else ["1", "2", "3"]
        return ["{" + ", ".join(f"{kk}: {v}" for kk, v in zip(keys, vals)) + "}", "{}",
                "{" + f"{keys[0]}: {vals[-1]}" + "}"]
    if k == "object":
        return ["{ a: 1, b: 'two' }", "{}", "{ a: 1 }", "{ x: [1, 2], y: { z: true } }", "{ name: 'Ada', age: 36 }"]
    if k == "union":
        lists = [boundary_values(x, depth) for x in t.items]
        out = []
        for i in range(max(map(len, lists))):
            out.extend(vals[i] for vals in lists if i < len(vals))
        return _dedupe(out)
    return ["1", "'a'", "[1, 2, 3]", "0", "''", "null", "true", "{ a: 1 }", "[]", "-1", "'Hello'"]


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_$][\w$]*", key) else json.dumps(key)


def _dedupe(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def random_value(t: JsType, rng: random.Random, depth: int = 0) -> str:
    """One seeded random value of the type, as a JavaScript literal."""
    k = t.kind
    if k == "integer":
        return str(rng.choice((rng.randint(0, 20), rng.randint(-10, 60), rng.randint(0, 5000))))
    if k == "number":
        roll = rng.random()
        if roll < 0.6:
            return str(rng.randint(-20, 100))
        if roll < 0.85:
            return str(rng.randint(-1000, 10 ** 4))
        return repr(round(rng.uniform(-100, 100), 2))
    if k == "string":
        words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 4))]
        sep = rng.choice((" ", "-", "_", "", ", ", "  "))
        text = sep.join(words)
        if rng.random() < 0.3:
            text = text.upper() if rng.random() < 0.5 else text.lower()
        return json.dumps(text, ensure_ascii=False)
    if k == "array":
        if depth >= 2:
            return "[]"
        return "[" + ", ".join(random_value(t.items[0], rng, depth + 1) for _ in range(rng.randint(0, 7))) + "]"
    if k == "record":
        if depth >= 2:
            return "{}"
        return "{" + ", ".join(f"{_key(key)}: {random_value(ft, rng, depth + 1)}" for key, ft in t.fields) + "}"
    if k == "map":
        count = rng.randint(0, 4)
        keys = rng.sample(["'a'", "'b'", "'c'", "'d'", "'e'"], count)
        return "{" + ", ".join(f"{kk}: {random_value(t.items[1], rng, depth + 1)}" for kk in keys) + "}"
    if k == "union":
        return random_value(rng.choice(t.items), rng, depth)
    if k == "any":
        return random_value(rng.choice((JsType("integer"), JsType("string"), JsType("array", (JsType("integer"),)))),
                            rng, depth)
    return rng.choice(boundary_values(t, depth))


# ---- assembling argument lists -------------------------------------------------------------------
def _split_args(args: str) -> list[str]:
    """Split a literal argument list at its top-level commas (strings and brackets respected)."""
    out, depth, quote, cur = [], 0, "", []
    i = 0
    while i < len(args):
        ch = args[i]
        if quote:
            cur.append(ch)
            if ch == "\\" and i + 1 < len(args):
                cur.append(args[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
            cur.append(ch)
        elif ch in "([{":
            depth += 1
            cur.append(ch)
        elif ch in ")]}":
            depth -= 1
            cur.append(ch)
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


_TYPICAL_NUMBERS = ("12", "18", "30", "4", "7")


def _typical_first(pool: list[str], t: JsType, position: int) -> list[str]:
    """Put a typical value first; numbers differ by position, so the first call is not f(3, 3)."""
    if t.kind in ("number", "integer"):
        first = _TYPICAL_NUMBERS[position % len(_TYPICAL_NUMBERS)]
        return [first, *(v for v in pool if v != first)]
    return pool


def make_inputs(params: Sequence[Param], callsites: Sequence[str], body: str, *, seed: int,
                limit: int = 64, doc: str = "") -> tuple[JsInput, ...]:
    """The argument lists for one function (sources and order in the module docstring).
    ``doc``: its doc comment; when it says "integer", every ``number`` parameter is generated
    as an integer."""
    rng = random.Random(seed)
    split = [_split_args(c) for c in callsites]
    types = [infer_type(p, [s[i] for s in split if i < len(s)], i, body) for i, p in enumerate(params)]
    if re.search(r"\bintegers?\b", doc, re.IGNORECASE):
        types = [_integerise(t, "n") for t in types]
    out: dict[str, JsInput] = {}

    def add(args: str, source: str) -> None:
        if len(out) < limit and args not in out:
            out[args] = JsInput(args, source)

    for c in callsites:
        add(c, "callsite")
    pools = [_typical_first(boundary_values(t), t, i) for i, t in enumerate(types)]
    fixed = [p for p in params if p.kind != "varargs"]
    rest = types[-1] if params and params[-1].kind == "varargs" else None
    base = [pool[0] for pool, p in zip(pools, params) if p.kind != "varargs"]
    for i in range(len(fixed) - 1, -1, -1):
        if not fixed[i].default:
            break
        add(", ".join(base[:i]), "default")

    def render(values: Sequence[str], rest_values: Sequence[str] = ()) -> str:
        return ", ".join([*values, *rest_values])

    rest_pool = boundary_values(rest.items[0]) if rest is not None else []
    add(render(base, rest_pool[:2]), "boundary")
    longest = max((len(pools[i]) for i in range(len(fixed))), default=0)
    for depth in range(1, longest):  # parameters take turns, so each gets varied before the cap
        for i in range(len(fixed)):
            if depth < len(pools[i]):
                varied = list(base)
                varied[i] = pools[i][depth]
                add(render(varied, rest_pool[:2]), "boundary")
    if rest is not None:
        for n in range(4):
            add(render(base, rest_pool[:n]), "boundary")
    attempts = 0
    while len(out) < limit and attempts < limit * 4:
        attempts += 1
        values = [random_value(t, rng) if rng.random() < 0.7 else rng.choice(pool)
                  for t, pool, p in zip(types, pools, params) if p.kind != "varargs"]
        extra = [random_value(rest.items[0], rng) for _ in range(rng.randint(0, 3))] if rest is not None else []
        add(render(values, extra), "random")
    return tuple(out.values())


def callsites_for(name: str, callsites: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The literal argument lists seen for ``name``."""
    return tuple(callsites.get(name, ()))
