"""Stage 4's pure parts: mutants of one function, and the choice of tests."""

from __future__ import annotations

import ast

from codeeval_rl.datagen.model import Frozen
from codeeval_rl.datagen.mutation import mutants
from codeeval_rl.datagen.testgen import add_for_mutants, choose_by_coverage, choose_public, frozen_test_code

SOURCE = '''def clamp(value, low, high):
    """Limit value to [low, high]; 0 < 1 here is documentation."""
    if low > high:
        raise ValueError("low > high")
    total = 0
    for _ in range(3):
        total += 1
        if total > 5:
            break
    return max(low, min(value, high)) and not False
'''


def test_every_operator_gives_distinct_compilable_mutants_and_spares_docstring_and_messages():
    muts = mutants(SOURCE, max_mutants=500)
    ops = {m.operator for m in muts}
    assert ops == {"arith", "compare", "boolean", "constant", "statement"}
    texts = [m.source for m in muts]
    assert len(texts) == len(set(texts))
    original = ast.unparse(ast.parse(SOURCE))
    for text in texts:
        compile(text, "<m>", "exec")
        assert text.strip() != original.strip()
        assert "0 < 1 here is documentation" in text  # the docstring is never mutated
        assert 'ValueError("low > high")' in text or "ValueError('low > high')" in text
    assert any("break" not in t and "continue" in t for t in texts)
    assert any("return None" in t for t in texts)


def test_mutants_are_a_seeded_sample_spread_over_operators():
    a = mutants(SOURCE, max_mutants=6, seed=1)
    assert a == mutants(SOURCE, max_mutants=6, seed=1)
    assert len(a) == 6 and len({m.operator for m in a}) >= 4
    assert mutants("x = 1\n") == [] and mutants("def f(:\n") == []


def _frozen(args: str, value: str, arcs: set[tuple[int, int]], outcome: str = "return", source: str = "boundary"):
    return Frozen(args=args, outcome=outcome, value=value, arcs=frozenset(arcs), source=source)  # type: ignore[arg-type]


def test_choice_by_coverage_is_greedy_then_new_results_then_filled():
    pool = [
        _frozen("1", "1", {(1, 2)}),
        _frozen("2", "2", {(1, 2), (2, 3), (3, 4)}),
        _frozen("3", "3", {(2, 3)}),
        _frozen("4", "ValueError", {(1, 5)}, "raise"),
        _frozen("5", "2", set()),
        _frozen("6", "7", set()),
    ]
    chosen = choose_by_coverage(pool, max_tests=4)
    assert chosen[:2] == [1, 3]  # most new arcs first
    assert 5 in chosen and 4 not in chosen  # a new value beats a repeated one
    assert len(chosen) == 4
    assert len(choose_by_coverage(pool[:1] * 1 + [_frozen("9", "1", set())], max_tests=5, min_tests=2)) == 2


def test_tests_are_added_for_surviving_mutants_until_the_target():
    kills = [frozenset({0}), frozenset({1, 2}), frozenset({2}), frozenset({3})]
    assert add_for_mutants([0], kills, n_mutants=4, target=0.75, max_tests=10) == [0, 1]
    assert add_for_mutants([0], kills, n_mutants=4, target=1.0, max_tests=2) == [0, 1]
    assert add_for_mutants([0], kills, n_mutants=5, target=1.0, max_tests=10) == [0, 1, 3]


def test_public_tests_prefer_doctests_and_the_test_code_forms():
    pool = [_frozen("'a'", "'A'", set()), _frozen("'b'", "'B'", set(), source="doctest"),
            _frozen("''", "ValueError", set(), "raise")]
    assert choose_public(pool, [0, 1, 2], n=2) == [1, 0]
    ns: dict = {}
    exec("def up(s):\n    if not s:\n        raise ValueError\n    return s.upper()\n", ns)
    for f in pool:
        exec(frozen_test_code("up", f), dict(ns))
    floats = Frozen(args="1", outcome="return", value="0.30000000000000004", kind="float")
    exec(frozen_test_code("third", floats), {"third": lambda x: 0.1 + 0.2})
    listed = Frozen(args="3", outcome="return", value="[0, 1, 2]", kind="iterable")
    exec(frozen_test_code("gen", listed), {"gen": lambda n: iter(range(n))})
    wrong = Frozen(args="''", outcome="raise", value="KeyError")
    try:
        exec(frozen_test_code("up", wrong), dict(ns))
    except ValueError:
        pass
    else:
        raise AssertionError("a different exception must fail the test")
