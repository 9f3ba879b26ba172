"""PPO with a value head and GAE (Schulman et al. 2017; Ouyang et al. 2022's RLHF recipe), in one loop.

The value head is a linear layer on the policy's last hidden state (a shared trunk). Rewards are
per token: ``-beta * k1`` on every completion token plus the execution reward on the last one.
GAE turns rewards and values into advantages (whitened over the batch) and returns; the loss is
the clipped surrogate plus ``vf_coef`` times the clipped value loss, for ``num_iterations``
passes over each batch. Rewards are scored while the next batch generates, as in :mod:`.grpo`.
Hugging Face TRL removed its PPO trainer; this one keeps the algorithm available.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from codeeval_rl.config import TrainSettings
from codeeval_rl.monitoring.tracker import Tracker
from codeeval_rl.rl.advantages import gae, whiten
from codeeval_rl.rl.loop import ScoredBatches, StepCallback, Trainer, TrainResult
from codeeval_rl.rl.losses import kl_k1, policy_loss, value_loss
from codeeval_rl.rl.policy import LLMAdapter
from codeeval_rl.rl.rollout import TokenBatch, token_logprobs
from codeeval_rl.rl.scoring import Scorer
from codeeval_rl.types import Task

__all__ = ["ValueHead", "train_ppo"]


class ValueHead(torch.nn.Module):
    """``hidden -> 1`` scalar value per position, initialised at zero output."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(hidden_size, 1)
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden.float()).squeeze(-1)


def _forward(tr: Trainer, head: ValueHead, part: TokenBatch, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    lp, hidden = token_logprobs(tr.model, part, temperature, return_hidden=True)
    return lp, head(hidden[:, :-1])  # value of the state before each predicted token


def train_ppo(settings: TrainSettings, policy: LLMAdapter, tasks: Sequence[Task], scorer: Scorer,
              tracker: Tracker | None = None, *, resume: bool = False, on_step: StepCallback | None = None,
              save_final: bool = True) -> TrainResult:
    """Train ``policy`` in place with PPO on ``tasks``."""
    s = settings
    config = policy.model.config
    head = ValueHead(getattr(config, "hidden_size", None) or config.get_text_config().hidden_size).to(policy.device)
    tr = Trainer(s, policy, tasks, tracker, kind="train", extra_modules={"value_head": head},
                 extra_params=list(head.parameters()))
    pad = policy.tokenizer.pad_token_id
    with tr.session(scorer, resume) as rewards:
        stream = ScoredBatches(tr, rewards)
        while tr.step < tr.total_steps:
            t0 = time.perf_counter()
            # 1. generate the next batch while this one is scored
            batch = stream.scored()

            # 2. per-token rewards (KL penalty + final execution reward), old values, GAE
            tokens = tr.to_device(batch.tokens(pad))
            mask = tokens.loss_mask
            ref_lp = tr.reference_logprobs(tokens)
            beta = tr.kl_ctl.value
            with torch.no_grad():
                _, old_values = _forward(tr, head, tokens, s.temperature)
                old_values = old_values * mask
            token_rewards = -beta * kl_k1(tokens.old_logprobs, ref_lp) * mask
            final = batch.rewards().flatten().to(mask.device)
            has_tokens = tokens.completion_lengths > 0
            rows = torch.arange(mask.shape[0], device=mask.device)[has_tokens]
            token_rewards[rows, tokens.last_index[has_tokens]] += final[has_tokens]
            adv, returns = gae(token_rewards, old_values, mask, gamma=s.gamma, lam=s.lam)
            adv = whiten(adv, mask)

            # 3. num_iterations passes of clipped policy + value loss
            stats = {"loss": 0.0, "kl": 0.0, "clip_fraction": 0.0, "value_loss": 0.0, "grad_norm": 0.0,
                     "value_mean": float((old_values * mask).sum() / mask.sum().clamp(min=1))}
            n_rows = mask.shape[0]
            for _ in range(s.num_iterations):
                for mb in tr.micro_batches(n_rows):
                    part = tokens.rows(mb)
                    lp, values = _forward(tr, head, part, s.temperature)
                    pl = policy_loss(lp, part.old_logprobs, adv[mb], part.loss_mask, loss_type=s.loss_type,
                                     epsilon=s.epsilon, epsilon_high=s.epsilon_high, ref_logprobs=ref_lp[mb],
                                     beta=0.0, kl_estimator=s.kl_estimator, max_tokens=mask.shape[1])
                    vl = value_loss(values, old_values[mb], returns[mb], part.loss_mask, clip=s.value_clip)
                    share = (mb.stop - mb.start) / n_rows
                    tr.accelerator.backward((pl.loss + s.vf_coef * vl) * share / s.num_iterations)
                    stats["loss"] += float(pl.loss.detach()) * share / s.num_iterations
                    stats["value_loss"] += float(vl.detach()) * share / s.num_iterations
                    stats["kl"] += pl.kl * share / s.num_iterations
                    stats["clip_fraction"] += pl.clip_fraction * share / s.num_iterations
                stats["grad_norm"] = tr.clip_and_step()
            tr.kl_ctl.update(stats["kl"], n_steps=n_rows)

            stream.advance()
            tr.step += 1
            tr.log(batch, stats, time.perf_counter() - t0, rewards.take_waited(), on_step)
            tr.checkpoint(force=tr.step == tr.total_steps)
    if tr.is_main and save_final:
        torch.save(head.state_dict(), tr.output_dir / "value_head.pt")
    return tr.finish(save_final=save_final)
