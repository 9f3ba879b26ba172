"""JavaScript stage 5, the mutants: small faults put into a function's text, one at a time,
at tree-sitter nodes (never in comments or strings that are not literals).

Operators (:data:`OPERATORS` names them):

* ``arithmetic``: ``+``<->``-``, ``*``<->``/``, ``%`` and ``**`` -> ``*``, bitwise ``&``<->``|``,
  ``^`` -> ``&``, ``<<``<->``>>``, ``>>>`` -> ``>>``; and ``+=``<->``-=``, ``*=``<->``/=``,
  ``%=`` -> ``*=``; ``++``<->``--``.
* ``comparison``: ``<``<->``<=``, ``>``<->``>=``, ``===``<->``!==``, ``==``<->``!=``.
* ``logical``: ``&&``<->``||``, ``??`` -> ``||`` (and their ``=`` forms).
* ``negation``: drop a unary ``!`` or ``-``; negate the condition of an ``if`` or of ``?:``.
* ``constant``: a number ``0`` -> ``1``, ``1`` -> ``0``, ``n`` -> ``n + 1``; ``true``<->``false``;
  a string ``''`` -> ``'x'``, any other string -> ``''`` (not inside ``throw``: messages are not
  tested, so those mutants would all survive).
* ``statement``: an expression statement, ``break`` or ``continue`` becomes ``;``; ``return e``
  becomes ``return undefined``.
* ``call``: ``Math.min``<->``Math.max``, ``Math.floor``<->``Math.ceil``, ``Math.round`` ->
  ``Math.floor``, ``Math.trunc`` -> ``Math.round``, and paired methods (``toLowerCase``<->
  ``toUpperCase``, ``some``<->``every``, ``startsWith``<->``endsWith``, ``indexOf``<->
  ``lastIndexOf``, ``padStart``<->``padEnd``, ``trimStart``<->``trimEnd``, ``push``<->``unshift``,
  ``shift``<->``pop``, ``find``<->``findLast``, ``findIndex``<->``findLastIndex``); the first two
  arguments of a call swapped (``f(a, b)`` -> ``f(b, a)``; not for ``Math.min``, ``Math.max``
  and ``Math.hypot``, where it changes nothing).

Every mutant parses (checked with tree-sitter) and differs from the original and from every
other mutant. :func:`mutants` keeps at most ``cap`` of them, a seeded sample in source order.
A mutant that behaves exactly like the original (an *equivalent* mutant) cannot be told
apart; it counts as a survivor, which the 0.8 default target allows for.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from codeeval_rl.datagen.js_syntax import parse

__all__ = ["OPERATORS", "Mutant", "all_mutants", "mutants"]

OPERATORS = ("arithmetic", "comparison", "logical", "negation", "constant", "statement", "call")

_BINARY = {
    "+": ("-", "arithmetic"), "-": ("+", "arithmetic"), "*": ("/", "arithmetic"), "/": ("*", "arithmetic"),
    "%": ("*", "arithmetic"), "**": ("*", "arithmetic"), "&": ("|", "arithmetic"), "|": ("&", "arithmetic"),
    "^": ("&", "arithmetic"), "<<": (">>", "arithmetic"), ">>": ("<<", "arithmetic"), ">>>": (">>", "arithmetic"),
    "<": ("<=", "comparison"), "<=": ("<", "comparison"), ">": (">=", "comparison"), ">=": (">", "comparison"),
    "===": ("!==", "comparison"), "!==": ("===", "comparison"), "==": ("!=", "comparison"),
    "!=": ("==", "comparison"),
    "&&": ("||", "logical"), "||": ("&&", "logical"), "??": ("||", "logical"),
}
_MATH_SWAPS = {"min": "max", "max": "min", "floor": "ceil", "ceil": "floor", "round": "floor", "trunc": "round"}
_METHOD_SWAPS = {
    "toLowerCase": "toUpperCase", "toUpperCase": "toLowerCase", "some": "every", "every": "some",
    "startsWith": "endsWith", "endsWith": "startsWith", "indexOf": "lastIndexOf", "lastIndexOf": "indexOf",
    "trimStart": "trimEnd", "trimEnd": "trimStart", "padStart": "padEnd", "padEnd": "padStart",
    "shift": "pop", "pop": "shift", "push": "unshift", "unshift": "push", "find": "findLast",
    "findLast": "find", "findIndex": "findLastIndex", "findLastIndex": "findIndex",
}
_AUGMENTED = {
    "+=": ("-=", "arithmetic"), "-=": ("+=", "arithmetic"), "*=": ("/=", "arithmetic"),
    "/=": ("*=", "arithmetic"), "%=": ("*=", "arithmetic"), "&&=": ("||=", "logical"),
    "||=": ("&&=", "logical"), "??=": ("||=", "logical"),
}


@dataclass(frozen=True)
class Mutant:
    """One fault: ``operator`` (one of :data:`OPERATORS`), the 1-based ``line`` within the
    function, the text replaced (``before``) and its replacement (``after``), and the whole
    mutated function (``source``)."""

    operator: str
    line: int
    before: str
    after: str
    source: str


def _number_plus_one(text: str) -> str | None:
    clean = text.replace("_", "")
    if clean.endswith("n"):
        try:
            return f"{int(clean[:-1], 0) + 1}n"
        except ValueError:
            return None
    if clean in ("0", "0.0"):
        return "1"
    if clean in ("1", "1.0"):
        return "0"
    try:
        return str(int(clean, 0) + 1)
    except ValueError:
        pass
    try:
        value = float(clean) + 1
    except ValueError:
        return None
    return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


_COMMUTATIVE = frozenset({"Math.min", "Math.max", "Math.hypot"})


def _commutative(call) -> bool:  # type: ignore[no-untyped-def]
    """Calls whose first two arguments commute: swapping them makes an equivalent mutant."""
    fn = call.child_by_field_name("function")
    return fn is not None and "".join(fn.text.decode("utf-8").split()) in _COMMUTATIVE


def _in_throw(node) -> bool:  # type: ignore[no-untyped-def]
    """Inside a ``throw`` statement: error messages are not tested, so mutating them only
    makes equivalent mutants."""
    while node is not None:
        if node.type == "throw_statement":
            return True
        node = node.parent
    return False


def _is_key(node) -> bool:  # type: ignore[no-untyped-def]
    parent = node.parent
    return parent is not None and parent.type == "pair" and parent.child_by_field_name("key") == node


def _edits(source: bytes):  # type: ignore[no-untyped-def]
    """(start, end, replacement, operator) edits, in source order."""
    tree = parse(source.decode("utf-8"))
    out: list[tuple[int, int, str, str]] = []
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        t = n.type
        if t == "comment":
            continue
        if t == "binary_expression":
            op = n.child_by_field_name("operator")
            if op is not None and op.type in _BINARY:
                new, kind = _BINARY[op.type]
                out.append((op.start_byte, op.end_byte, new, kind))
        elif t == "augmented_assignment_expression":
            op = n.child_by_field_name("operator")
            if op is not None and op.type in _AUGMENTED:
                new, kind = _AUGMENTED[op.type]
                out.append((op.start_byte, op.end_byte, new, kind))
        elif t == "update_expression":
            op = n.child_by_field_name("operator")
            if op is not None and op.type in ("++", "--"):
                out.append((op.start_byte, op.end_byte, "--" if op.type == "++" else "++", "arithmetic"))
        elif t == "unary_expression":
            op = n.child_by_field_name("operator")
            if op is not None and op.type in ("!", "-"):
                out.append((op.start_byte, op.end_byte, "", "negation"))
        elif t in ("if_statement", "while_statement"):
            cond = n.child_by_field_name("condition")
            if cond is not None and cond.type == "parenthesized_expression":
                inner = cond.text.decode("utf-8")[1:-1]
                out.append((cond.start_byte, cond.end_byte, f"(!({inner}))", "negation"))
        elif t == "ternary_expression":
            cond = n.child_by_field_name("condition")
            if cond is not None:
                out.append((cond.start_byte, cond.end_byte, f"!({cond.text.decode('utf-8')})", "negation"))
        elif t == "number":
            bumped = _number_plus_one(n.text.decode("utf-8"))
            if bumped is not None:
                out.append((n.start_byte, n.end_byte, bumped, "constant"))
        elif t in ("true", "false"):
            out.append((n.start_byte, n.end_byte, "false" if t == "true" else "true", "constant"))
        elif t == "member_expression" and n.parent is not None and n.parent.type == "call_expression" \
                and n.parent.child_by_field_name("function") == n:
            prop = n.child_by_field_name("property")
            obj = n.child_by_field_name("object")
            name = prop.text.decode("utf-8") if prop is not None else ""
            owner = obj.text.decode("utf-8") if obj is not None else ""
            swap = _MATH_SWAPS.get(name) if owner == "Math" else _METHOD_SWAPS.get(name)
            if prop is not None and swap is not None:
                out.append((prop.start_byte, prop.end_byte, swap, "call"))
        elif t == "arguments" and n.parent is not None and n.parent.type in ("call_expression", "new_expression") \
                and not _commutative(n.parent):
            args = [c for c in n.named_children if c.type != "comment"]
            if len(args) >= 2 and args[0].type != "spread_element" and args[1].type != "spread_element" \
                    and args[0].text != args[1].text and not _in_throw(n):
                a, b = args[0].text.decode("utf-8"), args[1].text.decode("utf-8")
                out.append((args[0].start_byte, args[1].end_byte, f"{b}, {a}", "call"))
        elif t == "string" and not _is_key(n) and not _in_throw(n):
            text = n.text.decode("utf-8")
            quote = text[0]
            out.append((n.start_byte, n.end_byte, f"{quote}x{quote}" if len(text) == 2 else f"{quote}{quote}",
                        "constant"))
        elif t in ("expression_statement", "break_statement", "continue_statement") \
                and n.parent is not None and n.parent.type != "program":
            out.append((n.start_byte, n.end_byte, ";", "statement"))
        elif t == "return_statement":
            value = [c for c in n.named_children if c.type != "comment"]
            if value and value[0].text.decode("utf-8") != "undefined":
                out.append((n.start_byte, n.end_byte, "return undefined;", "statement"))
        stack.extend(reversed(n.children))
    return out


def all_mutants(source: str) -> tuple[Mutant, ...]:
    """Every distinct, parseable mutant of ``source`` (a function's text), in source order."""
    data = source.encode("utf-8")
    seen = {source}
    out: list[Mutant] = []
    for start, end, new, kind in _edits(data):
        mutated = (data[:start] + new.encode("utf-8") + data[end:]).decode("utf-8")
        if mutated in seen:
            continue
        seen.add(mutated)
        if parse(mutated).root_node.has_error:
            continue
        line = data[:start].count(b"\n") + 1
        before = data[start:end].decode("utf-8")
        out.append(Mutant(kind, line, re.sub(r"\s+", " ", before)[:80], new, mutated))
    return tuple(out)


def mutants(source: str, *, seed: int, cap: int = 30) -> tuple[Mutant, ...]:
    """At most ``cap`` mutants of ``source``: all when there are few enough, else a
    ``random.Random(seed)`` sample kept in source order."""
    every = all_mutants(source)
    if len(every) <= cap:
        return every
    keep = sorted(random.Random(seed).sample(range(len(every)), cap))
    return tuple(every[i] for i in keep)
