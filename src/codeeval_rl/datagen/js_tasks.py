"""JavaScript stages 4, 6 and 7 as pure functions: the test code of a frozen input, the choice
of tests by coverage, the prompt, and the tier. Nothing here runs code.

Test code (:func:`test_code`)
    Each test is one assert in a block, after the definitions of the helpers the function
    needs::

        if (typeof gcd === 'undefined') globalThis.gcd = function gcd(a, b) { ... };
        {
          const assert = require('assert');
          assert.deepStrictEqual(lcm(4, 6), 12);
        }

    The evaluator runs ``solution + "\\n" + code``, so a helper reaches the test program in
    one of two ways: the answer defines it (the reference solution does: it is the helpers and
    then the function), and then the guard sees it and defines nothing; or the answer is the
    function alone, and the guard defines the helper on ``globalThis`` before the asserts
    call the function. Function helpers come first (as hoisting made them available in the
    original), then classes and values in source order. The guard never declares a
    binding, so an answer that defines the helpers itself, with ``function``, ``const`` or
    ``let``, never meets a redeclaration error; nor does one that declares ``assert`` (the
    test's own ``assert`` lives in the block).

    Asserts: ``assert.deepStrictEqual(f(args), expected)``; for a generator
    ``[...f(args)]``; a result with non-integer numbers is compared within 1e-9 relative
    (:data:`FLOAT_TOLERANCE`, per number, through arrays and plain objects); an expected error
    is ``assert.throws(() => f(args), TypeError)`` for JavaScript error classes and helper
    classes, else ``assert.throws(() => f(args), { name: 'Name' })``. Messages are never
    compared.

Choosing tests (:func:`choose_tests`)
    Greedy by coverage: repeatedly the input that covers the most blocks not yet covered (ties:
    call sites, then defaults, boundaries, random inputs; then input order), until nothing adds
    a block; then inputs with results not seen yet, in the same order, up to ``max_tests``;
    then any others until :data:`MIN_TESTS`. The public tests (:func:`choose_public`) are
    :data:`PUBLIC_TESTS` short returning tests (call sites first, then in coverage order), with
    distinct results.

Tier (:func:`tier`)
    ``complexity`` = 1 + the branch points of the function (``if``, loops, ``case``, ``catch``,
    ``?:``, ``&&``, ``||``, ``??``); ``lines`` = its non-blank lines; ``blocks`` = its coverage
    blocks (helpers are given, so they do not count). ``easy`` when complexity <= 3 and lines <= 12; ``hard``
    when complexity >= 8, lines >= 40 or blocks >= 30; else ``medium``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from codeeval_rl.datagen.js_oracle import BUILTIN_ERRORS
from codeeval_rl.datagen.js_select import HelperDef, JsCandidate
from codeeval_rl.datagen.js_syntax import parse
from codeeval_rl.datagen.model import Frozen

__all__ = [
    "FLOAT_TOLERANCE",
    "MAX_EXAMPLE",
    "MIN_TESTS",
    "PUBLIC_TESTS",
    "TEST_NAMES",
    "TierMeasures",
    "category",
    "check_code",
    "choose_public",
    "choose_tests",
    "helper_preamble",
    "measures",
    "prompt",
    "rank_order",
    "test_code",
    "tier",
]

FLOAT_TOLERANCE = 1e-9
"""Relative tolerance (floor 1 on the scale) for results with non-integer numbers."""

MIN_TESTS = 5
"""A task needs at least this many tests (3 public, 2 or more hidden)."""

PUBLIC_TESTS = 3
"""Tests shown to the model."""

MAX_EXAMPLE = 300
"""A public test longer than this (as an example line) is left out of the prompt's examples."""

_SOURCE_RANK = {"callsite": 0, "default": 1, "boundary": 2, "random": 3}

TEST_NAMES = frozenset({"assert", "actual", "close"})
"""Names the test code binds around the call: a function with one of them cannot be called
from its tests."""

_CLOSE = ("const close = (a, b) => (typeof b === 'number'\n"
          "  ? typeof a === 'number' && (Object.is(a, b) || Math.abs(a - b) <= {tol} * Math.max(1, Math.abs(b)))\n"
          "  : Array.isArray(b)\n"
          "    ? Array.isArray(a) && a.length === b.length && b.every((x, i) => close(a[i], x))\n"
          "    : b !== null && typeof b === 'object'\n"
          "      ? a !== null && typeof a === 'object' && !Array.isArray(a)\n"
          "        && Object.keys(a).length === Object.keys(b).length\n"
          "        && Object.keys(b).every((k) => Object.prototype.hasOwnProperty.call(a, k) && close(a[k], b[k]))\n"
          "      : Object.is(a, b));\n")


# ---- test code -----------------------------------------------------------------------------------
def _call(entry: str, args: str, generator: bool) -> str:
    call = f"{entry}({args})"
    return f"[...{call}]" if generator else call


def check_code(entry: str, frozen: Frozen, generator: bool, helper_classes: Sequence[str] = ()) -> str:
    """The statements that check one frozen input (no ``require``: they also run in the
    mutation driver, where ``assert`` is given). Raises ValueError for an unusable input."""
    call = _call(entry, frozen.args, generator)
    if frozen.outcome == "raise":
        if frozen.value in BUILTIN_ERRORS or frozen.value in helper_classes:
            return f"assert.throws(() => {call}, {frozen.value});"
        return f"assert.throws(() => {call}, {{ name: {json.dumps(frozen.value)} }});"
    if frozen.outcome != "return":
        raise ValueError(f"input {frozen.args!r} has no usable result ({frozen.value})")
    if frozen.kind != "float":
        return f"assert.deepStrictEqual({call}, {frozen.value});"
    expected = frozen.value
    shown = json.dumps(f"expected about {expected}, got ")
    if expected[:1] not in "[{":
        return (f"const actual = {call};\n"
                f"if (!(typeof actual === 'number' && Math.abs(actual - {expected}) <= "
                f"{FLOAT_TOLERANCE} * Math.max(1, Math.abs({expected})))) {{\n"
                f"  assert.fail({shown} + String(actual));\n}}")
    return (_CLOSE.format(tol=FLOAT_TOLERANCE) + f"const actual = {call};\n"
            f"if (!close(actual, {expected})) {{\n  assert.fail({shown} + JSON.stringify(actual));\n}}")


def helper_preamble(helpers: Sequence[HelperDef]) -> str:
    """The guarded helper definitions (see the module docstring); empty without helpers."""
    ordered = [h for h in helpers if h.kind == "function"] + [h for h in helpers if h.kind != "function"]
    return "".join(f"if (typeof {h.name} === 'undefined') globalThis.{h.name} = {h.code};\n" for h in ordered)


def test_code(check: str, preamble: str = "") -> str:
    """A test's code: the helper preamble, then the check in a block with its own ``assert``."""
    body = "\n".join(f"  {line}" if line else line for line in check.split("\n"))
    return f"{preamble}{{\n  const assert = require('assert');\n{body}\n}}\n"


# ---- choosing tests ------------------------------------------------------------------------------
def rank_order(usable: Sequence[Frozen]) -> list[int]:
    """Indices of ``usable`` by preference: call sites, defaults, boundaries, random inputs;
    then input order."""
    return sorted(range(len(usable)), key=lambda i: (_SOURCE_RANK.get(usable[i].source, 9), i))


def choose_tests(usable: Sequence[Frozen], max_tests: int) -> list[int]:
    """Indices into ``usable`` of the tests to keep, in the order chosen (rules in the module
    docstring)."""
    order = [(i, usable[i]) for i in rank_order(usable)]
    chosen: list[int] = []
    covered: set[tuple[int, int]] = set()
    while len(chosen) < max_tests:
        best, gain = None, 0
        for i, f in order:
            if i in chosen:
                continue
            g = len(f.arcs - covered)
            if g > gain:
                best, gain = i, g
        if best is None:
            break
        chosen.append(best)
        covered |= usable[best].arcs
    results = {(usable[i].outcome, usable[i].value) for i in chosen}
    for i, f in order:
        if len(chosen) >= max_tests:
            break
        if i not in chosen and (f.outcome, f.value) not in results:
            chosen.append(i)
            results.add((f.outcome, f.value))
    for i, _ in order:
        if len(chosen) >= min(MIN_TESTS, max_tests):
            break
        if i not in chosen:
            chosen.append(i)
    return chosen


def choose_public(frozen: Sequence[Frozen], count: int = PUBLIC_TESTS) -> list[int]:
    """Indices of the tests to show (``frozen`` in test order): returning ones first, call
    sites first, short ones (60 characters or less) first, then in test order (the coverage
    order), each with a result not shown yet while there are such."""
    def key(i: int) -> tuple[bool, bool, bool, int]:
        f = frozen[i]
        return (f.outcome != "return", f.source != "callsite", len(f.args) + len(f.value) > 60, i)
    ranked = sorted(range(len(frozen)), key=key)
    chosen: list[int] = []
    shown: set[tuple[str, str]] = set()
    for i in ranked:
        if len(chosen) < count and (frozen[i].outcome, frozen[i].value) not in shown:
            chosen.append(i)
            shown.add((frozen[i].outcome, frozen[i].value))
    chosen += [i for i in ranked if i not in chosen][:count - len(chosen)]
    return sorted(chosen)


# ---- prompt --------------------------------------------------------------------------------------
def _example(entry: str, f: Frozen, generator: bool) -> str:
    call = _call(entry, f.args, generator)
    if f.outcome == "raise":
        return f"{call}  // throws {f.value}"
    approx = "about " if f.kind == "float" else ""
    return f"{call}  // returns {approx}{f.value}"


def prompt(cand: JsCandidate, public: Sequence[Frozen]) -> str:
    """The task text: an instruction, the function's doc comment and signature, the helpers it
    may call (their code is the task's context), examples from the public tests (those up to
    :data:`MAX_EXAMPLE` characters), and the answer format."""
    fn = cand.function
    parts = [f"Write the JavaScript function `{fn.name}` described below."]
    head = f"{fn.docstring}\n{fn.signature}" if fn.docstring else fn.signature
    parts.append(head)
    if cand.helper_defs:
        lines = []
        for h in cand.helper_defs:
            if h.kind == "function":
                lines.append(f"- {h.code.split('{', 1)[0].strip()}")
            elif h.kind == "class":
                lines.append(f"- class {h.name}")
            else:
                lines.append(f"- const {h.name}")
        parts.append("These helpers are already defined (their code is in the context); "
                     "call them rather than rewriting them:\n" + "\n".join(lines))
    examples = [_example(fn.name, f, cand.generator) for f in public]
    examples = [e for e in examples if len(e) <= MAX_EXAMPLE]
    if examples:
        parts.append("Examples:\n" + "\n".join(examples))
    parts.append(f"Answer with the complete function `{fn.name}` in one ```javascript block: "
                 "a plain script, without import or export.")
    return "\n\n".join(parts) + "\n"


# ---- tier and category ---------------------------------------------------------------------------
_BRANCHES = frozenset({"if_statement", "for_statement", "for_in_statement", "while_statement", "do_statement",
                       "switch_case", "catch_clause", "ternary_expression"})


@dataclass(frozen=True)
class TierMeasures:
    """The static measures a tier is read from."""

    complexity: int
    lines: int
    blocks: int


def measures(cand: JsCandidate, blocks: int) -> TierMeasures:
    """Cyclomatic complexity, non-blank lines and coverage blocks of the function itself (its
    helpers are given to the model, so they do not count)."""
    tree = parse(cand.function.source)
    complexity = 1
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type in _BRANCHES:
            complexity += 1
        elif n.type == "binary_expression":
            op = n.child_by_field_name("operator")
            if op is not None and op.type in ("&&", "||", "??"):
                complexity += 1
        stack.extend(n.children)
    lines = sum(1 for line in cand.function.source.splitlines() if line.strip())
    return TierMeasures(complexity, lines, blocks)


def tier(m: TierMeasures) -> str:
    """``easy``, ``medium`` or ``hard`` (thresholds in the module docstring)."""
    if m.complexity >= 8 or m.lines >= 40 or m.blocks >= 30:
        return "hard"
    if m.complexity <= 3 and m.lines <= 12:
        return "easy"
    return "medium"


def category(tests: Sequence[Frozen]) -> str:
    """What the function computes, read from its returned values: ``strings``, ``math``,
    ``arrays``, ``objects``, ``logic``, ``collections``, else ``general``."""
    counts: dict[str, int] = {}
    for f in tests:
        if f.outcome != "return":
            continue
        v = f.value
        if v.startswith('"'):
            c = "strings"
        elif v.startswith("["):
            c = "arrays"
        elif v.startswith("{"):
            c = "objects"
        elif v in ("true", "false"):
            c = "logic"
        elif v.startswith(("new Map", "new Set")):
            c = "collections"
        elif v[:1].isdigit() or v[:1] == "-" or v in ("NaN", "Infinity"):
            c = "math"
        else:
            continue
        counts[c] = counts.get(c, 0) + 1
    return max(sorted(counts), key=lambda c: counts[c]) if counts else "general"
