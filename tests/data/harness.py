"""A minimal judge for the data tests, independent of the evaluation engine.

An ``assert`` test passes when ``solution + "\\n" + test.code`` runs to status ok in the
task's language; an ``io`` test passes when the program runs ok on the test's stdin and its
stdout matches under the test's compare mode (:func:`codeeval_rl.data.compare.compare_output`).
"""

from __future__ import annotations

from codeeval_rl.data import compare_output
from codeeval_rl.sandbox import Limits, Program
from codeeval_rl.types import ExecutionResult, Task, TestCase

__all__ = ["passed", "program_for", "run_items"]


def program_for(task: Task, solution: str, test: TestCase) -> Program:
    if test.kind == "assert":
        return Program(task.language, solution + "\n" + test.code)
    return Program(task.language, solution, stdin=test.stdin)


def passed(test: TestCase, result: ExecutionResult) -> bool:
    if not result.ok:
        return False
    return test.kind == "assert" or compare_output(test.compare, test.expected_stdout, result.stdout)


def run_items(sandbox, items: list[tuple[Task, str]], limits: Limits) -> list[list[tuple[TestCase, ExecutionResult]]]:
    """Run every test of every (task, solution); per item the (test, result) pairs.

    One batch, ordered test-major (every solution's first test, then every second test...)
    so the two workers never compile the same source at the same moment: by the time a
    solution's second test runs its build is in the compile cache.
    """
    order = sorted(((j, i) for i, (task, _) in enumerate(items) for j in range(len(task.tests))))
    programs = [program_for(items[i][0], items[i][1], items[i][0].tests[j]) for j, i in order]
    results = sandbox.run_many(programs, limits)
    by_item: list[dict[int, ExecutionResult]] = [{} for _ in items]
    for (j, i), result in zip(order, results):
        by_item[i][j] = result
    return [[(t, by_item[i][j]) for j, t in enumerate(task.tests)] for i, (task, _) in enumerate(items)]
