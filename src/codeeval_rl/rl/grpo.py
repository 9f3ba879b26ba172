"""GRPO (Shao et al. 2024) from execution rewards, in one loop that reads top to bottom.

Each step: take ``batch_size`` tasks, sample ``num_generations`` completions each, score them
in the sandbox, turn rewards into group-relative advantages, and take a clipped policy-gradient
step with an optional KL penalty to the frozen reference (with ``beta`` 0 the KL is only
measured every ``kl_log_every`` steps, for the logs, as that costs a forward pass). With
``async_rewards`` (by default when the policy is on an accelerator) the sandbox scores a batch
while the policy generates the next one; that next batch is then one update stale, which the
clipped importance ratio (sampling log-probs vs current) accounts for. A checkpoint every ``checkpoint_every`` steps holds
everything needed to continue exactly, the already-generated next batch included.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from codeeval_rl.config import TrainSettings
from codeeval_rl.monitoring.tracker import Tracker
from codeeval_rl.rl.advantages import group_relative
from codeeval_rl.rl.loop import ScoredBatches, StepCallback, Trainer, TrainResult
from codeeval_rl.rl.policy import LLMAdapter
from codeeval_rl.rl.scoring import Scorer
from codeeval_rl.types import Task

__all__ = ["train_grpo"]


def train_grpo(settings: TrainSettings, policy: LLMAdapter, tasks: Sequence[Task], scorer: Scorer,
               tracker: Tracker | None = None, *, resume: bool = False, on_step: StepCallback | None = None,
               save_final: bool = True) -> TrainResult:
    """Train ``policy`` in place with GRPO on ``tasks``; returns the run's history."""
    s = settings
    tr = Trainer(s, policy, tasks, tracker, kind="train")
    pad = policy.tokenizer.pad_token_id
    with tr.session(scorer, resume) as rewards:
        stream = ScoredBatches(tr, rewards)
        while tr.step < tr.total_steps:
            t0 = time.perf_counter()
            # 1. the next batch generates while the sandbox scores this one
            batch = stream.scored()

            # 2. group-relative advantages, one per completion
            adv = group_relative(batch.rewards(), s.scale_rewards).flatten()

            # 3. clipped policy gradient with a KL penalty to the reference
            tokens = tr.to_device(batch.tokens(pad))
            ref_lp = tr.kl_reference(tokens)
            stats = tr.policy_update(tokens, adv, ref_lp, beta=tr.kl_ctl.value)
            tr.kl_ctl.update(stats.get("kl", 0.0), n_steps=len(batch.tasks) * s.num_generations)

            # 4. without pipelining, the next batch is sampled from the updated policy
            stream.advance()
            tr.step += 1
            tr.log(batch, stats, time.perf_counter() - t0, rewards.take_waited(), on_step)
            tr.checkpoint(force=tr.step == tr.total_steps)
    return tr.finish(save_final=save_final)
