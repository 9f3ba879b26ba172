"""A completion whose runtime profile lacks a package it imports is not the model's failure in
the reward adapters: TRL's reward function and veRL's batch scorer give it a neutral reward (the
mean of the judged completions of its task), or a runtime error's with
``missing_dependency: fail``. Real sandbox; numpy is not in the default (standard library) profile."""

from __future__ import annotations

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.integrations.trl import reward_function
from codeeval_rl.integrations.verl import compute_score, compute_score_batch
from codeeval_rl.types import Task, TestCase

TASK = Task(id="total", language="python", prompt="def total(xs):\n", entry_point="total",
            tests=(TestCase(kind="assert", code="assert total([1, 2]) == 3", id="t0"),
                   TestCase(kind="assert", code="assert total([]) == 0", id="t1")))
GOOD = "def total(xs):\n    return sum(xs)\n"
WRONG = "def total(xs):\n    return len(xs)\n"
NEEDS_NUMPY = "import numpy as np\ndef total(xs):\n    return int(np.sum(xs))\n"


def test_trl_reward_is_neutral_for_a_missing_dependency(sandbox):
    f = reward_function(EvaluationSettings(shaping="binary"), sandbox, tasks=[TASK])
    out = f(prompts=[TASK.prompt] * 4, completions=[GOOD, WRONG, NEEDS_NUMPY, GOOD], task_id=["total"] * 4)
    assert out == [1.0, 0.0, 2 / 3, 1.0]  # the mean of the judged three: zero GRPO advantage
    missing = f.last_results[2]
    assert missing.outcome == "missing_dependency" and missing.missing == ("numpy",) and not missing.judged
    alone = f(prompts=[TASK.prompt], completions=[NEEDS_NUMPY], task_id=["total"])
    assert alone == [0.0] and not f.last_results[0].judged  # no judged sample: all equal, no advantage


def test_trl_reward_fails_a_missing_dependency_when_asked(sandbox):
    settings = EvaluationSettings(missing_dependency="fail")
    f = reward_function(settings, sandbox, tasks=[TASK])
    runtime_error = f(prompts=[TASK.prompt], completions=["def total(xs):\n    raise ValueError('x')\n"],
                      task_id=["total"])
    out = f(prompts=[TASK.prompt] * 2, completions=[GOOD, NEEDS_NUMPY], task_id=["total"] * 2)
    assert out[0] > out[1] and out[1] == runtime_error[0]
    assert f.last_results[1].judged and f.last_results[1].reward.components["execution"] == 0.4


def test_verl_batch_scores_a_missing_dependency_neutrally(sandbox):
    ev = Evaluator(EvaluationSettings(shaping="partial"), sandbox)
    truth = {"tests": [tc.code for tc in TASK.tests], "entry_point": "total"}
    other = {"tests": ["assert total([5]) == 5"], "entry_point": "total"}
    out = compute_score_batch(["x"] * 4, [GOOD, NEEDS_NUMPY, WRONG, NEEDS_NUMPY], [truth, truth, truth, other],
                              [None] * 4, evaluator=ev)
    assert [o["score"] for o in out] == [1.0, 0.5, 0.0, 0.0]
    assert [o["judged"] for o in out] == [True, False, True, False] and out[1]["missing"] == "numpy"
    one = compute_score("x", NEEDS_NUMPY, truth, evaluator=ev)
    assert one["score"] == 0.0 and one["outcome"] == "missing_dependency" and not one["judged"]
