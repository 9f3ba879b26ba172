"""The Evaluator: batching, io judging on the host, levels, follow-ups, input errors."""

from __future__ import annotations

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import InputError
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.sandbox import FakeSandbox
from codeeval_rl.types import ExecutionResult, Status, Task, TestCase

IO_TASK = Task(
    id="double", language="python", prompt="Read n, print 2n.",
    tests=(TestCase(kind="io", stdin="2\n", expected_stdout="4\n", id="a"),
           TestCase(kind="io", stdin="5\n", expected_stdout="10\n", id="b"),
           TestCase(kind="io", stdin="0.5\n", expected_stdout="1.0\n", compare="float", id="c", weight=2)),
    public_test_ids=("a",),
    reference_solution="print(float(input()) * 2 if '.' in (s := input()) else int(s) * 2)\n",
)
NO_QUALITY = EvaluationSettings(quality_weight=0.0, efficiency_weight=0.0, test_timeout=2.0)


def echo_double(program, limits):
    """A fake judge of IO_TASK: doubles the input unless the source says 'wrong'."""
    value = program.stdin.strip()
    if "wrong" in program.source:
        return ExecutionResult(status=Status.OK, exit_code=0, stdout="7\n")
    out = str(float(value) * 2) if "." in value else str(int(value) * 2)
    return ExecutionResult(status=Status.OK, exit_code=0, stdout=out + "\n")


def test_expected_output_never_enters_the_sandbox():
    fake = FakeSandbox(echo_double)
    Evaluator(NO_QUALITY, sandbox=fake).evaluate(IO_TASK, "print(1)", tests="all")
    assert len(fake.calls) == 3
    for program, _ in fake.calls:
        assert "10" not in program.stdin and "1.0" not in program.source


def test_io_selection_weights_and_one_batch():
    fake = FakeSandbox(echo_double)
    ev = Evaluator(NO_QUALITY, sandbox=fake)
    seen = []
    results = ev.evaluate_many([(IO_TASK, "ok"), (IO_TASK, "wrong")], tests="hidden",
                               on_result=lambda i, r: seen.append(i))
    assert sorted(seen) == [0, 1]
    good, bad = results
    assert good.passed and good.num_tests == 2 and good.reward.components["tests"] == 1.0
    assert not bad.passed and bad.outcome == "wrong_answer"
    assert "Expected output:\n10" in bad.feedback and "Actual output:\n7" in bad.feedback
    assert ev.evaluate(IO_TASK, "ok", tests="public").num_tests == 1
    limits = {lim for _, lim in fake.calls}
    assert limits == {ev.limits} and ev.limits.wall_time_s == 2.0


def test_failure_status_and_feedback_come_from_the_first_failing_test():
    def responder(program, limits):
        if program.stdin == "5\n":
            return ExecutionResult(status=Status.TIMEOUT, reason="wall time limit of 2s exceeded")
        return echo_double(program, limits)

    res = Evaluator(NO_QUALITY, sandbox=FakeSandbox(responder)).evaluate(IO_TASK, "ok", tests="all")
    assert res.status is Status.TIMEOUT
    assert res.feedback == "Execution took too long."
    assert res.reward.components["execution"] == 0.4
    assert res.reward.components["tests"] == pytest.approx(3 / 4)


def test_python_syntax_error_is_judged_without_running():
    fake = FakeSandbox(echo_double)
    res = Evaluator(NO_QUALITY, sandbox=fake).evaluate(IO_TASK, "x = 1\ny = (\n")
    assert fake.calls == []
    assert res.status is Status.COMPILE_ERROR and res.outcome == "compile_error"
    assert res.reward.components["syntax"] == 0.5
    assert res.reward.components["execution"] == 0.0
    assert "does not parse" in res.feedback


def test_bad_input_is_an_input_error():
    ev = Evaluator(NO_QUALITY, sandbox=FakeSandbox())
    with pytest.raises(InputError, match="no public tests"):
        ev.evaluate(Task(id="x", language="python", prompt="", tests=(TestCase(kind="io", id="a"),)), "1",
                    tests="public")
    with pytest.raises(InputError, match="tests = 'secret'"):
        ev.evaluate(IO_TASK, "1", tests="secret")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown language"):
        ev.evaluate(Task(id="x", language="cobol", prompt="", tests=(TestCase(kind="io"),)), "1")
    with pytest.raises(InputError, match="Task, str"):
        ev.evaluate_many([("task", "code")])  # type: ignore[list-item]


def test_settings_from_yaml(tmp_path):
    path = tmp_path / "eval.yaml"
    path.write_text("evaluation:\n  test_timeout: 7\n  shaping: binary\n")
    ev = Evaluator(str(path), sandbox=FakeSandbox())
    assert ev.limits.wall_time_s == 7 and ev.settings.shaping == "binary"


def test_real_sandbox_io_quality_and_cached_reference(sandbox):
    ev = Evaluator(EvaluationSettings(test_timeout=5.0), sandbox=sandbox)
    good = "s = input()\nprint(float(s) * 2 if '.' in s else int(s) * 2)\n"
    res = ev.evaluate(IO_TASK, good, tests="all")
    assert res.passed, res.to_dict()
    assert 0 < res.reward.components["quality"] <= 1
    assert 0 < res.reward.components["efficiency"] <= 1
    assert len(ev._reference) == 1
    again = ev.evaluate(IO_TASK, good, tests="all")
    assert again.passed and len(ev._reference) == 1


def test_real_sandbox_cpp_compile_error_gets_syntax_from_the_compiler(sandbox):
    task = Task(id="cpp", language="cpp", prompt="echo",
                tests=(TestCase(kind="io", stdin="3\n", expected_stdout="3\n", id="a"),))
    ev = Evaluator(NO_QUALITY, sandbox=sandbox)
    broken = "#include <cstdio>\nint main() {\n  int x;\n  scanf(\"%d\", &x)\n  printf(\"%d\\n\", x);\n}\n"
    semantic = "#include <cstdio>\nint main() {\n  undefined_fn();\n}\n"
    ok = "#include <cstdio>\nint main() { int x; scanf(\"%d\", &x); printf(\"%d\\n\", x); }\n"
    r_broken, r_semantic, r_ok = ev.evaluate_many([(task, broken), (task, semantic), (task, ok)])
    assert r_broken.status is Status.COMPILE_ERROR
    assert 0.0 < r_broken.reward.components["syntax"] < 1.0
    # g++ -fsyntax-only also checks names and types: an undeclared function counts, graded by position
    assert r_semantic.status is Status.COMPILE_ERROR
    assert r_semantic.reward.components["syntax"] == pytest.approx(2 / 4)
    assert r_ok.passed and r_ok.reward.components["syntax"] == 1.0


def test_identical_submissions_run_once_and_every_copy_gets_the_result():
    import dataclasses

    fake = FakeSandbox(echo_double)
    ev = Evaluator(NO_QUALITY, sandbox=fake)
    other_tests = dataclasses.replace(IO_TASK, tests=IO_TASK.tests[:2])  # same id, other tests
    items = [(IO_TASK, "ok"), (IO_TASK, "wrong"), (IO_TASK, "ok"), (other_tests, "ok"), (IO_TASK, "wrong"),
             (dataclasses.replace(IO_TASK), "ok")]  # an equal copy of the task object
    seen: list[int] = []
    results = ev.evaluate_many(items, tests="all", on_result=lambda i, r: seen.append(i))
    assert sorted(seen) == list(range(len(items)))
    # distinct (task, tests, code): (IO_TASK, ok), (IO_TASK, wrong), (other_tests, ok)
    assert len(fake.calls) == 3 + 3 + 2
    assert [r.passed for r in results] == [True, False, True, True, False, True]
    assert results[0] is results[2] is results[5] and results[1] is results[4]
    assert results[3].num_tests == 2 and results[0].num_tests == 3


def test_deduplicate_off_runs_every_copy():
    fake = FakeSandbox(echo_double)
    ev = Evaluator(NO_QUALITY.model_copy(update={"deduplicate": False}), sandbox=fake)
    results = ev.evaluate_many([(IO_TASK, "ok")] * 3, tests="all")
    assert len(fake.calls) == 9 and all(r.passed for r in results)


def test_deduplication_still_checks_every_item():
    ev = Evaluator(NO_QUALITY, sandbox=FakeSandbox(echo_double))
    with pytest.raises(InputError, match="item 2"):
        ev.evaluate_many([(IO_TASK, "ok"), (IO_TASK, "ok"), ("not a task", "ok")])
