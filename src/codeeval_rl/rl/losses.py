"""Policy-gradient losses, KL estimators and the KL coefficient: pure functions.

Token tensors are ``(batch, T)`` with a ``mask`` that is 1 on tokens that count (completion
tokens; in multi-turn episodes the feedback tokens are 0). A loss variant is a row of
:data:`AGGREGATIONS`, chosen once by name through :func:`get_aggregation`:

=========  ======================================================  ==========================
name       aggregation of per-token losses                         source
=========  ======================================================  ==========================
grpo       mean over each sequence's tokens, then over sequences   Shao et al. 2024
dr_grpo    sum over all tokens / (batch * max_tokens), a constant  Liu et al. 2025 (Dr. GRPO)
dapo       sum over all tokens / number of tokens in the batch     Yu et al. 2025 (DAPO)
=========  ======================================================  ==========================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from codeeval_rl.errors import ConfigError

__all__ = [
    "AGGREGATIONS",
    "KL_ESTIMATORS",
    "AdaptiveKL",
    "Aggregation",
    "FixedKL",
    "PolicyLossOutput",
    "clipped_surrogate",
    "get_aggregation",
    "get_kl_estimator",
    "kl_k1",
    "kl_k3",
    "policy_loss",
    "value_loss",
]

Aggregation = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]


def _agg_grpo(per_token: torch.Tensor, mask: torch.Tensor, max_tokens: int) -> torch.Tensor:
    lengths = mask.sum(dim=1).clamp(min=1.0)
    return ((per_token * mask).sum(dim=1) / lengths).mean()


def _agg_dr_grpo(per_token: torch.Tensor, mask: torch.Tensor, max_tokens: int) -> torch.Tensor:
    return (per_token * mask).sum() / (per_token.shape[0] * max_tokens)


def _agg_dapo(per_token: torch.Tensor, mask: torch.Tensor, max_tokens: int) -> torch.Tensor:
    return (per_token * mask).sum() / mask.sum().clamp(min=1.0)


AGGREGATIONS: dict[str, Aggregation] = {"grpo": _agg_grpo, "dr_grpo": _agg_dr_grpo, "dapo": _agg_dapo}


def get_aggregation(name: str) -> Aggregation:
    """The aggregation for loss variant ``name`` (a key of :data:`AGGREGATIONS`)."""
    try:
        return AGGREGATIONS[name]
    except KeyError:
        raise ConfigError(f"loss_type ({name!r}) must be one of {sorted(AGGREGATIONS)}") from None


def kl_k1(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """Per-token k1 estimate of KL(pi || ref): ``log pi - log ref`` (unbiased, can be negative)."""
    return logprobs - ref_logprobs


def kl_k3(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate (Schulman, "Approximating KL divergence"): ``e^d - d - 1`` with
    ``d = log ref - log pi``; unbiased and never negative."""
    d = ref_logprobs - logprobs
    return torch.exp(d) - d - 1.0


KL_ESTIMATORS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {"k1": kl_k1, "k3": kl_k3}


def get_kl_estimator(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    try:
        return KL_ESTIMATORS[name]
    except KeyError:
        raise ConfigError(f"kl_estimator ({name!r}) must be one of {sorted(KL_ESTIMATORS)}") from None


def clipped_surrogate(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                      epsilon: float = 0.2, epsilon_high: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped objective as a per-token loss (to minimise) and a per-token clipped flag.

    ``advantages`` is ``(batch,)`` (one per sequence) or ``(batch, T)``. The ratio is clipped
    to ``[1 - epsilon, 1 + epsilon_high]`` (``epsilon_high`` defaults to ``epsilon``; DAPO's
    clip-higher sets it larger, e.g. 0.28)."""
    if epsilon < 0:
        raise ConfigError(f"epsilon ({epsilon}) must be >= 0")
    high = epsilon if epsilon_high is None else epsilon_high
    if high < 0:
        raise ConfigError(f"epsilon_high ({high}) must be >= 0")
    adv = advantages.unsqueeze(1) if advantages.dim() == 1 else advantages
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - epsilon, 1.0 + high) * adv
    loss = -torch.min(unclipped, clipped)
    return loss, (clipped < unclipped).to(logprobs.dtype)


@dataclass(frozen=True)
class PolicyLossOutput:
    loss: torch.Tensor
    """Scalar to minimise."""
    kl: float
    """Mean per-token KL estimate to the reference (0 without one)."""
    clip_fraction: float
    """Fraction of counted tokens whose ratio was clipped."""


def policy_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                mask: torch.Tensor, *, loss_type: str = "dapo", epsilon: float = 0.2,
                epsilon_high: float | None = None, ref_logprobs: torch.Tensor | None = None,
                beta: float = 0.0, kl_estimator: str = "k3", max_tokens: int | None = None) -> PolicyLossOutput:
    """Clipped surrogate plus ``beta`` times the KL estimate, aggregated by ``loss_type``."""
    aggregate = get_aggregation(loss_type)
    per_token, clipped = clipped_surrogate(logprobs, old_logprobs, advantages, epsilon, epsilon_high)
    mask = mask.to(logprobs.dtype)
    n = mask.sum().clamp(min=1.0)
    kl_value = 0.0
    if ref_logprobs is not None:
        kl = get_kl_estimator(kl_estimator)(logprobs, ref_logprobs)
        if beta:
            per_token = per_token + beta * kl
        kl_value = float(((kl * mask).sum() / n).detach())
    loss = aggregate(per_token, mask, max_tokens or logprobs.shape[1])
    return PolicyLossOutput(loss, kl_value, float(((clipped * mask).sum() / n).detach()))


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
               mask: torch.Tensor, clip: float | None = 0.2) -> torch.Tensor:
    """PPO's value loss ``0.5 * max((v - R)^2, (v_clip - R)^2)``, ``v_clip`` within ``clip`` of
    the old value, averaged over masked tokens. ``clip=None`` gives the plain squared error."""
    mask = mask.to(values.dtype)
    err = (values - returns) ** 2
    if clip is not None:
        v_clipped = old_values + torch.clamp(values - old_values, -clip, clip)
        err = torch.max(err, (v_clipped - returns) ** 2)
    return 0.5 * (err * mask).sum() / mask.sum().clamp(min=1.0)


class FixedKL:
    """A constant KL coefficient."""

    def __init__(self, beta: float) -> None:
        if beta < 0:
            raise ConfigError(f"beta ({beta}) must be >= 0")
        self.value = beta

    def update(self, kl: float, n_steps: int = 1) -> float:
        return self.value


class AdaptiveKL:
    """Adaptive KL coefficient (Ziegler et al. 2019): moves ``value`` so the observed KL
    tracks ``target``; the proportional error is clipped to +-0.2 and scaled by
    ``n_steps / horizon``."""

    def __init__(self, beta: float, target: float, horizon: int = 10000) -> None:
        if beta <= 0 or target <= 0 or horizon <= 0:
            raise ConfigError(f"adaptive KL needs beta ({beta}), target ({target}) and horizon ({horizon}) > 0")
        self.value, self.target, self.horizon = beta, target, horizon

    def update(self, kl: float, n_steps: int = 1) -> float:
        error = min(max(kl / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + error * n_steps / self.horizon
        return self.value


KLControl = Literal["fixed", "adaptive"]
