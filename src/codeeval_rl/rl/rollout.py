"""Turning samples into training tensors, and log-probs of tokens under a model.

Layout: each row is ``prompt + completion`` right-padded to the batch's longest row. Per-token
tensors are ``(batch, L - 1)``: position ``t`` holds the log-prob of token ``t + 1`` given the
tokens before it. ``loss_mask`` is 1 exactly on the completion tokens the model produced (in
multi-turn episodes the feedback tokens inside the completion are 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from codeeval_rl.errors import InputError

__all__ = ["TokenBatch", "collate", "completion_mask_from", "first_scored_column", "token_logprobs"]


@dataclass(frozen=True)
class TokenBatch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    loss_mask: torch.Tensor
    """``(batch, L - 1)``: 1 where the next token is a trained completion token."""
    old_logprobs: torch.Tensor
    """``(batch, L - 1)``: the sampling policy's log-probs, 0 off the mask."""
    completion_lengths: torch.Tensor
    last_index: torch.Tensor
    """``(batch,)``: the column of the last completion token's prediction in the per-token tensors."""

    def rows(self, index: slice) -> TokenBatch:
        return TokenBatch(self.input_ids[index], self.attention_mask[index], self.loss_mask[index],
                          self.old_logprobs[index], self.completion_lengths[index], self.last_index[index])


def completion_mask_from(completion_ids: Sequence[int], mask: Sequence[int] | None) -> list[int]:
    if mask is None:
        return [1] * len(completion_ids)
    if len(mask) != len(completion_ids):
        raise InputError(f"completion mask length ({len(mask)}) differs from completion length "
                         f"({len(completion_ids)})")
    return [int(m) for m in mask]


def collate(prompt_ids: Sequence[Sequence[int]], completion_ids: Sequence[Sequence[int]],
            old_logprobs: Sequence[Sequence[float]], pad_id: int,
            completion_masks: Sequence[Sequence[int] | None] | None = None) -> TokenBatch:
    """Pack rows into tensors (see the module docstring for the layout)."""
    n = len(prompt_ids)
    if not (n == len(completion_ids) == len(old_logprobs)):
        raise InputError("collate: prompt_ids, completion_ids and old_logprobs differ in length")
    masks = completion_masks or [None] * n
    width = max(len(p) + len(c) for p, c in zip(prompt_ids, completion_ids))
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    attn = torch.zeros((n, width), dtype=torch.long)
    loss_mask = torch.zeros((n, max(width - 1, 1)))
    old = torch.zeros((n, max(width - 1, 1)))
    lengths = torch.zeros(n, dtype=torch.long)
    last = torch.zeros(n, dtype=torch.long)
    for i, (p, c, lp, m) in enumerate(zip(prompt_ids, completion_ids, old_logprobs, masks)):
        if len(p) == 0:
            raise InputError(f"collate: row {i} has an empty prompt (a first token is needed to predict from)")
        if len(lp) != len(c):
            raise InputError(f"collate: row {i} has {len(c)} completion tokens but {len(lp)} log-probs")
        row = list(p) + list(c)
        ids[i, :len(row)] = torch.tensor(row)
        attn[i, :len(row)] = 1
        start = len(p) - 1  # prediction of the first completion token
        if c:
            loss_mask[i, start:start + len(c)] = torch.tensor(completion_mask_from(c, m), dtype=torch.float)
            old[i, start:start + len(c)] = torch.tensor(lp, dtype=torch.float)
        lengths[i] = len(c)
        last[i] = start + max(len(c) - 1, 0)
    return TokenBatch(ids, attn, loss_mask, old * loss_mask, lengths, last)


def first_scored_column(batch: TokenBatch) -> int:
    """The first column of the per-token tensors where any row's ``loss_mask`` is set (0 when
    none is): every column before it predicts a prompt token of every row."""
    any_row = batch.loss_mask.detach().any(dim=0).nonzero()
    return int(any_row[0]) if len(any_row) else 0


def token_logprobs(model: Any, batch: TokenBatch, temperature: float = 1.0,
                   return_hidden: bool = False) -> Any:
    """Log-probs ``(batch, L - 1)`` of each actual next token under ``model`` with logits divided
    by ``temperature`` (0 means 1: greedy sampling has no temperature). With
    ``return_hidden`` also the last hidden states ``(batch, L, H)`` (PPO's value head).

    Only the columns from :func:`first_scored_column` on are computed (the model's
    ``logits_to_keep``, as TRL does): the columns before it, which predict prompt tokens of
    every row, read 0; every caller masks them out. A model without ``logits_to_keep``
    computes all columns."""
    width = batch.input_ids.shape[1]
    first = first_scored_column(batch)
    keep = width - first
    kwargs: dict[str, Any] = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask,
                              "output_hidden_states": return_hidden, "use_cache": False}
    out = None
    if 0 < first and keep < width:
        try:
            out = model(**kwargs, logits_to_keep=keep)
        except TypeError:  # a model whose forward has no logits_to_keep
            out = None
        if out is not None and out.logits.shape[1] != keep:
            first = width - out.logits.shape[1]  # it kept another number of columns: use what it gave
    if out is None:
        out = model(**kwargs)
        first = 0
    logits = out.logits[:, :-1, :].float()
    if temperature and temperature != 1.0:
        logits = logits / temperature
    targets = batch.input_ids[:, first + 1:]
    lp = torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    if first:
        lp = torch.nn.functional.pad(lp, (first, 0))
    if return_hidden:
        return lp, out.hidden_states[-1]
    return lp
