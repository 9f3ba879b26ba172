"""Mutants of a Python function, to measure how strong its tests are (stage 4).

A mutant is the function with one small fault, the kind a wrong solution has:

============  ==============================================================
operator      change
============  ==============================================================
``arith``     ``+``/``-``, ``*``/``/``, ``//``/``/``, ``%``/``//``, ``**``/``*``, ``<<``/``>>``, ``&``/``|``, ``^``/``|``
``compare``   ``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``is``/``is not``, ``in``/``not in``
``boolean``   ``and``/``or``, ``not x`` -> ``x``, ``if c`` -> ``if not c``
``constant``  an integer ``n`` -> ``n + 1`` (``1`` -> ``0``), a string -> another one (``''`` -> ``'X'``), ``True``/``False``
``statement`` an assignment, expression or ``augmented assignment`` -> ``pass``; ``return x`` -> ``return None``; ``break``/``continue``
============  ==============================================================

The docstring is never mutated, nor the arguments of a ``raise`` (an exception's message:
the tests check the exception's type, not its text, so such a mutant could never be killed). Mutants whose source equals the original's after
normalisation, or equals another mutant's, are dropped (a cheap filter for equivalent
mutants); the rest are sampled down to ``max_mutants``, spreading the sample over the
operators, with a seeded generator.

Why our own operators rather than a mutation-testing package: mutmut 3 rewrites whole files
into trampolines driven by its own pytest runner, and cosmic-ray needs a session database and
a configured test command; stage 4 needs only mutant *sources* of one function, to run
through the same sandbox harness that scores models. The operator set above is mutmut's core
set (operators, comparisons, constants, booleans, statement removal).
"""

from __future__ import annotations

import ast
import copy
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["Mutant", "mutants"]

_ARITH: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.LShift: ast.RShift, ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitOr, ast.MatMult: ast.Mult,
}
_COMPARE: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}


@dataclass(frozen=True)
class Mutant:
    """One mutant: the function's mutated source, the operator and the line it changed."""

    source: str
    operator: str
    line: int
    description: str


def _docstring_node(fn: ast.FunctionDef) -> ast.AST | None:
    if fn.body and isinstance(fn.body[0], ast.Expr) and isinstance(fn.body[0].value, ast.Constant) \
            and isinstance(fn.body[0].value.value, str):
        return fn.body[0].value
    return None


def _new_op(op_type: type) -> Callable[[ast.AST], None]:
    def apply(n: ast.AST) -> None:
        n.op = op_type()  # type: ignore[attr-defined]
    return apply


def _new_value(value: object) -> Callable[[ast.AST], None]:
    def apply(n: ast.AST) -> None:
        n.value = value  # type: ignore[attr-defined]
    return apply


def _negate(n: ast.AST) -> None:
    n.test = ast.UnaryOp(op=ast.Not(), operand=n.test)  # type: ignore[attr-defined]


def _sites(fn: ast.FunctionDef) -> Iterator[tuple[str, int, str, Callable[[ast.AST], None], ast.AST]]:
    """(operator, line, description, apply, node) for every mutation point of ``fn``'s body.
    ``apply`` mutates the node of a *copy* found at the same position."""
    doc = _docstring_node(fn)
    in_raise = {id(n) for r in ast.walk(fn) if isinstance(r, ast.Raise) for n in ast.walk(r)}
    for node in ast.walk(fn):
        if node is doc or id(node) in in_raise:
            continue
        line = getattr(node, "lineno", fn.lineno)
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _ARITH:
            new = _ARITH[type(node.op)]
            yield "arith", line, f"{type(node.op).__name__} -> {new.__name__}", _new_op(new), node
        elif isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in _COMPARE:
                    new = _COMPARE[type(op)]

                    def apply(n: ast.AST, k: int = k, new: type = new) -> None:
                        n.ops[k] = new()  # type: ignore[attr-defined]
                    yield "compare", line, f"{type(op).__name__} -> {new.__name__}", apply, node
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            yield "boolean", line, f"{type(node.op).__name__} -> {new.__name__}", _new_op(new), node
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield "boolean", line, "drop not", _new_op(ast.UAdd), node
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            yield "boolean", line, "negate condition", _negate, node
        elif isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                yield "constant", line, f"{v} -> {not v}", _new_value(not v), node
            elif isinstance(v, int):
                new_v = 0 if v == 1 else v + 1
                yield "constant", line, f"{v} -> {new_v}", _new_value(new_v), node
            elif isinstance(v, float):
                yield "constant", line, f"{v} -> {v + 1}", _new_value(v + 1), node
            elif isinstance(v, str) and not isinstance(getattr(node, "_parent", None), ast.JoinedStr):
                new_s = "X" if v == "" else ""
                yield "constant", line, f"{v[:10]!r} -> {new_s!r}", _new_value(new_s), node
        if isinstance(node, (ast.FunctionDef, ast.For, ast.While, ast.If, ast.With, ast.Try)) and node is not None:
            for field in ("body", "orelse", "finalbody"):
                stmts = getattr(node, field, None) or []
                for k, stmt in enumerate(stmts):
                    if stmt is getattr(doc, "_stmt", None):
                        continue
                    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)) and not (
                            isinstance(stmt, ast.Expr) and stmt.value is doc):
                        def drop(n: ast.AST, field: str = field, k: int = k) -> None:
                            getattr(n, field)[k] = ast.Pass()
                        yield "statement", stmt.lineno, "statement -> pass", drop, node
                    elif isinstance(stmt, ast.Return) and stmt.value is not None and not (
                            isinstance(stmt.value, ast.Constant) and stmt.value.value is None):
                        def ret_none(n: ast.AST, field: str = field, k: int = k) -> None:
                            getattr(n, field)[k].value = ast.Constant(value=None)
                        yield "statement", stmt.lineno, "return -> return None", ret_none, node
                    elif isinstance(stmt, (ast.Break, ast.Continue)):
                        def swap(n: ast.AST, field: str = field, k: int = k) -> None:
                            old = getattr(n, field)[k]
                            getattr(n, field)[k] = ast.Continue() if isinstance(old, ast.Break) else ast.Break()
                        yield "statement", stmt.lineno, "break <-> continue", swap, node


def _mark_fstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for value in node.values:
                value._parent = node  # type: ignore[attr-defined]


def mutants(source: str, *, max_mutants: int = 30, seed: int = 0) -> list[Mutant]:
    """Up to ``max_mutants`` distinct mutants of the single function in ``source`` (rules in
    the module docstring). Returns ``[]`` when ``source`` is not one parsable function."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    fns = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if len(fns) != 1:
        return []
    _mark_fstrings(tree)
    original = ast.unparse(tree)
    nodes = list(ast.walk(tree))
    found: dict[str, Mutant] = {}
    for operator, line, description, apply, node in _sites(fns[0]):  # type: ignore[arg-type]
        index = nodes.index(node)
        clone = copy.deepcopy(tree)
        target = list(ast.walk(clone))[index]
        try:
            apply(target)
            ast.fix_missing_locations(clone)
            text = ast.unparse(clone)
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError, AttributeError, IndexError, RecursionError):
            continue
        if text == original or text in found:
            continue
        found[text] = Mutant(text + "\n", operator, line, description)
    pool = list(found.values())
    if len(pool) <= max_mutants:
        return pool
    rng = random.Random(f"{seed}:mutants")
    by_op: dict[str, list[Mutant]] = {}
    for m in pool:
        by_op.setdefault(m.operator, []).append(m)
    for group in by_op.values():
        rng.shuffle(group)
    chosen: list[Mutant] = []
    while len(chosen) < max_mutants:  # round-robin over the operators
        for op in sorted(by_op):
            if by_op[op] and len(chosen) < max_mutants:
                chosen.append(by_op[op].pop())
    return sorted(chosen, key=lambda m: (m.line, m.operator, m.description))
