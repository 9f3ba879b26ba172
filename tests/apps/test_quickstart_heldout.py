"""One held-out evaluation: sampled and greedy pass@1 counted apart, sandbox errors refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from codeeval_rl.apps.quickstart.heldout import evaluate_heldout, log_heldout
from codeeval_rl.errors import TrainingError
from codeeval_rl.monitoring.tracker import RecordingTracker
from codeeval_rl.rl.scoring import FunctionScorer, Score
from codeeval_rl.types import Task, TestCase


@dataclass(frozen=True)
class _Out:
    text: str


class _Scripted:
    """Greedy answers ``greedy[prompt]``; sample ``i`` answers ``sampled[prompt][i]``."""

    def __init__(self, sampled: dict[str, list[str]], greedy: dict[str, str]) -> None:
        self.sampled, self.greedy = sampled, greedy

    def encode(self, text: str) -> str:
        return text

    def generate_ids(self, prompts, *, n, temperature, max_new_tokens):
        if temperature == 0.0:
            return [[_Out(self.greedy[p])] for p in prompts]
        return [[_Out(self.sampled[p][i]) for i in range(n)] for p in prompts]


def _task(name: str) -> Task:
    return Task(id=name, language="python", prompt=name, entry_point="f", category="c",
                tests=(TestCase(kind="assert", code="assert True", id="t0"),))


def test_sampled_and_greedy_are_counted_separately() -> None:
    tasks = [_task("a"), _task("b")]
    # a: 1 of 4 samples right, greedy right; b: 3 of 4 right, greedy wrong
    policy = _Scripted({"a": ["ok", "no", "no", "no"], "b": ["ok", "ok", "no", "ok"]}, {"a": "ok", "b": "no"})
    scorer = FunctionScorer(lambda t, c: 1.0 if c == "ok" else 0.0)
    res = evaluate_heldout(policy, tasks, scorer, samples=4, temperature=1.0, max_new_tokens=8)
    assert (res.sampled, res.greedy, res.tasks, res.samples_per_task) == (0.5, 0.5, 2, 4)
    assert len(res.records) == 8  # the sampled completions only
    assert [r.sample_index for r in res.records] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert [(r.task_id, r.passed) for r in res.records[4:]] == [("b", True), ("b", True), ("b", False), ("b", True)]
    tracker = RecordingTracker()
    run = log_heldout(tracker, "held", res, {"model": "sft"})
    logged = tracker.runs[run]
    assert logged["kind"] == "eval" and logged["status"] == "finished" and len(logged["rollouts"]) == 8
    assert logged["metrics"] == [(0, {"pass@1": 0.5, "greedy_pass@1": 0.5, "reward_mean": 0.5})]


def test_greedy_differs_from_sampled() -> None:
    policy = _Scripted({"a": ["no", "no"]}, {"a": "ok"})
    res = evaluate_heldout(policy, [_task("a")], FunctionScorer(lambda t, c: float(c == "ok")), samples=2,
                           temperature=1.0, max_new_tokens=8)
    assert (res.sampled, res.greedy) == (0.0, 1.0)


def test_a_sandbox_error_makes_no_figure() -> None:
    policy = _Scripted({"a": ["x"]}, {"a": "x"})
    scorer = FunctionScorer(lambda t, c: Score(0.0, status="sandbox_error", first_error="worker died"))
    with pytest.raises(TrainingError, match="2 of 2 held-out runs were sandbox errors.*worker died"):
        evaluate_heldout(policy, [_task("a")], scorer, samples=1, temperature=1.0, max_new_tokens=8)


def test_bad_arguments_are_refused() -> None:
    scorer = FunctionScorer(lambda t, c: 0.0)
    with pytest.raises(ValueError, match="empty"):
        evaluate_heldout(_Scripted({}, {}), [], scorer, samples=1, temperature=1.0, max_new_tokens=8)
    with pytest.raises(ValueError, match=r"samples \(0\)"):
        evaluate_heldout(_Scripted({}, {}), [_task("a")], scorer, samples=0, temperature=1.0, max_new_tokens=8)
