"""PPO, RLOO and multi-turn repair end to end on a tiny model with a learnable toy reward."""

from __future__ import annotations

import torch

from codeeval_rl.config import TrainSettings
from codeeval_rl.monitoring.tracker import RecordingTracker
from codeeval_rl.rl.multiturn import FAILED_HEADER, TRY_AGAIN, final_reward, run_episodes, train_multiturn
from codeeval_rl.rl.ppo import train_ppo
from codeeval_rl.rl.rloo import train_rloo
from codeeval_rl.rl.scoring import FunctionScorer, Score
from tests.rl.tinyfix import DIGITS, params_of, tiny_policy, toy_tasks


def _settings(tmp_path, **kw):
    base = {"steps": 14, "batch_size": 4, "num_generations": 8, "learning_rate": 1e-2, "max_new_tokens": 8,
                "output_dir": str(tmp_path), "checkpoint_every": 0, "beta": 0.01, "seed": 1}
    base.update(kw)
    return TrainSettings(**base)


def _rose(history, key="reward_mean"):
    r = [h[key] for h in history]
    return sum(r[-3:]) / 3 > 2 * sum(r[:3]) / 3 + 0.03, r


def test_rloo_learns(tmp_path):
    policy = tiny_policy()
    before = params_of(policy)
    result = train_rloo(_settings(tmp_path, algorithm="rloo"), policy, toy_tasks(), DIGITS, save_final=False)
    ok, r = _rose(result.history)
    assert ok, r
    assert any(not torch.equal(before[k], v) for k, v in params_of(policy).items())
    assert all("kl_seq" in h for h in result.history)


def test_ppo_learns_and_trains_its_value_head(tmp_path):
    policy = tiny_policy()
    before = params_of(policy)
    tracker = RecordingTracker()
    result = train_ppo(_settings(tmp_path, algorithm="ppo", num_iterations=2, steps=16), policy, toy_tasks(),
                       DIGITS, tracker)
    ok, r = _rose(result.history)
    assert ok, r
    assert any(not torch.equal(before[k], v) for k, v in params_of(policy).items())
    values = [h["value_mean"] for h in result.history]
    assert values[0] == 0.0 and values[-1] != 0.0  # the zero-initialised head learned something
    assert (tmp_path / "value_head.pt").is_file()


def _repair_scorer():
    """Public tests pass iff the completion has a digit; hidden iff it has two."""
    def fn(task, completion):
        digits = sum(ch.isdigit() for ch in completion)
        return Score(float(digits), passed=digits >= 2, feedback=f"expected digits, got {completion[:10]!r}")

    class S:
        def __init__(self):
            self.calls: list[str] = []


        def score(self, pairs, tests="hidden"):
            self.calls.append(tests)
            out = FunctionScorer(fn).score(pairs, tests)
            if tests == "public":
                return [Score(s.reward, any(ch.isdigit() for ch in c), feedback=s.feedback)
                        for s, (_, c) in zip(out, pairs)]
            return out
    return S()


def test_multiturn_episodes_mask_feedback_and_stop_on_public_pass():
    tasks = toy_tasks(2)
    policy = tiny_policy()
    scorer = _repair_scorer()
    eps = run_episodes(policy, tasks, scorer, n=2, max_turns=3, temperature=1.0, top_p=1.0, max_new_tokens=6)
    assert len(eps) == 2 and all(len(row) == 2 for row in eps)
    for e in (e for row in eps for e in row):
        assert 1 <= e.turns <= 3
        assert len(e.ids) == len(e.mask) == len(e.logprobs)
        feedback = [t for t, m in zip(e.ids, e.mask) if m == 0]
        if e.turns > 1:
            text = policy.tokenizer.decode(feedback)
            assert FAILED_HEADER in text and TRY_AGAIN in text
            assert all(lp == 0.0 for lp, m in zip(e.logprobs, e.mask) if m == 0)
        # stop rule: every turn before the last failed its public tests
        assert all(not sc.passed for sc in e.public_scores[:-1])
        assert e.public_scores[-1].passed or e.turns == 3
    assert "public" in scorer.calls


def test_final_reward_rule():
    assert final_reward(True, 0, 0.2) == 1.0
    assert final_reward(False, 0, 0.2) == -1.0
    assert final_reward(False, 2, 0.2) == -1.4


def test_multiturn_learns(tmp_path):
    policy = tiny_policy()
    before = params_of(policy)
    tracker = RecordingTracker()
    result = train_multiturn(_settings(tmp_path, algorithm="multiturn", max_turns=2, steps=16), policy, toy_tasks(),
                             _repair_scorer(), tracker, save_final=False)
    r = [h["reward/hidden_pass"] for h in result.history]
    assert sum(r[-3:]) / 3 > sum(r[:3]) / 3 + 0.05, r
    assert any(not torch.equal(before[k], v) for k, v in params_of(policy).items())
    recs = tracker.runs[result.run_id]["rollouts"]
    assert {rec.turn for rec in recs} <= {1, 2} and any(rec.turn == 2 for rec in recs)
