"""GRPO end to end on a tiny model: it learns, it logs, it uses the real evaluator."""

from __future__ import annotations

import pytest
import torch

from codeeval_rl.config import TrainSettings
from codeeval_rl.errors import InputError
from codeeval_rl.monitoring.tracker import RecordingTracker
from codeeval_rl.rl.grpo import train_grpo
from tests.rl.tinyfix import DIGITS, params_of, tiny_policy, toy_tasks


def _settings(tmp_path, **kw):
    base = {"steps": 14, "batch_size": 4, "num_generations": 8, "learning_rate": 1e-2, "max_new_tokens": 8,
                "output_dir": str(tmp_path), "checkpoint_every": 0, "beta": 0.01, "seed": 1}
    base.update(kw)
    return TrainSettings(**base)


def test_grpo_learns_toy_reward_and_logs_every_step(tmp_path):
    policy = tiny_policy()
    before = params_of(policy)
    tracker = RecordingTracker()
    result = train_grpo(_settings(tmp_path), policy, toy_tasks(), DIGITS, tracker)
    rewards = [h["reward_mean"] for h in result.history]
    assert result.steps == 14 and len(rewards) == 14
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    assert last > 2 * first + 0.03, rewards
    after = params_of(policy)
    assert any(not torch.equal(before[k], after[k]) for k in before)
    run = tracker.runs[result.run_id]
    assert run["status"] == "finished"
    steps = [s for s, _ in run["metrics"]]
    assert steps == list(range(1, 15))
    for _, m in run["metrics"]:
        assert {"kl", "reward_mean", "pass_rate", "tokens_per_s", "reward_wait_fraction", "reward/digits"} <= set(m)
        assert 0.0 <= m["reward_wait_fraction"] <= 1.0
    assert run["metrics"][-1][1]["kl"] > 0  # the policy moved away from the reference
    assert len(run["rollouts"]) == 14 * 4 * 8
    assert (tmp_path / "final" / "config.json").is_file()


def test_grpo_micro_batches_give_the_same_update(tmp_path):
    deltas = []
    for mb in (0, 5):
        policy = tiny_policy()
        before = params_of(policy)
        train_grpo(_settings(tmp_path / str(mb), steps=1, micro_batch_size=mb, async_rewards=False), policy,
                   toy_tasks(), DIGITS, save_final=False)
        after = params_of(policy)
        deltas.append(torch.cat([(after[k] - before[k]).flatten() for k in sorted(before)]))
    # Adam's first step is nearly sign(gradient); the same gradient gives the same direction
    cos = torch.nn.functional.cosine_similarity(deltas[0], deltas[1], dim=0)
    assert cos > 0.99, float(cos)


def test_a_failing_sandbox_stops_training_instead_of_teaching_noise(tmp_path):
    from codeeval_rl.errors import TrainingError
    from codeeval_rl.rl.scoring import FunctionScorer, Score

    broken = FunctionScorer(lambda task, completion: Score(0.0, status="sandbox_error",
                                                           first_error="sandbox server: worker died"))
    tracker = RecordingTracker()
    with pytest.raises(TrainingError, match="sandbox errors .*worker died"):
        train_grpo(_settings(tmp_path, steps=2), tiny_policy(), toy_tasks(), broken, tracker)
    assert [r["status"] for r in tracker.runs.values()] == ["failed"]
    # the limit is a setting: 1 disables the check
    result = train_grpo(_settings(tmp_path / "off", steps=1, max_sandbox_error_rate=1.0), tiny_policy(),
                        toy_tasks(), broken, save_final=False)
    assert result.history[0]["sandbox_error_rate"] == 1.0


def test_grpo_rejects_groups_of_one(tmp_path):
    with pytest.raises(InputError, match="num_generations"):
        train_grpo(_settings(tmp_path, num_generations=1), tiny_policy(), toy_tasks(), DIGITS)


def test_grpo_with_the_real_evaluator(tmp_path, sandbox):
    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.rl.scoring import EvaluatorScorer

    scorer = EvaluatorScorer.from_settings(EvaluationSettings(shaping="graded"), sandbox, tests="all")
    tracker = RecordingTracker()
    result = train_grpo(_settings(tmp_path, steps=2, num_generations=2, batch_size=2, reward_tests="all"), tiny_policy(),
                        toy_tasks(2), scorer, tracker, save_final=False)
    metrics = tracker.runs[result.run_id]["metrics"]
    assert len(metrics) == 2
    assert "reward/syntax" in metrics[0][1]  # the evaluation config's components reach the logs
    recs = tracker.runs[result.run_id]["rollouts"]
    assert len(recs) == 8 and all(not r.passed for r in recs)  # random text never passes
    assert any(r.status != "passed" and r.first_error for r in recs)


def test_beta_zero_measures_kl_only_every_kl_log_every_steps(tmp_path, monkeypatch):
    from codeeval_rl.rl.loop import Trainer

    calls = []
    original = Trainer.reference_logprobs

    def counted(self, tokens):
        calls.append(self.step)
        return original(self, tokens)

    monkeypatch.setattr(Trainer, "reference_logprobs", counted)
    tracker = RecordingTracker()
    result = train_grpo(_settings(tmp_path, steps=5, beta=0.0, kl_log_every=2), tiny_policy(), toy_tasks(), DIGITS,
                        tracker, save_final=False)
    assert calls == [0, 2, 4]  # steps 1, 3, 5 in the logs; the others skip the reference's forward pass
    logged = [("kl" in m) for _, m in tracker.runs[result.run_id]["metrics"]]
    assert logged == [True, False, True, False, True]
    calls.clear()
    train_grpo(_settings(tmp_path / "b", steps=3, beta=0.01, kl_log_every=0), tiny_policy(), toy_tasks(), DIGITS,
               save_final=False)
    assert calls == [0, 1, 2]  # with a KL term, every step


def test_an_inherited_mixed_precision_is_refused_not_silently_used(tmp_path):
    """accelerate's state is process-wide: after another trainer set bf16 (TRL's default), ours
    must not train under its autocast without saying so. Run in a fresh process: the state
    cannot be reset from outside."""
    import subprocess
    import sys

    code = (
        "from accelerate import Accelerator\n"
        "Accelerator(cpu=True, mixed_precision='bf16')\n"
        "from codeeval_rl.errors import TrainingError\n"
        "from codeeval_rl.rl.loop import Trainer\n"
        "from codeeval_rl.config import TrainSettings\n"
        "from tests.rl.tinyfix import tiny_policy, toy_tasks\n"
        "try:\n"
        f"    Trainer(TrainSettings(output_dir={str(tmp_path)!r}), tiny_policy(), toy_tasks())\n"
        "except TrainingError as exc:\n"
        "    print('refused:', exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "refused:" in out.stdout and "bf16=False" in out.stdout, out.stderr[-2000:]
