"""Advantage estimators: pure functions over plain tensors, tested against hand-computed values.

* :func:`group_relative` — GRPO (Shao et al. 2024, DeepSeekMath): ``r - mean(group)``, divided by
  a standard deviation chosen by ``scale`` (``"group"``: the group's, ``"batch"``: the whole
  batch's, ``"none"``: not scaled, as Dr. GRPO recommends, Liu et al. 2025).
* :func:`leave_one_out` — RLOO (Ahmadian et al. 2024): ``r_i - mean(r_j, j != i)``.
* :func:`gae` — generalised advantage estimation for PPO (Schulman et al. 2016).

Rewards for groups are laid out as ``(num_groups, group_size)``; standard deviations are
the unbiased (n - 1) ones, as in TRL, and ``eps`` keeps a constant group's advantages at 0.
"""

from __future__ import annotations

from typing import Literal

import torch

from codeeval_rl.errors import ConfigError, InputError

__all__ = ["Scale", "gae", "group_relative", "leave_one_out", "whiten"]

Scale = Literal["group", "batch", "none"]


def _check_groups(rewards: torch.Tensor, name: str) -> None:
    if rewards.dim() != 2:
        raise InputError(f"{name}: rewards must be (num_groups, group_size), got shape {tuple(rewards.shape)}")


def group_relative(rewards: torch.Tensor, scale: Scale = "group", eps: float = 1e-4) -> torch.Tensor:
    """GRPO advantages of ``rewards`` shaped ``(num_groups, group_size)``; same shape back."""
    _check_groups(rewards, "group_relative")
    if scale not in ("group", "batch", "none"):
        raise ConfigError(f"scale ({scale!r}) must be 'group', 'batch' or 'none'")
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    if scale == "none":
        return centred
    if scale == "group":
        std = rewards.std(dim=1, keepdim=True) if rewards.shape[1] > 1 else torch.zeros_like(rewards[:, :1])
    else:
        std = rewards.std() if rewards.numel() > 1 else torch.zeros(())
    return centred / (std + eps)


def leave_one_out(rewards: torch.Tensor) -> torch.Tensor:
    """RLOO advantages: each reward minus the mean of the *other* rewards of its group.

    Needs ``group_size >= 2`` (with one sample there is no baseline)."""
    _check_groups(rewards, "leave_one_out")
    k = rewards.shape[1]
    if k < 2:
        raise ConfigError(f"leave_one_out needs group_size >= 2, got {k}")
    baseline = (rewards.sum(dim=1, keepdim=True) - rewards) / (k - 1)
    return rewards - baseline


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor,
        gamma: float = 1.0, lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over token sequences.

    ``rewards``, ``values`` and ``mask`` are ``(batch, T)``; ``mask`` is 1 on real completion
    tokens, and the value after the last real token is 0 (the episode ends there). Returns
    ``(advantages, returns)`` with ``returns = advantages + values``, both 0 where masked.
    """
    if not (rewards.shape == values.shape == mask.shape):
        raise InputError(f"gae: shapes differ: rewards {tuple(rewards.shape)}, values {tuple(values.shape)}, "
                         f"mask {tuple(mask.shape)}")
    mask = mask.to(rewards.dtype)
    values = values * mask
    steps = rewards.shape[1]
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(steps)):
        next_value = values[:, t + 1] if t + 1 < steps else torch.zeros_like(last)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        last = (delta + gamma * lam * last) * mask[:, t]
        adv[:, t] = last
    return adv, (adv + values) * mask


def whiten(x: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalise ``x`` to mean 0, std 1 over the entries where ``mask`` is 1 (0 elsewhere)."""
    m = mask.to(x.dtype)
    n = m.sum().clamp(min=1.0)
    mean = (x * m).sum() / n
    var = (((x - mean) ** 2) * m).sum() / n
    return (x - mean) * torch.rsqrt(var + eps) * m
