"""RLOO (Ahmadian et al. 2024, "Back to basics") from execution rewards, in one loop.

Like GRPO, ``num_generations`` completions per task, but each completion's baseline is the mean
reward of the *other* completions of its task, and the KL to the reference is folded into the
reward as ``r - beta * sum_t k1_t`` (as TRL's RLOO does) instead of being a loss term. The
policy step is the clipped surrogate aggregated by ``loss_type``. Rewards are scored while the
next batch generates, as in :mod:`.grpo`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from codeeval_rl.config import TrainSettings
from codeeval_rl.monitoring.tracker import Tracker
from codeeval_rl.rl.advantages import leave_one_out
from codeeval_rl.rl.loop import ScoredBatches, StepCallback, Trainer, TrainResult
from codeeval_rl.rl.losses import kl_k1
from codeeval_rl.rl.policy import LLMAdapter
from codeeval_rl.rl.scoring import Scorer
from codeeval_rl.types import Task

__all__ = ["train_rloo"]


def train_rloo(settings: TrainSettings, policy: LLMAdapter, tasks: Sequence[Task], scorer: Scorer,
               tracker: Tracker | None = None, *, resume: bool = False, on_step: StepCallback | None = None,
               save_final: bool = True) -> TrainResult:
    """Train ``policy`` in place with RLOO on ``tasks``."""
    s = settings
    tr = Trainer(s, policy, tasks, tracker, kind="train")
    pad = policy.tokenizer.pad_token_id
    with tr.session(scorer, resume) as rewards:
        stream = ScoredBatches(tr, rewards)
        while tr.step < tr.total_steps:
            t0 = time.perf_counter()
            # 1. generate the next batch while this one is scored
            batch = stream.scored()

            # 2. KL-penalised rewards and leave-one-out advantages
            tokens = tr.to_device(batch.tokens(pad))
            ref_lp = tr.reference_logprobs(tokens)
            beta = tr.kl_ctl.value
            seq_kl = (kl_k1(tokens.old_logprobs, ref_lp) * tokens.loss_mask).sum(dim=1)
            groups, n = len(batch.tasks), s.num_generations
            shaped = batch.rewards().to(seq_kl.device) - beta * seq_kl.view(groups, n)
            adv = leave_one_out(shaped).flatten()

            # 3. clipped policy step (no KL term: it is in the reward)
            stats = tr.policy_update(tokens, adv, ref_lp, beta=0.0)
            stats["kl_seq"] = float(seq_kl.mean())
            tr.kl_ctl.update(stats["kl"], n_steps=groups * n)

            stream.advance()
            tr.step += 1
            tr.log(batch, stats, time.perf_counter() - t0, rewards.take_waited(), on_step)
            tr.checkpoint(force=tr.step == tr.total_steps)
    return tr.finish(save_final=save_final)
