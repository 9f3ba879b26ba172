"""Sampling and scoring in resumable chunks, and reward-model pairs from a policy's samples, through
the real sandbox: exact pass rates, exact pairs, a resume that reuses finished chunks."""

from __future__ import annotations

import json
import random

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import InputError
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.preference.pairs import PairRule
from codeeval_rl.preference.reward_pairs import build_reward_pairs
from codeeval_rl.preference.sampling import chunk_seed, run_chunks, sample_and_score, seed_chunk
from codeeval_rl.rl.policy import FakePolicy
from codeeval_rl.types import Task, TestCase


def _task(i: int) -> Task:
    tests = tuple(TestCase(kind="assert", code=f"assert inc{i}({x}) == {x + 1}", id=f"t{x}") for x in range(5))
    return Task(id=f"inc/{i}", language="python", prompt=f"def inc{i}(x):\n", entry_point=f"inc{i}", tests=tests,
                public_test_ids=("t0",))


# sample i of a task: right, wrong on x >= 1 (passes 1 of 5), wrong on x >= 4 (passes 4 of 5), a repeat
# of the right one, broken code
BODIES = ["    return x + 1\n", "    return 1\n", "    return x + 1 if x < 4 else 0\n", "    return x + 1\n",
          "    return (\n"]


def _policy() -> FakePolicy:
    return FakePolicy(lambda prompt, i: BODIES[i % len(BODIES)])


@pytest.fixture
def evaluator(sandbox):
    return Evaluator(EvaluationSettings(shaping="binary"), sandbox)


def test_sample_and_score_gives_each_sample_its_share_of_tests(evaluator):
    scored = sample_and_score(_policy(), [_task(0), _task(1)], evaluator, n=5, chunk_size=1)
    assert len(scored) == 2
    for programs in scored:
        assert [p.completion for p in programs] == BODIES
        assert [p.num_passed for p in programs] == [5, 1, 4, 5, 0]
        assert [p.pass_rate for p in programs] == [1.0, 0.2, 0.8, 1.0, 0.0]
        assert [p.passed for p in programs] == [True, False, False, True, False]


def test_reward_pairs_follow_the_rule_once_per_distinct_program(evaluator):
    result = build_reward_pairs(_policy(), [_task(0)], evaluator, n=5, seed=3, model_name="fake")
    # distinct programs: right (1.0), passes 1/5 (0.2), passes 4/5 (0.8), broken (0.0)
    # pairs: right > 0.2 (gap 0.8); 0.8 > 0.2 (gap 0.6); right vs 0.8 is a gap of 0.2; broken passes nothing
    assert [(r["chosen"], r["rejected"]) for r in result.rows] == [(BODIES[0], BODIES[1]), (BODIES[2], BODIES[1])]
    assert [(r["chosen_pass_rate"], r["rejected_pass_rate"]) for r in result.rows] == [(1.0, 0.2), (0.8, 0.2)]
    row = result.rows[0]
    assert row["task_id"] == "inc/0" and row["prompt"] == "def inc0(x):\n"
    assert row["source"] == {"model": "fake", "seed": 3}
    assert result.tasks_with_pairs == 1 and result.samples == 5
    assert result.mean_pass_rate == pytest.approx((1 + 0.2 + 0.8 + 1 + 0) / 5)
    strict = build_reward_pairs(_policy(), [_task(0)], evaluator, n=5, rule=PairRule(min_chosen=0.9))
    assert [r["chosen"] for r in strict.rows] == [BODIES[0]]
    capped = build_reward_pairs(_policy(), [_task(0)], evaluator, n=5, max_pairs_per_task=1)
    assert len(capped.rows) == 1


def test_a_task_without_tests_is_named_before_any_sampling(evaluator):
    policy = _policy()
    empty = Task(id="empty/1", language="python", prompt="def f():\n")
    with pytest.raises(InputError, match="empty/1"):
        sample_and_score(policy, [_task(0), empty], evaluator, n=2)
    with pytest.raises(InputError, match="no public tests"):
        sample_and_score(policy, [Task(id="hid", language="python", prompt="p", tests=_task(0).tests)], evaluator,
                         n=1, tests="public")
    assert policy.calls == []


def test_run_chunks_resumes_from_its_journal(tmp_path):
    tasks = [_task(i) for i in range(5)]
    calls: list[int] = []

    def fn(index, chunk):
        calls.append(index)
        return [{"task_id": t.id, "seed": chunk_seed(7, index)} for t in chunk]

    journal = tmp_path / "out.partial.jsonl"
    first = run_chunks(tasks, 2, fn, journal=journal, key={"seed": 7})
    assert calls == [0, 1, 2] and [r["task_id"] for r in first] == [t.id for t in tasks]
    # a kill during chunk 2's write leaves a cut line: chunks 0 and 1 are reused, chunk 2 runs again
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:2]) + "\n" + lines[2][:15])
    calls.clear()
    progress = []
    again = run_chunks(tasks, 2, fn, journal=journal, key={"seed": 7}, on_chunk=lambda d, t: progress.append((d, t)))
    assert calls == [2] and again == first
    assert progress == [(2, 5), (4, 5), (5, 5)]
    assert [json.loads(line)["chunk"] for line in journal.read_text().splitlines()] == [0, 1, 2]
    calls.clear()
    assert run_chunks(tasks, 2, fn, journal=journal, key={"seed": 7}) == first and calls == []
    with pytest.raises(InputError, match=r"other settings \(seed\)"):
        run_chunks(tasks, 2, fn, journal=journal, key={"seed": 8})


def test_chunk_seeds_differ_and_do_not_depend_on_order():
    seeds = {chunk_seed(0, c) for c in range(1000)} | {chunk_seed(1, c) for c in range(1000)}
    assert len(seeds) == 2000
    assert all(0 <= s < 2**31 - 1 for s in seeds)
    # chunk 3 draws the same numbers whether or not other chunks drew before it
    seed_chunk(5, 3)
    alone = [random.random() for _ in range(3)]
    seed_chunk(5, 0)
    random.random()
    seed_chunk(5, 3)
    assert [random.random() for _ in range(3)] == alone
