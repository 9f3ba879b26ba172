"""``rm pairs``: reward-model pairs from a model's own samples (AceCoder).

For every task, sample ``n`` programs (:func:`~.sampling.sample_and_score`: seeded,
resumable chunks), score each on the task's tests, and keep the pairs
:class:`~.pairs.PairRule` allows (:func:`~.pairs.reward_pair_rows`). Each row records its
``source``: the model and the seed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codeeval_rl.preference.pairs import ACECODER_RULE, PairRule, reward_pair_rows
from codeeval_rl.preference.sampling import sample_and_score
from codeeval_rl.types import Task

__all__ = ["RewardPairs", "build_reward_pairs"]


@dataclass(frozen=True)
class RewardPairs:
    """The pairs and what they came from."""

    rows: list[dict[str, Any]]
    tasks: int
    samples: int
    tasks_with_pairs: int
    mean_pass_rate: float
    """Mean share of tests passed over every sample (how strong the sampling model is)."""


def build_reward_pairs(policy: Any, tasks: Sequence[Task], evaluator: Any, *, n: int = 16, seed: int = 0,
                       rule: PairRule = ACECODER_RULE, model_name: str = "", temperature: float = 1.0,
                       top_p: float = 1.0, max_new_tokens: int = 512, tests: str = "all",
                       max_pairs_per_task: int | None = None, chunk_size: int = 16,
                       journal: str | os.PathLike[str] | None = None,
                       on_chunk: Callable[[int, int], None] | None = None) -> RewardPairs:
    """Sample, score and pair; see the module docstring. ``model_name`` goes into each row's
    ``source`` and into the journal's key."""
    scored = sample_and_score(policy, tasks, evaluator, n=n, seed=seed, temperature=temperature, top_p=top_p,
                              max_new_tokens=max_new_tokens, tests=tests, chunk_size=chunk_size, journal=journal,
                              key={"model": model_name}, on_chunk=on_chunk)
    source: Mapping[str, Any] = {"model": model_name, "seed": seed}
    rows: list[dict[str, Any]] = []
    with_pairs = 0
    for task, programs in zip(tasks, scored, strict=True):
        got = reward_pair_rows(task.id, task.prompt, [(p.completion, p.pass_rate) for p in programs], rule, source,
                               max_pairs_per_task)
        with_pairs += bool(got)
        rows.extend(got)
    rates = [p.pass_rate for programs in scored for p in programs]
    return RewardPairs(rows=rows, tasks=len(tasks), samples=len(rates), tasks_with_pairs=with_pairs,
                       mean_pass_rate=sum(rates) / len(rates) if rates else 0.0)
