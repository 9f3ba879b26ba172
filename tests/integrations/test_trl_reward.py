"""Our reward inside TRL's real GRPOTrainer, and the callable's contract."""

from __future__ import annotations

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import InputError
from codeeval_rl.integrations.trl import reward_function
from codeeval_rl.types import Task, TestCase

TASK = Task(id="add1", language="python", prompt="def add1(x):\n", entry_point="add1",
            tests=(TestCase(kind="assert", code="assert add1(1) == 2", id="t0"),
                   TestCase(kind="assert", code="assert add1(-1) == 0", id="t1")), public_test_ids=("t0",))


def test_reward_by_task_id_strings_and_messages(sandbox):
    f = reward_function(EvaluationSettings(shaping="binary"), sandbox, tasks=[TASK])
    good, bad = "    return x + 1\n", "    return x\n"
    assert f(prompts=[TASK.prompt] * 2, completions=[good, bad], task_id=["add1", "add1"]) == [1.0, 0.0]
    convo = [[{"role": "assistant", "content": "```python\ndef add1(x):\n    return x + 1\n```"}]]
    assert f(prompts=[[{"role": "user", "content": "write add1"}]], completions=convo, task_id=["add1"]) == [1.0]


def test_reward_from_a_tests_column(sandbox):
    f = reward_function(EvaluationSettings(shaping="partial"), sandbox)
    tests = ["assert sq(3) == 9", "assert sq(-2) == 4"]
    out = f(prompts=["def sq(n):\n", "def sq(n):\n"], completions=["    return n * n\n", "    return n * 3\n"],
            tests=[tests, tests], entry_point=["sq", "sq"], trainer_state=None)
    assert out == [1.0, 0.5]


def test_reward_errors_name_the_problem(sandbox):
    f = reward_function(None, sandbox, tasks=[TASK])
    with pytest.raises(InputError, match="'nope'"):
        f(prompts=["x"], completions=["y"], task_id=["nope"])
    with pytest.raises(InputError, match="column"):
        f(prompts=["x"], completions=["y"])


def test_inside_trl_grpo_trainer_two_steps(tmp_path, sandbox):
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    import torch

    from tests.rl.tinyfix import tiny_policy

    policy = tiny_policy()
    calls = []
    inner = reward_function(EvaluationSettings(shaping="graded"), sandbox, tasks=[TASK])

    def reward(prompts, completions, **kw):
        calls.append((len(completions), sorted(kw)))
        return inner(prompts, completions, **kw)

    reward.__name__ = "codeeval"
    ds = datasets.Dataset.from_dict({"prompt": [TASK.prompt] * 4, "task_id": ["add1"] * 4})
    args = trl.GRPOConfig(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, num_generations=4,
                          max_completion_length=8, learning_rate=1e-3, logging_steps=1, report_to=[], use_cpu=True,
                          save_strategy="no", disable_tqdm=True, bf16=False)
    before = {k: v.clone() for k, v in policy.model.state_dict().items()}
    trainer = trl.GRPOTrainer(model=policy.model, reward_funcs=[reward], args=args, train_dataset=ds,
                              processing_class=policy.tokenizer)
    trainer.train()
    assert len(calls) == 2 and calls[0][0] == 4
    assert "task_id" in calls[0][1]
    rewards = [h for h in trainer.state.log_history if "reward" in h]
    assert len(rewards) == 2
    assert any(not torch.equal(before[k], v) for k, v in policy.model.state_dict().items())
