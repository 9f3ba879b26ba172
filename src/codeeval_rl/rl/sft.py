"""Supervised fine-tuning on (prompt, completion) pairs: the warm start before RL.

The loss is the next-token cross-entropy on completion tokens only (the prompt is context),
with AdamW, linear warm-up and cosine decay. Batches are drawn by a seeded shuffle.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import torch

from codeeval_rl.errors import ConfigError, InputError
from codeeval_rl.rl.rollout import collate, token_logprobs

__all__ = ["sft_train"]


def sft_train(model: Any, tokenizer: Any, pairs: Sequence[tuple[str, str]], *, steps: int, batch_size: int = 32,
              learning_rate: float = 1e-3, warmup: int = 20, seed: int = 0,
              on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Train ``model`` in place; returns the loss of every step. Each completion gets the
    tokenizer's end-of-sequence token appended, so the model learns where to stop."""
    if steps < 1 or batch_size < 1:
        raise ConfigError(f"steps ({steps}) and batch_size ({batch_size}) must be >= 1")
    if not pairs:
        raise InputError("no SFT examples")
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id
    encoded = [(tokenizer(p, add_special_tokens=False)["input_ids"],
                tokenizer(c, add_special_tokens=False)["input_ids"] + [eos]) for p, c in pairs]
    rng = random.Random(seed)
    order: list[int] = []
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate,
                            weight_decay=0.01, betas=(0.9, 0.98))

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    device = next(model.parameters()).device
    model.train()
    losses = []
    for step in range(steps):
        if len(order) < batch_size:
            extra = list(range(len(encoded)))
            rng.shuffle(extra)
            order.extend(extra)
        idx, order = order[:batch_size], order[batch_size:]
        rows = [encoded[i] for i in idx]
        batch = collate([p for p, _ in rows], [c for _, c in rows], [[0.0] * len(c) for _, c in rows], pad)
        lp = token_logprobs(model, type(batch)(*(t.to(device) for t in (
            batch.input_ids, batch.attention_mask, batch.loss_mask, batch.old_logprobs,
            batch.completion_lengths, batch.last_index))))
        mask = batch.loss_mask.to(device)
        loss = -(lp * mask).sum() / mask.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if on_step:
            on_step(step, losses[-1])
    model.eval()
    return losses
