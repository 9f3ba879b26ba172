"""The Bradley-Terry preference loss and pair accuracy: pure functions over plain floats.

A reward model scores a chosen program ``c`` and a rejected one ``r``; under the
Bradley-Terry model the probability that ``c`` is preferred is ``sigmoid(c - r)``, so the
loss of a batch of pairs is the mean negative log-likelihood::

    loss = mean_i( -log sigmoid(c_i - r_i - m_i) ) = mean_i( softplus(-(c_i - r_i - m_i)) )

with an optional margin ``m_i`` (0 by default), the loss TRL's ``RewardTrainer`` minimises
(without its optional centring term). Accuracy is the share of pairs with ``c_i > r_i``
(a tie counts as wrong, as TRL counts it). These serve the held-out figures of a trained
reward model and the check that the trainer's loss is this one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from codeeval_rl.errors import InputError

__all__ = ["bradley_terry_loss", "pair_accuracy", "softplus"]


def softplus(x: float) -> float:
    """``log(1 + exp(x))`` without overflow."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _check(chosen: Sequence[float], rejected: Sequence[float]) -> None:
    if len(chosen) != len(rejected):
        raise InputError(f"{len(chosen)} chosen scores but {len(rejected)} rejected scores")
    if not chosen:
        raise InputError("no pairs to score")


def bradley_terry_loss(chosen: Sequence[float], rejected: Sequence[float],
                       margins: Sequence[float] | None = None) -> float:
    """Mean ``-log sigmoid(chosen - rejected - margin)`` over the pairs (see the module docstring)."""
    _check(chosen, rejected)
    if margins is None:
        margins = [0.0] * len(chosen)
    elif len(margins) != len(chosen):
        raise InputError(f"{len(margins)} margins for {len(chosen)} pairs")
    return math.fsum(softplus(-(c - r - m)) for c, r, m in zip(chosen, rejected, margins)) / len(chosen)


def pair_accuracy(chosen: Sequence[float], rejected: Sequence[float]) -> float:
    """Share of pairs whose chosen score is strictly higher than the rejected one."""
    _check(chosen, rejected)
    return sum(c > r for c, r in zip(chosen, rejected)) / len(chosen)
