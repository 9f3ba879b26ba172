"""The built-in library: its shape, and every reference passing / every known-wrong solution
failing in the real sandbox.

Uses the minimal judge of :mod:`tests.data.harness`, independent of the evaluation engine.
"""

from __future__ import annotations

from collections import Counter

import pytest

from codeeval_rl.data import builtin_library, known_wrong_solutions, library_summary
from codeeval_rl.errors import InputError
from codeeval_rl.sandbox import Limits
from codeeval_rl.types import Task
from tests.data.harness import passed as _passed
from tests.data.harness import run_items as _run

LANGS = ("python", "javascript", "java", "cpp", "rust")


# ---- shape (no sandbox) ---------------------------------------------------------------------

def test_library_size_languages_tiers_categories() -> None:
    tasks = builtin_library()
    assert len(tasks) >= 60
    by_lang = Counter(t.language for t in tasks)
    assert set(by_lang) == set(LANGS)
    assert min(by_lang.values()) >= 8
    assert {t.tier for t in tasks} == {"easy", "medium", "hard"}
    assert {"strings", "math", "data_structures", "algorithms", "parsing"} <= {t.category for t in tasks}
    assert len({t.id for t in tasks}) == len(tasks)
    summary = library_summary()
    assert sum(summary["language"].values()) == len(tasks) == sum(summary["tier"].values())


@pytest.mark.parametrize("task", builtin_library(), ids=lambda t: t.id)
def test_task_conventions(task: Task) -> None:
    assert task.prompt.strip() and task.reference_solution.strip()
    assert len(task.tests) >= 5
    assert 1 <= len(task.public_test_ids) <= 2 and task.hidden_tests
    assert task.provenance.get("source") and task.provenance.get("licence")
    assert known_wrong_solutions(task.id), "every task ships at least one known-wrong solution"
    if task.language == "python":
        assert task.entry_point.isidentifier()
        assert all(t.kind == "assert" for t in task.tests)
        assert task.entry_point in task.prompt
    else:
        assert all(t.kind == "io" for t in task.tests)
        assert "input" in task.prompt.lower()
    if task.language == "java":
        assert "public class Main" in task.reference_solution
    if task.language == "javascript":
        assert "readFileSync(0" in task.reference_solution
    for public in task.public_tests:  # the public tests are shown in the prompt
        shown = public.code if public.kind == "assert" else public.expected_stdout.strip()
        assert shown in task.prompt


def test_filters_and_unknown_values() -> None:
    easy_py = builtin_library(language="python", tier="easy")
    assert easy_py and all(t.language == "python" and t.tier == "easy" for t in easy_py)
    assert all(t.category == "parsing" for t in builtin_library(category="parsing"))
    with pytest.raises(InputError, match="unknown library tier 'expert'.*easy, medium, hard"):
        builtin_library(tier="expert")
    with pytest.raises(InputError, match="no library task"):
        known_wrong_solutions("lib/python/nope")


# ---- behaviour in the real sandbox ------------------------------------------------------------

def test_references_pass_and_wrong_solutions_fail(sandbox) -> None:
    tasks = builtin_library()
    # References get a generous limit (compiles are cached, but a cold JVM on a loaded
    # 2-core machine is slow); wrong solutions may loop, so they get a short one.
    refs = _run(sandbox, [(t, t.reference_solution) for t in tasks], Limits(wall_time_s=10, memory_mb=512))
    problems = []
    for task, pairs in zip(tasks, refs):
        for test, result in pairs:
            if not _passed(test, result):
                problems.append(f"{task.id} reference fails {test.id}: {result.status} {result.reason} "
                                f"stdout={result.stdout[:200]!r} stderr={(result.stderr or result.compile_output)[-300:]!r}")
    wrong_items = [(t, w) for t in tasks for w in known_wrong_solutions(t.id)]
    outcomes = _run(sandbox, wrong_items, Limits(wall_time_s=2, memory_mb=512))
    for (task, _), pairs in zip(wrong_items, outcomes):
        if all(_passed(test, result) for test, result in pairs):
            problems.append(f"{task.id}: a known-wrong solution passes every test")
        compile_failed = any(r.status.value == "compile_error" for _, r in pairs)
        if compile_failed:
            problems.append(f"{task.id}: a known-wrong solution does not even compile (it must fail on behaviour)")
    assert not problems, "\n".join(problems)
