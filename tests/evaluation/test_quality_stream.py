"""The quality analyser process and the evaluator's single-batch follow-ups: the streamed
analysis must score exactly as the batch does, survive a dead analyser, and references for the
efficiency level must run inside the batch's one ``run_many`` call."""

from __future__ import annotations

import sys

from codeeval_rl.config import CodeQualitySettings, EvaluationSettings
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.evaluation.quality import QualityStream, quality_reports
from codeeval_rl.sandbox import FakeSandbox
from codeeval_rl.types import ExecutionResult, Status, Task, TestCase

SOURCES = [
    # shell=True (HIGH), a subprocess import (LOW), try/except/pass (LOW), a hard-coded password (LOW)
    ("import subprocess\n\ndef f(x):\n    try:\n        pass\n    except Exception:\n        pass\n"
     "    password = 'hunter2'\n    return subprocess.call(x, shell=True)\n"),
    # asserts are skipped (B101), nested branches raise the complexity
    "def g(a, b):\n    assert a\n" + "".join(f"    if a > {k}:\n        b += {k}\n" for k in range(14)) + "    return b\n",
    # no function at all, and a pickle load (MEDIUM)
    "import pickle\nx = pickle.loads(b'')\n",
    # does not parse: radon and bandit both give up, the score says so in its notes
    "def broken(:\n    return 1\n",
    "",
]


def test_streamed_analysis_scores_exactly_as_the_batch():
    settings = CodeQualitySettings()
    items = [("python", code, "") for code in SOURCES]
    batch = quality_reports(items, settings)
    stream = QualityStream()
    try:
        tickets = [stream.submit(code) for code in SOURCES]
        found = stream.collect(tickets)
    finally:
        stream.close()
    assert set(found) == set(tickets)
    streamed = quality_reports(items, settings, {n: found[t] for n, t in enumerate(tickets)})
    assert [r.score for r in streamed] == [r.score for r in batch]
    assert [r.parts for r in streamed] == [r.parts for r in batch]
    assert [sorted(r.findings) for r in streamed] == [sorted(r.findings) for r in batch]
    assert any("B602" in f for f in batch[0].findings) and not any("B101" in f for f in batch[1].findings)
    assert batch[0].parts["security"] < 1.0 and batch[1].parts["complexity"] < 1.0


def test_an_analyser_that_cannot_start_leaves_the_batch_to_do_the_work(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    stream = QualityStream(timeout_s=30)
    ticket = stream.submit(SOURCES[0])
    assert stream.collect([ticket]) == {}  # at once: a dead stream never waits out its timeout
    monkeypatch.undo()
    report = quality_reports([("python", SOURCES[0], "")], CodeQualitySettings(), {})[0]
    assert report.parts["security"] < 1.0


def test_an_analyser_killed_mid_stream_returns_what_arrived():
    stream = QualityStream(timeout_s=30)
    try:
        first = stream.submit(SOURCES[2])
        assert set(stream.collect([first])) == {first}
        assert stream._proc is not None
        stream._proc.kill()
        later = stream.submit(SOURCES[0])
        assert stream.collect([later]) == {}
    finally:
        stream.close()


REF_TASK = Task(
    id="double", language="python", prompt="Read n, print 2n.",
    tests=(TestCase(kind="io", stdin="2\n", expected_stdout="4\n", id="a"),
           TestCase(kind="io", stdin="5\n", expected_stdout="10\n", id="b")),
    reference_solution="REFERENCE\nprint(int(input()) * 2)\n",
)


class CountingSandbox(FakeSandbox):
    def __init__(self, responder):
        super().__init__(responder)
        self.batches: list[int] = []

    def run_many(self, programs, limits=None, on_result=None):
        programs = list(programs)
        self.batches.append(len(programs))
        return super().run_many(programs, limits, on_result)


def doubler(program, limits):
    if "wrong" in program.source:
        return ExecutionResult(status=Status.OK, exit_code=0, stdout="7\n", cpu_time_s=0.001)
    cpu = 0.2 if "slow" in program.source else 0.01
    return ExecutionResult(status=Status.OK, exit_code=0, stdout=f"{int(program.stdin) * 2}\n", cpu_time_s=cpu)


def test_references_run_inside_the_one_batch_and_are_cached():
    fake = CountingSandbox(doubler)
    settings = EvaluationSettings(quality_weight=0.0, efficiency_weight=0.2)
    ev = Evaluator(settings, sandbox=fake)
    fast, slow, wrong = ev.evaluate_many([(REF_TASK, "fast"), (REF_TASK, "slow"), (REF_TASK, "wrong")])
    assert fake.batches == [2 * 4]  # three submissions and the reference, two tests each, one call
    assert sum("REFERENCE" in p.source for p, _ in fake.calls) == 2
    assert fast.reward.components["efficiency"] > slow.reward.components["efficiency"] > 0
    assert wrong.reward.components["efficiency"] == 0.0
    ev.evaluate_many([(REF_TASK, "fast_again")])
    assert fake.batches[-1] == 2  # the reference is cached: not run again
    assert sum("REFERENCE" in p.source for p, _ in fake.calls) == 2


def test_a_failing_reference_counts_as_no_reference():
    def broken_reference(program, limits):
        if "REFERENCE" in program.source:
            return ExecutionResult(status=Status.RUNTIME_ERROR, exit_code=1, stderr="boom")
        return doubler(program, limits)

    ev = Evaluator(EvaluationSettings(quality_weight=0.0, efficiency_weight=0.2), sandbox=CountingSandbox(broken_reference))
    res = ev.evaluate(REF_TASK, "slow")
    assert res.passed and res.reward.components["efficiency"] == 1.0  # not measurable: counts 1


def test_results_and_callbacks_never_include_the_reference_runs():
    fake = CountingSandbox(doubler)
    ev = Evaluator(EvaluationSettings(quality_weight=0.0, efficiency_weight=0.2), sandbox=fake)
    seen: list[int] = []
    results = ev.evaluate_many([(REF_TASK, "a"), (REF_TASK, "b")], on_result=lambda i, r: seen.append(i))
    assert len(results) == 2 and sorted(seen) == [0, 1]


def test_evaluators_share_one_analyser_and_a_fork_gets_its_own():
    import os

    from codeeval_rl.evaluation.quality import shared_stream

    first = shared_stream()
    assert shared_stream() is first
    first.start()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child must not reuse the parent's stream (its threads are not there)
        try:
            child = shared_stream()
            ok = child is not first and child.collect([child.submit("x = 1\n")]) != {}
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"
    os.close(r)
    os.close(w)


def test_real_evaluator_quality_matches_the_batch_path(sandbox):
    task = Task(id="add", language="python", prompt="def add(a, b):\n",
                tests=(TestCase(kind="assert", code="assert add(1, 2) == 3", id="t"),),
                reference_solution="def add(a, b):\n    return a + b\n")
    code = ("import subprocess\n\ndef add(a, b):\n    try:\n        pass\n    except Exception:\n        pass\n"
            "    return a + b\n")
    ev = Evaluator(EvaluationSettings(), sandbox=sandbox)
    res = ev.evaluate(task, code)
    expected = quality_reports([("python", code, "")], CodeQualitySettings())[0].score
    assert res.passed and res.reward.components["quality"] == expected < 1.0
