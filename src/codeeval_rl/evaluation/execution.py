"""Level 2, execution: graded by the class of the first failure, in the spirit of CodeRL
(Le et al., 2022: -1 compile error, -0.6 runtime error, -0.3 failed tests, +1 pass), moved
to [0, 1]::

    outcome         execution
    compile_error   0.0     (also: the source does not parse; a sandbox fault)
    runtime_error   0.4     (also: timeout, memory limit, output limit)
    wrong_answer    0.7     (ran cleanly, an output or assert was wrong)
    passed          1.0     (every selected test passed)

The outcome of a submission is ``passed`` when all its tests pass, else the outcome of its
first failing test (:func:`test_outcome`).

``missing_dependency`` (the runtime profile lacks a package the program imports) is not a
failure of the program: such a sample is *unjudged* (:data:`UNJUDGED_OUTCOMES`). Evaluation
leaves it out of pass@k and the mean reward, and training gives it a neutral reward
(:func:`~codeeval_rl.evaluation.rewards.neutral_rewards`), unless the user counts it as the
program's failure (``--missing-dependency-fails``); then it scores as a runtime error, the
row below.
"""

from __future__ import annotations

from collections.abc import Sequence

from codeeval_rl.types import Status, TestResult

__all__ = ["EXECUTION_SCORES", "UNJUDGED_OUTCOMES", "execution_score", "is_judged", "submission_outcome",
           "test_outcome"]

EXECUTION_SCORES: dict[str, float] = {
    "compile_error": 0.0,
    "sandbox_error": 0.0,
    "runtime_error": 0.4,
    "timeout": 0.4,
    "memory_limit": 0.4,
    "output_limit": 0.4,
    "missing_dependency": 0.4,  # used only when counted as the program's failure (see above)
    "wrong_answer": 0.7,
    "passed": 1.0,
}
"""Outcome -> execution score (one table; a new class is one row)."""


def test_outcome(result: TestResult) -> str:
    """``passed``, ``wrong_answer`` (ran OK, wrong result) or the failing run's status."""
    if result.passed:
        return "passed"
    if result.execution.status is Status.OK:
        return "wrong_answer"
    return result.execution.status.value


def submission_outcome(results: Sequence[TestResult]) -> str:
    """``passed`` when every test passed, else the outcome of the first failing test."""
    for r in results:
        if not r.passed:
            return test_outcome(r)
    return "passed"


UNJUDGED_OUTCOMES: frozenset[str] = frozenset({"missing_dependency"})
"""Outcomes that say nothing about the program: the run could not judge it."""


def is_judged(outcome: str, missing_dependency_fails: bool = False) -> bool:
    """Whether a sample with ``outcome`` counts (pass@k, mean reward, training signal);
    ``missing_dependency_fails``: the user counts a missing package as the program's failure."""
    return missing_dependency_fails or outcome not in UNJUDGED_OUTCOMES


def execution_score(outcome: str) -> float:
    """The score of ``outcome`` from :data:`EXECUTION_SCORES` (unknown outcomes: 0)."""
    return EXECUTION_SCORES.get(outcome, 0.0)
