"""PPO with a value head and GAE (Schulman et al. 2017; Ouyang et al. 2022's RLHF recipe), in one loop.

The value head is a linear layer on the policy's last hidden state (a shared trunk). Rewards are
per token: ``-beta * k1`` on every completion token plus the execution reward on the last one.
GAE turns rewards and values into advantages (whitened over the batch) and returns; the loss is
the clipped surrogate plus ``vf_coef`` times the clipped value loss, for ``num_iterations``
passes over each batch, in the update every algorithm shares (:meth:`.Trainer.policy_update`
with a :class:`.Critic`, so micro-batches are weighted exactly as in GRPO). Rewards are scored while the next batch generates, as in :mod:`.grpo`.
Hugging Face TRL removed its PPO trainer; this one keeps the algorithm available.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from codeeval_rl.config import TrainSettings
from codeeval_rl.monitoring.tracker import Tracker
from codeeval_rl.rl.advantages import gae, whiten
from codeeval_rl.rl.loop import Critic, ScoredBatches, StepCallback, Trainer, TrainResult
from codeeval_rl.rl.losses import kl_k1
from codeeval_rl.rl.policy import LLMAdapter
from codeeval_rl.rl.rollout import token_logprobs
from codeeval_rl.rl.scoring import Scorer
from codeeval_rl.types import Task

__all__ = ["ValueHead", "train_ppo"]


class ValueHead(torch.nn.Module):
    """``hidden -> 1`` scalar value per position, initialised at zero output. Given the last
    hidden states ``(batch, L, H)`` it returns ``(batch, L - 1)``: the value of the state before
    each predicted token, aligned with the per-token tensors of a :class:`TokenBatch`."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(hidden_size, 1)
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden[:, :-1].float()).squeeze(-1)


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
                _, hidden = token_logprobs(tr.model, tokens, s.temperature, return_hidden=True)
                old_values = head(hidden) * mask
            token_rewards = -beta * kl_k1(tokens.old_logprobs, ref_lp) * mask
            final = batch.rewards().flatten().to(mask.device)
            has_tokens = tokens.completion_lengths > 0
            rows = torch.arange(mask.shape[0], device=mask.device)[has_tokens]
            token_rewards[rows, tokens.last_index[has_tokens]] += final[has_tokens]
            adv, returns = gae(token_rewards, old_values, mask, gamma=s.gamma, lam=s.lam)
            adv = whiten(adv, mask)

            # 3. num_iterations passes of clipped policy + value loss (the shared update)
            stats = tr.policy_update(tokens, adv, ref_lp, beta=0.0, critic=Critic(head, old_values, returns))
            stats["value_mean"] = float(old_values.sum() / mask.sum().clamp(min=1))
            tr.kl_ctl.update(stats["kl"], n_steps=mask.shape[0])

            stream.advance()
            tr.step += 1
            tr.log(batch, stats, time.perf_counter() - t0, rewards.take_waited(), on_step)
            tr.checkpoint(force=tr.step == tr.total_steps)
    if tr.is_main and save_final:
        torch.save(head.state_dict(), tr.output_dir / "value_head.pt")
    return tr.finish(save_final=save_final)
