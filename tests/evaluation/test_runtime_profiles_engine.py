"""Runtime profiles and ``missing_dependency`` in the evaluation engine itself: the Evaluator
runs each task's programs in its ``runtime`` (or the settings' ``profile``), reports the
packages a profile lacks, and gives such samples a neutral reward unless the settings say
``missing_dependency: fail``; every caller (Python API, TRL and veRL rewards, the CLI) gets it."""

from __future__ import annotations

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import InputError
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.evaluation.execution import execution_score
from codeeval_rl.sandbox import FakeSandbox
from codeeval_rl.sandbox import profiles as P
from codeeval_rl.types import ExecutionResult, Program, Status, Task, TestCase

IO = (TestCase(kind="io", stdin="", expected_stdout="3\n", id="t0"),)


def _task(tid: str = "t", runtime: str = "", language: str = "python") -> Task:
    return Task(id=tid, language=language, prompt="", tests=IO, runtime=runtime)


def _responder(program: Program, limits: object) -> ExecutionResult:
    if "import numpy" in program.source and program.runtime != "python-datascience":
        return ExecutionResult(status=Status.MISSING_DEPENDENCY, exit_code=1, missing=("numpy",),
                               reason="needs numpy: not installed (no runtime profile chosen)")
    out = "3\n" if "print(3)" in program.source or "log(3)" in program.source else "4\n"
    return ExecutionResult(status=Status.OK, exit_code=0, stdout=out)


GOOD, WRONG, NEEDS = "print(3)\n", "print(4)\n", "import numpy\nprint(3)\n"


def test_programs_run_in_the_tasks_runtime_else_the_settings_profile() -> None:
    fake = FakeSandbox(_responder)
    ev = Evaluator(EvaluationSettings(profile="python-datascience"), fake)
    own = _task("own", runtime="python-stdlib")
    js = _task("js", language="javascript")
    results = ev.evaluate_many([(_task("plain"), NEEDS), (own, NEEDS), (js, "console.log(3)\n")])
    assert [p.runtime for p, _ in fake.calls] == ["python-datascience", "python-stdlib", ""]
    assert results[0].passed and results[0].judged
    assert results[1].outcome == "missing_dependency" and results[1].missing == ("numpy",)
    assert ev.runtime_of(own) == "python-stdlib" and ev.runtime_of(js) == ""
    assert Evaluator(None, fake).runtime_of(_task()) == ""


def test_a_runtime_of_another_language_is_bad_input() -> None:
    ev = Evaluator(None, FakeSandbox(_responder))
    with pytest.raises(InputError, match="'node' is for javascript"):
        ev.evaluate(_task(runtime="node"), GOOD)
    with pytest.raises(Exception, match="unknown runtime profile"):
        EvaluationSettings(profile="python-gpu")


def test_missing_dependency_is_neutral_by_default_and_reported_last() -> None:
    ev = Evaluator(EvaluationSettings(shaping="binary"), FakeSandbox(_responder))
    a, b = _task("A"), _task("B")
    seen: list[tuple[int, float]] = []
    results = ev.evaluate_many([(a, GOOD), (a, NEEDS), (a, WRONG), (b, NEEDS), (a, GOOD)],
                               on_result=lambda i, r: seen.append((i, r.reward.total)))
    assert [r.reward.total for r in results] == [1.0, 2 / 3, 0.0, 0.0, 1.0]  # A: mean of 1, 0, 1
    assert [r.judged for r in results] == [True, False, True, False, True]
    assert results[1].missing == ("numpy",) and results[1].status is Status.MISSING_DEPENDENCY
    assert results[1].to_dict()["missing"] == ["numpy"] and results[1].to_dict()["judged"] is False
    assert sorted(seen) == [(n, r.reward.total) for n, r in enumerate(results)]
    assert {i for i, _ in seen[-2:]} == {1, 3}  # the unjudged ones once the batch's rewards are known


def test_missing_dependency_fail_scores_a_runtime_error() -> None:
    ev = Evaluator(EvaluationSettings(missing_dependency="fail"), FakeSandbox(_responder))
    r = ev.evaluate(_task(), NEEDS)
    assert r.judged and r.missing == ("numpy",) and r.outcome == "missing_dependency"
    assert r.reward.components["execution"] == execution_score("runtime_error")


# ---- the real sandbox and the built python-datascience profile ---------------------------------
@pytest.fixture(scope="module")
def datascience() -> None:
    try:
        P.load_profile("python-datascience")
    except InputError:
        P.build_profile("python-datascience")  # wheels from PyPI, once; later runs reuse it


ASSERTS = (TestCase(kind="assert", code="assert total([1, 2]) == 3", id="t0"),
           TestCase(kind="assert", code="assert total([]) == 0", id="t1"))
NUMPY_TOTAL = "import numpy as np\ndef total(xs):\n    return int(np.asarray(xs, dtype=int).sum())\n"


def test_the_evaluator_runs_numpy_in_python_datascience(sandbox, datascience) -> None:
    ds = Task(id="ds", language="python", prompt="", entry_point="total", tests=ASSERTS, runtime="python-datascience")
    std = Task(id="std", language="python", prompt="", entry_point="total", tests=ASSERTS)
    ev = Evaluator(EvaluationSettings(shaping="binary"), sandbox)
    got_ds, got_std = ev.evaluate_many([(ds, NUMPY_TOTAL), (std, NUMPY_TOTAL)])
    assert got_ds.passed and got_ds.reward.total == 1.0, got_ds.feedback
    assert got_std.outcome == "missing_dependency" and got_std.missing == ("numpy",), got_std.feedback
    assert not got_std.judged and all(tr.execution.missing == ("numpy",) for tr in got_std.test_results)
    # the settings' profile reaches tasks that name none
    assert Evaluator(EvaluationSettings(profile="python-datascience"), sandbox).evaluate(std, NUMPY_TOTAL).passed
