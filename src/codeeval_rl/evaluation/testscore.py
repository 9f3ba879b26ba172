"""Level 3, tests: the weighted fraction of tests passed, from the trusted judge's per-test
verdicts (never from an exit code)::

    tests = sum(w_i * passed_i) / sum(w_i)      (w_i = TestCase.weight)

When every weight is 0 the plain fraction is used; no tests gives 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from codeeval_rl.errors import InputError
from codeeval_rl.types import TestCase, TestResult

__all__ = ["tests_score"]


def tests_score(tests: Sequence[TestCase], results: Sequence[TestResult]) -> float:
    """Weighted fraction of ``results`` passed; ``tests[i]`` gives the weight of ``results[i]``."""
    if len(tests) != len(results):
        raise InputError(f"{len(tests)} tests but {len(results)} results")
    if not tests:
        return 0.0
    total = sum(max(0.0, t.weight) for t in tests)
    if total <= 0:
        return sum(r.passed for r in results) / len(results)
    return sum(max(0.0, t.weight) for t, r in zip(tests, results) if r.passed) / total
