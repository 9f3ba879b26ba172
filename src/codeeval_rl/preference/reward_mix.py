"""A reward model as part of a training reward: a :class:`~codeeval_rl.rl.scoring.Scorer`
around another scorer.

For each ``(task, completion)`` the inner scorer (the evaluation engine) gives the execution
reward ``e`` and the reward model a score ``s`` for ``(task.prompt, completion)``; the reward is::

    reward = (1 - weight) * e + weight * sigmoid(s)

``sigmoid(s)`` puts the unbounded score on the execution reward's [0, 1] scale. It is added
to the score's components as ``reward_model``, so the trainers log it as
``reward/reward_model`` beside ``reward/tests`` and the others. ``passed``, the status and
the feedback stay the execution's: the reward model never decides that code passes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from codeeval_rl.errors import ConfigError
from codeeval_rl.rl.scoring import Score, Scorer
from codeeval_rl.types import Task

__all__ = ["RewardModelScorer", "mix_reward_model", "sigmoid"]


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


class RewardModelScorer:
    """``inner``'s scores with the reward model mixed in (see the module docstring).
    ``reward_model`` is anything with ``score(prompts, completions) -> list[float]``."""

    def __init__(self, inner: Scorer, reward_model: Any, weight: float) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ConfigError(f"reward_model.weight = {weight}: must be in [0, 1]")
        self.inner, self.reward_model, self.weight = inner, reward_model, weight

    def score(self, pairs: Sequence[tuple[Task, str]], tests: str | None = None) -> list[Score]:
        pairs = list(pairs)
        base = self.inner.score(pairs) if tests is None else self.inner.score(pairs, tests)
        learned = self.reward_model.score([t.prompt for t, _ in pairs], [c for _, c in pairs])
        out = []
        for sc, raw in zip(base, learned, strict=True):
            part = sigmoid(float(raw))
            out.append(replace(sc, reward=(1.0 - self.weight) * sc.reward + self.weight * part,
                               components={**sc.components, "reward_model": part}))
        return out


def mix_reward_model(scorer: Scorer, settings: Any, device: Any = None) -> RewardModelScorer:
    """Load ``settings.path`` (:class:`~codeeval_rl.config.RewardModelSettings`) and wrap ``scorer``."""
    from codeeval_rl.preference.reward_model import RewardModel

    where = settings.device or (str(device) if device is not None else None)
    rm = RewardModel(settings.path, device=where, batch_size=settings.batch_size, max_length=settings.max_length)
    return RewardModelScorer(scorer, rm, settings.weight)
