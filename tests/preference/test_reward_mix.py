"""The reward model as part of a training reward: the mix by hand, the named component in the
trainer's logs, the `train.reward_model` settings and their errors."""

from __future__ import annotations

import pytest

from codeeval_rl.config import TrainSettings, parse_settings
from codeeval_rl.errors import ConfigError, InputError
from codeeval_rl.preference.reward_mix import RewardModelScorer, sigmoid
from codeeval_rl.rl.scoring import FunctionScorer, Score
from codeeval_rl.types import Task


class ConstRM:
    def __init__(self, values):
        self.values = values
        self.seen = []

    def score(self, prompts, completions):
        self.seen.append((list(prompts), list(completions)))
        return [self.values[c] for c in completions]


def _task(i: int) -> Task:
    return Task(id=f"t{i}", language="python", prompt=f"prompt {i}")


def test_mix_by_hand_keeps_the_execution_verdict():
    inner = FunctionScorer(lambda task, c: Score(1.0 if c == "good" else 0.0, passed=c == "good",
                                                 components={"tests": 1.0 if c == "good" else 0.0}))
    rm = ConstRM({"good": 0.0, "bad": 2.0})
    scores = RewardModelScorer(inner, rm, weight=0.25).score([(_task(0), "good"), (_task(1), "bad")], "all")
    # 0.75 * 1 + 0.25 * sigmoid(0); 0.75 * 0 + 0.25 * sigmoid(2) = 0.25 * 0.8807971
    assert [s.reward for s in scores] == pytest.approx([0.875, 0.25 * 0.8807971], abs=1e-7)
    assert scores[0].components == {"tests": 1.0, "reward_model": 0.5}
    assert [s.passed for s in scores] == [True, False]
    assert rm.seen == [(["prompt 0", "prompt 1"], ["good", "bad"])]
    zero = RewardModelScorer(inner, rm, weight=0.0).score([(_task(1), "bad")])
    assert zero[0].reward == 0.0 and zero[0].components["reward_model"] == pytest.approx(0.8807971, abs=1e-7)
    with pytest.raises(ConfigError, match="weight"):
        RewardModelScorer(inner, rm, weight=1.5)


def test_sigmoid_is_stable():
    assert sigmoid(0.0) == 0.5 and sigmoid(-1000.0) == 0.0 and sigmoid(1000.0) == 1.0


def test_reward_model_settings_are_checked_with_their_key():
    s = parse_settings(TrainSettings, {"reward_model": {"path": "rm", "weight": 0.3}}, section="train")
    assert s.reward_model is not None and s.reward_model.weight == 0.3 and s.reward_model.batch_size == 16
    with pytest.raises(ConfigError, match=r"train.reward_model.weight = 2"):
        parse_settings(TrainSettings, {"reward_model": {"path": "rm", "weight": 2}}, section="train")
    with pytest.raises(ConfigError, match=r"train.reward_model.path: required key is missing"):
        parse_settings(TrainSettings, {"reward_model": {"weight": 0.5}}, section="train")
    with pytest.raises(ConfigError, match=r"train.reward_model.*multi-turn"):
        parse_settings(TrainSettings, {"algorithm": "multiturn", "reward_model": {"path": "rm"}}, section="train")


@pytest.mark.train
def test_grpo_logs_the_reward_model_component_and_trains_on_the_mix(tmp_path):
    import torch

    from codeeval_rl.monitoring.tracker import RecordingTracker
    from codeeval_rl.preference.reward_model import load_sequence_classifier
    from codeeval_rl.rl.grpo import train_grpo
    from tests.rl.tinyfix import DIGITS, tiny_policy, toy_tasks

    torch.set_num_threads(1)
    policy = tiny_policy()
    policy.save(tmp_path / "base")
    torch.manual_seed(0)
    model, tok = load_sequence_classifier(tmp_path / "base", num_labels=1)
    model.save_pretrained(tmp_path / "rm")
    tok.save_pretrained(tmp_path / "rm")
    settings = TrainSettings(steps=2, batch_size=2, num_generations=2, max_new_tokens=6, learning_rate=1e-3,
                             output_dir=str(tmp_path / "run"), checkpoint_every=0, async_rewards=False,
                             reward_model={"path": str(tmp_path / "rm"), "weight": 0.5})
    tracker = RecordingTracker()
    result = train_grpo(settings, policy, toy_tasks(), DIGITS, tracker, save_final=False)
    run = tracker.runs[result.run_id]
    assert run["config"]["reward_model"]["weight"] == 0.5
    for _, metrics in run["metrics"]:
        assert 0.0 < metrics["reward/reward_model"] < 1.0 and "reward/digits" in metrics
    for rec in run["rollouts"]:
        mixed = 0.5 * rec.components["digits"] + 0.5 * rec.components["reward_model"]
        assert rec.reward == pytest.approx(mixed)

    missing = TrainSettings(steps=1, batch_size=2, num_generations=2, output_dir=str(tmp_path / "run2"),
                            reward_model={"path": str(tmp_path / "no-rm")})
    tracker = RecordingTracker()
    with pytest.raises(InputError, match="model path does not exist"):
        train_grpo(missing, policy, toy_tasks(), DIGITS, tracker, save_final=False)
    assert tracker.runs == {}  # nothing started in the store
