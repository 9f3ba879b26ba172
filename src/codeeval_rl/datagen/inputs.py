"""Stage 2 for Python: candidate inputs for a function, from every source available.

An input is the argument list of a call as source text (``"'a_b', False"``), made only of
literals, so it can be written into a test and evaluated anywhere. Sources, in order of
preference (an earlier source wins a tie when stage 3 picks tests):

1. ``doctest``: the function's doctest examples that call it with literal arguments;
2. ``callsite``: calls with literal arguments anywhere in the tree, the project's own tests
   included, and rows of ``pytest.mark.parametrize`` tables (inline or a module-level
   literal) feeding a test that calls the function with the table's names;
3. ``hypothesis``: values drawn from strategies built from the parameters' types (kept
   readable: integers within a million, finite floats, strings of printable Latin
   characters up to 24 long, containers up to 8 items; ``from_type`` for other types)
   (``hypothesis.strategies.from_type`` on the annotation, else the type of the default,
   else a type named in the docstring (``:type x: int``, ``x (int):``, ``x : int``), else the
   type of the literals seen at call sites), drawn with ``derandomize=True`` from the seed;
4. ``literal``: values made from the function's own constants, as test generators seed
   their search (a string constant ``c`` gives ``c``, ``'ab' + c`` and ``c + 'ab'``; a string
   passed as the pattern of a ``re`` call gives strings Hypothesis draws from that regular
   expression; an integer ``n`` gives ``n - 1``, ``n`` and ``n + 1``), for parameters of
   those types; they reach branches that generic values rarely do (a port suffix, a
   trailing dot);
5. ``boundary``: boundary values of those types; a parameter annotated with one of the
   module's dataclasses or ``NamedTuple``/``namedtuple`` types gets constructor calls
   (``Point(x=0, y=1)``) whose fields take the boundary values of their own types, as
   Hypothesis' ``builds`` would draw them, written as source so that the class only ever runs
   in the sandbox (``0``, ``-1``, ``''``, ``[]``, ``None`` for
   optional parameters...); a parameter of unknown type gets a mix of strings and integers,
   and stage 3 drops the inputs the function refuses with ``TypeError``.

Multi-parameter inputs vary one parameter at a time around a base row, then take seeded
random rows; parameters with defaults are sometimes left out. The result is deduplicated
and capped (``max_inputs``), in a deterministic order for a given seed.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import doctest
import fractions
import random
import re
import typing
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from codeeval_rl.datagen.discover import ParsedFile
from codeeval_rl.datagen.model import Param, SourceFunction

__all__ = ["CallSites", "Input", "boundary_values", "collect_call_sites", "make_inputs", "param_types"]

SOURCE_RANK = {"doctest": 0, "callsite": 1, "model": 2, "literal": 3, "boundary": 4, "hypothesis": 5}


@dataclass(frozen=True)
class Input:
    """One call's arguments as source text, and the input maker it came from."""

    args: str
    source: str


# ---- literal arguments


def _literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _args_text(call: ast.Call, bind: Callable[[ast.AST], str | None] = lambda n: None) -> str | None:
    """The call's arguments as text when each is a literal (or ``bind`` gives its text)."""
    parts: list[str] = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            return None
        text = bind(arg) if not _literal(arg) else ast.unparse(arg)
        if text is None:
            return None
        parts.append(text)
    for kw in call.keywords:
        if kw.arg is None:
            return None
        text = bind(kw.value) if not _literal(kw.value) else ast.unparse(kw.value)
        if text is None:
            return None
        parts.append(f"{kw.arg}={text}")
    text = ", ".join(parts)
    return text if len(text) <= 2000 else None


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _doctest_inputs(fn: SourceFunction) -> list[Input]:
    if not fn.docstring:
        return []
    try:
        examples = doctest.DocTestParser().get_examples(fn.docstring)
    except ValueError:
        return []
    out = []
    for ex in examples:
        try:
            tree = ast.parse(ex.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node) == fn.name:
                text = _args_text(node)
                if text is not None:
                    out.append(Input(text, "doctest"))
    return out


class CallSites:
    """Literal-argument calls found in the tree, by called name (built once per tree)."""

    def __init__(self, calls: dict[str, list[str]]) -> None:
        self._calls = calls

    def get(self, name: str) -> list[str]:
        return self._calls.get(name, [])


def _module_literals(tree: ast.Module) -> dict[str, ast.AST]:
    out: dict[str, ast.AST] = {}
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and _literal(stmt.value)):
            out[stmt.targets[0].id] = stmt.value
    return out


def _parametrize_rows(fn: ast.FunctionDef, literals: dict[str, ast.AST]) -> list[dict[str, str]]:
    """The rows of a ``@pytest.mark.parametrize(names, values)`` table as name -> source text."""
    rows: list[dict[str, str]] = []
    for dec in fn.decorator_list:
        if not (isinstance(dec, ast.Call) and _called_name(dec) == "parametrize" and len(dec.args) >= 2):
            continue
        names_node: ast.AST = dec.args[0]
        values_node: ast.AST = dec.args[1]
        try:
            names = ast.literal_eval(names_node)
        except (ValueError, SyntaxError, TypeError):
            continue
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        if isinstance(values_node, ast.Name):
            values_node = literals.get(values_node.id, values_node)
        if not isinstance(values_node, (ast.List, ast.Tuple)):
            continue
        for elt in values_node.elts:
            if isinstance(elt, ast.Call) and _called_name(elt) == "param":  # pytest.param(...)
                elt = ast.Tuple(elts=list(elt.args), ctx=ast.Load())
            values = elt.elts if len(names) > 1 and isinstance(elt, (ast.Tuple, ast.List)) else [elt]
            if len(values) != len(names) or not all(_literal(v) for v in values):
                continue
            rows.append({n: ast.unparse(v) for n, v in zip(names, values, strict=True)})
    return rows


def collect_call_sites(files: Iterable[ParsedFile], limit_per_name: int = 200) -> CallSites:
    """Every call with literal arguments in ``files`` (sources and tests), by called name."""
    calls: dict[str, list[str]] = {}

    def add(name: str, text: str | None) -> None:
        if text is None:
            return
        bucket = calls.setdefault(name, [])
        if len(bucket) < limit_per_name and text not in bucket:
            bucket.append(text)

    for parsed in files:
        literals = _module_literals(parsed.tree)
        for node in ast.walk(parsed.tree):
            if isinstance(node, ast.Call):
                add(_called_name(node), _args_text(node))
            elif isinstance(node, ast.FunctionDef) and node.decorator_list:
                rows = _parametrize_rows(node, literals)
                if not rows:
                    continue
                for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
                    for row in rows:
                        bind = (lambda arg, row=row: row.get(arg.id) if isinstance(arg, ast.Name) else None)
                        add(_called_name(call), _args_text(call, bind))
    return CallSites(calls)


# ---- types


_SAFE_TYPE_NAMES: dict[str, Any] = {
    "int": int, "float": float, "str": str, "bool": bool, "bytes": bytes, "complex": complex,
    "list": list, "dict": dict, "tuple": tuple, "set": set, "frozenset": frozenset, "None": None,
    "Decimal": decimal.Decimal, "Fraction": fractions.Fraction, "date": datetime.date,
    "datetime": datetime.datetime, "timedelta": datetime.timedelta,
    "Any": typing.Any, "Optional": typing.Optional, "Union": typing.Union, "List": list,
    "Dict": dict, "Tuple": tuple, "Set": set, "FrozenSet": frozenset,
    "Sequence": typing.Sequence, "Iterable": typing.Iterable, "Mapping": typing.Mapping,
    "Text": str, "AnyStr": str,
}
_DOC_TYPE = (
    r"(?::type\s+{n}\s*:\s*([\w\[\], .|]+))"       # reST  :type x: int
    r"|(?::param\s+([\w\[\], .|]+)\s+{n}\s*:)"      # reST  :param int x:
    r"|(?:^\s*{n}\s*\(([\w\[\], .|]+?)(?:,\s*optional)?\)\s*:)"   # Google  x (int): ...
    r"|(?:^\s*{n}\s*:\s*([\w\[\], .|]+?)\s*$)"      # numpy  x : int
)


def _resolve(annotation: str) -> Any:
    """A type object for an annotation made only of known names, else ``None`` (an
    annotation is never evaluated with the project's names)."""
    text = annotation.strip().strip("'\"")
    for prefix in ("typing.", "t.", "decimal.", "fractions.", "datetime.", "collections.abc."):
        text = text.replace(prefix, "")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in _SAFE_TYPE_NAMES:
            return None
        if not isinstance(node, (ast.Expression, ast.Name, ast.Subscript, ast.Tuple, ast.Load, ast.BinOp,
                                 ast.BitOr, ast.Constant, ast.List)):
            return None
    try:
        value = eval(compile(tree, "<annotation>", "eval"), {"__builtins__": {}}, dict(_SAFE_TYPE_NAMES))
    except Exception:  # noqa: BLE001 - any failure means "unknown type"
        return None
    return value


def param_types(fn: SourceFunction, sites: Sequence[str] = ()) -> dict[str, Any]:
    """Parameter name -> type object (``typing.Any`` when unknown), from the annotation, the
    default value, the docstring, then the literals at call sites (rules in the module
    docstring)."""
    out: dict[str, Any] = {}
    seen = _site_types(fn, sites)
    for p in fn.params:
        if p.kind == "varkw":
            continue
        t = _resolve(p.annotation) if p.annotation else None
        if t is None and p.default:
            try:
                value = ast.literal_eval(p.default)
            except (ValueError, SyntaxError, TypeError):
                value = None
            if value is not None:
                t = type(value)
        if t is None and fn.docstring:
            pattern = re.compile(_DOC_TYPE.format(n=re.escape(p.name)), re.MULTILINE)
            m = pattern.search(fn.docstring)
            if m:
                t = _resolve(next(g for g in m.groups() if g))
        if t is None:
            t = seen.get(p.name)
        if p.kind == "varargs" and t is not None:
            t = t if t is not tuple else None
        out[p.name] = typing.Any if t is None else t
    return out


def _site_types(fn: SourceFunction, sites: Sequence[str]) -> dict[str, type]:
    counts: dict[str, dict[type, int]] = {}
    positional = [p.name for p in fn.params if p.kind == "positional"]
    for text in sites:
        try:
            call = ast.parse(f"f({text})", mode="eval").body
        except SyntaxError:
            continue
        assert isinstance(call, ast.Call)
        pairs = list(zip(positional, call.args, strict=False)) + [(k.arg or "", k.value) for k in call.keywords]
        for name, node in pairs:
            try:
                value = ast.literal_eval(node)
            except (ValueError, SyntaxError, TypeError):
                continue
            if value is not None:
                counts.setdefault(name, {}).setdefault(type(value), 0)
                counts[name][type(value)] += 1
    return {name: max(c, key=lambda t: c[t]) for name, c in counts.items()}


# ---- boundary values

_BOUNDARY: dict[type, tuple[Any, ...]] = {
    int: (0, 1, -1, 2, 7, 10, -10, 100, 1000, 2**31, -(2**31)),
    float: (0.0, 1.0, -1.0, 0.5, -2.25, 3.14159, 1e-9, 1e9),
    bool: (True, False),
    str: ("", "a", "A", " ", "abc", "Hello World", "hello_world", "HelloWorld", "hello-world",
          "  padded  ", "a1b2c3", "UPPER CASE", "über straße", "x" * 40, "line1\nline2", "3.5"),
    bytes: (b"", b"a", b"\x00\xff", b"hello"),
    complex: (0j, 1 + 2j),
}
_UNKNOWN: tuple[Any, ...] = ("", "a", "hello world", "Hello_World", "a,b;c", 0, 1, -1, 5, 100, 2.5, True, None, [], [1, 2, 3],
            [3, 1, 2, 1], ["a", "b"], (1, 2), {"a": 1, "b": 2}, {})


def boundary_values(t: Any) -> tuple[Any, ...]:
    """Boundary values of type ``t`` (containers of the element type's first values)."""
    if t in _BOUNDARY:
        return _BOUNDARY[t]
    if t is decimal.Decimal:
        return (decimal.Decimal(0), decimal.Decimal("1.5"), decimal.Decimal("-2.25"))
    if t is fractions.Fraction:
        return (fractions.Fraction(0), fractions.Fraction(1, 3), fractions.Fraction(-7, 2))
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if t is None or t is type(None):
        return (None,)
    if origin is typing.Union or (origin is not None and type(t).__name__ == "UnionType"):
        return tuple(v for a in args for v in boundary_values(a)[:6])
    if t in (list, set, frozenset, tuple) or origin in (list, set, frozenset, tuple) or (
            origin is not None and getattr(origin, "__name__", "") in ("Sequence", "Iterable")):
        elem = args[0] if args and args[0] is not Ellipsis else int
        items = [v for v in boundary_values(elem) if v is not None][:5] or [0, 1, 2]
        make = origin if origin in (list, set, frozenset, tuple) else (t if t in (list, set, frozenset, tuple) else list)
        if make is tuple and args and len(args) > 1 and args[1] is not Ellipsis:
            return (tuple(boundary_values(a)[1] if len(boundary_values(a)) > 1 else None for a in args),)
        rows = [[], items[:1], items[:3], list(reversed(items[:4])), items[:2] * 2]
        return tuple(make(r) for r in rows)
    if t is dict or origin is dict or (origin is not None and getattr(origin, "__name__", "") == "Mapping"):
        kt, vt = (args + (str, int))[:2] if args else (str, int)
        keys = [k for k in boundary_values(kt) if k is not None][:3] or ["a", "b", "c"]
        vals = [v for v in boundary_values(vt) if v is not None][:3] or [1, 2, 3]
        return ({}, {keys[0]: vals[0]}, dict(zip(keys, vals, strict=False)))
    return _UNKNOWN


# ---- Hypothesis


def _strategy(t: Any, st: Any) -> Any:
    """A Hypothesis strategy for ``t`` that keeps values readable: integers within a million,
    finite floats, strings of printable Latin characters up to 24 long, small containers;
    built by hand for the built-in types and their generics, ``from_type`` for the rest."""
    origin, args = typing.get_origin(t), typing.get_args(t)
    simple = {
        int: st.integers(-10**6, 10**6), float: st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
        str: st.text(st.characters(min_codepoint=32, max_codepoint=0x24F, exclude_categories=("Cc", "Cf", "Cs")),
                     max_size=24),
        bool: st.booleans(), bytes: st.binary(max_size=16), type(None): st.none(),
    }
    if t in simple:
        return simple[t]
    if t in (list, set, frozenset, tuple, dict):
        return _strategy(t[int] if t is not dict else dict[str, int], st)
    if origin is typing.Union or type(t).__name__ == "UnionType":
        return st.one_of(*(_strategy(a, st) for a in args))
    if origin in (list, set, frozenset) or getattr(origin, "__name__", "") in ("Sequence", "Iterable"):
        inner = _strategy(args[0] if args else int, st)
        make = {list: st.lists, set: st.sets, frozenset: st.frozensets}.get(origin, st.lists)
        return make(inner, max_size=8)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_strategy(args[0], st), max_size=6).map(tuple)
        return st.tuples(*(_strategy(a, st) for a in args))
    if origin is dict or getattr(origin, "__name__", "") == "Mapping":
        k, v = args if len(args) == 2 else (str, int)
        return st.dictionaries(_strategy(k, st), _strategy(v, st), max_size=6)
    return st.from_type(t)


def _hypothesis_values(t: Any, n: int) -> list[Any]:
    """``n`` values of type ``t`` drawn by Hypothesis (see :func:`_draw`)."""
    if t is None or t is typing.Any or n <= 0:
        return []
    try:
        from hypothesis import strategies as st
        from hypothesis.errors import HypothesisException
    except ImportError:
        return []
    try:
        strategy = _strategy(t, st)
    except (HypothesisException, TypeError, ValueError, NotImplementedError):
        return []
    return _draw(strategy, n)


def _draw(strategy: Any, n: int) -> list[Any]:
    """Up to ``n`` examples of ``strategy``; ``derandomize`` makes the draw the same on every
    run (the seed acts later, when rows are combined). A strategy that cannot draw gives none."""
    from hypothesis import HealthCheck, Phase, given, settings

    drawn: list[Any] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            collect()
    except Exception:  # noqa: BLE001 - a strategy that fails to draw gives no values
        return []
    return drawn


def _round_trips(value: Any) -> str | None:
    text = repr(value)
    if len(text) > 500:
        return None
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return text if back == value and type(back) is type(value) else None


# ---- objects of the module's own record classes


def record_classes(context_code: str) -> dict[str, list[tuple[str, str]]]:
    """The dataclasses, ``NamedTuple`` classes and ``namedtuple(...)`` types defined in
    ``context_code``: class name -> ``(field, annotation text)`` in order. Read from the
    source, never by running it."""
    try:
        tree = ast.parse(context_code)
    except SyntaxError:
        return {}
    out: dict[str, list[tuple[str, str]]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            is_record = any(_dotted_name(d).split(".")[-1] == "dataclass" for d in node.decorator_list) or any(
                _dotted_name(b).split(".")[-1] == "NamedTuple" for b in node.bases)
            if not is_record:
                continue
            fields = [(st.target.id, ast.unparse(st.annotation)) for st in node.body
                      if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) and st.value is None
                      and not ast.unparse(st.annotation).startswith(("ClassVar", "typing.ClassVar"))]
            if fields:
                out[node.name] = fields
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Call) and _dotted_name(node.value.func).split(".")[-1] == "namedtuple" \
                and len(node.value.args) >= 2:
            try:
                spec = ast.literal_eval(node.value.args[1])
            except (ValueError, SyntaxError, TypeError):
                continue
            names = spec.replace(",", " ").split() if isinstance(spec, str) else list(spec)
            if names and all(isinstance(n, str) and n.isidentifier() for n in names):
                out[node.targets[0].id] = [(n, "") for n in names]
    return out


def _dotted_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted_name(node.value)}.{node.attr}"
    return ""


def record_values(name: str, fields: Sequence[tuple[str, str]], rng: random.Random, n: int = 8) -> list[str]:
    """``n`` constructor calls ``Name(field=value, ...)`` of a record class, each field from
    the boundary values of its annotated type (as Hypothesis' ``builds`` would draw them,
    but written as source so that the call runs only in the sandbox)."""
    pools = []
    for _field, annotation in fields:
        t = _resolve(annotation) if annotation else None
        values = [text for v in boundary_values(t if t is not None else typing.Any)
                  if (text := _round_trips(v)) is not None]
        pools.append(values or ["None"])
    calls = []
    for k in range(n * 3):
        picks = [pool[0] if k == 0 else rng.choice(pool) for pool in pools]
        text = f"{name}(" + ", ".join(f"{f}={v}" for (f, _), v in zip(fields, picks, strict=True)) + ")"
        if text not in calls:
            calls.append(text)
        if len(calls) >= n:
            break
    return calls


# ---- the function's own constants


def _regex_values(pattern: str, n: int = 4) -> list[str]:
    try:
        from hypothesis import strategies as st

        strategy = st.from_regex(pattern, fullmatch=False, alphabet=st.characters(min_codepoint=32, max_codepoint=126)
                                 ).filter(lambda x: len(x) <= 40)
    except Exception:  # noqa: BLE001 - not a pattern Hypothesis reads
        return []
    return _draw(strategy, n)


def literal_values(source: str) -> dict[type, list[Any]]:
    """Values made from the constants of ``source`` (rules in the module docstring), by type."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    doc_nodes = {id(n.body[0].value) for n in ast.walk(tree)
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
                 and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    patterns = {id(n.args[0]) for n in ast.walk(tree) if isinstance(n, ast.Call) and n.args
                and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
                and n.func.value.id == "re"}
    strings: list[str] = []
    ints: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in doc_nodes:
            continue
        v = node.value
        if isinstance(v, str) and len(v) <= 40:
            if id(node) in patterns:
                strings.extend(_regex_values(v))
                strings.extend("ab" + x for x in _regex_values(v, 2))
            else:
                strings.extend([v, "ab" + v, v + "ab"])
        elif isinstance(v, int) and not isinstance(v, bool) and abs(v) < 10**12:
            ints.extend([v - 1, v, v + 1])
    return {str: list(dict.fromkeys(strings))[:30], int: list(dict.fromkeys(ints))[:20]}


# ---- combining


def make_inputs(fn: SourceFunction, sites: CallSites, *, seed: int = 0, max_inputs: int = 200,
                hypothesis_examples: int = 25) -> list[Input]:
    """Candidate inputs for ``fn`` (rules in the module docstring), deduplicated, capped."""
    rng = random.Random(f"{seed}:{fn.path}:{fn.name}")
    seen: set[str] = set()
    out: list[Input] = []

    def add(text: str, source: str) -> None:
        if text not in seen and len(out) < max_inputs:
            seen.add(text)
            out.append(Input(text, source))

    for item in _doctest_inputs(fn):
        add(item.args, item.source)
    site_calls = sites.get(fn.name)
    for text in site_calls:
        add(text, "callsite")

    types = param_types(fn, site_calls)
    params = [p for p in fn.params if p.kind in ("positional", "keyword", "varargs")]
    literals = literal_values(fn.source)
    records = record_classes(fn.context_code)
    pools: dict[str, list[tuple[str, str]]] = {}
    for p in params:
        t = types.get(p.name)
        pool: list[tuple[str, str]] = []
        record = p.annotation.strip().strip("'\"")
        if record in records:
            pools[p.name] = [(text, "boundary") for text in record_values(record, records[record], rng)]
            continue
        makers = ((literals.get(t, []) if t in (str, int) else [], "literal"), (boundary_values(t), "boundary"),
                  (_hypothesis_values(t, hypothesis_examples), "hypothesis"))
        for values, maker in makers:
            for v in values:
                written = _round_trips(v)
                if written is not None and all(written != x for x, _ in pool):
                    pool.append((written, maker))
        if p.default and all(p.default != x for x, _ in pool):
            pool.insert(0, (p.default, "boundary"))
        pools[p.name] = pool or [("None", "boundary")]

    def render(choice: dict[str, tuple[str, str]], omit: set[str]) -> tuple[str, str]:
        parts: list[str] = []
        sources: list[str] = []
        skipping = False
        for p in params:
            text, source = choice[p.name]
            if p.name in omit and p.default:
                skipping = True  # later positional arguments go by keyword
                continue
            sources.append(source)
            if p.kind == "keyword" or (skipping and p.kind == "positional"):
                parts.append(f"{p.name}={text}")
            else:
                parts.append(text)
        source = next((k for k in ("hypothesis", "boundary", "literal") if k in sources), "boundary")
        return ", ".join(parts), source

    if params:
        base = {p.name: pools[p.name][0] for p in params}
        defaults = {p.name for p in params if p.default}
        # one parameter at a time around the base row, defaults left out
        for p in params:
            for value in pools[p.name]:
                row = dict(base)
                row[p.name] = value
                add(*render(row, defaults - {p.name}))
        # seeded random rows, defaults sometimes given
        attempts = 0
        while len(out) < max_inputs and attempts < max_inputs * 3:
            attempts += 1
            row = {p.name: rng.choice(pools[p.name]) for p in params}
            omit = {n for n in defaults if rng.random() < 0.5}
            add(*render(row, omit))
    return out


def describe_param(p: Param) -> str:
    """``name: annotation = default`` as written."""
    text = p.name + (f": {p.annotation}" if p.annotation else "")
    return text + (f" = {p.default}" if p.default else "")
