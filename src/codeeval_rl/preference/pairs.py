"""Preference pairs: AceCoder's pair rule (pure) and the pair files both trainers read.

**The rule** (Zeng et al., 2025, AceCoder): among the programs sampled for one task, each
with the share of the task's tests it passes, ``(better, worse)`` is a pair when

* ``better`` passes at least ``min_chosen`` of the tests (0.8),
* ``better`` beats ``worse`` by at least ``min_gap`` (0.4), and
* ``worse`` passes more than ``min_rejected`` (0: a program that passes nothing, often one
  that does not even run, teaches the reward model little).

Comparisons allow ``1e-9`` of float rounding (``1.0 - 0.6`` is a gap of 0.4).

**The files** are JSON Lines, one pair per line, with the columns TRL's ``RewardTrainer``
and ``DPOTrainer`` read as they are: ``prompt``, ``chosen``, ``rejected`` (strings), plus
``task_id`` and whatever the producer adds (``chosen_pass_rate``, ``rejected_pass_rate``,
``source`` for reward-model pairs; ``kind``, ``chosen_score``... for CodeDPO pairs).
:func:`read_pairs` reports every bad line of a file at once, naming the line and the field.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codeeval_rl.data._jsonl import iter_string_records, raise_collected, write_jsonl
from codeeval_rl.errors import ConfigError, InputError

__all__ = ["ACECODER_RULE", "PAIR_FIELDS", "PairRule", "read_pairs", "reward_pair_rows", "select_pairs", "write_pairs"]

PAIR_FIELDS = ("task_id", "prompt", "chosen", "rejected")
"""Every pair row has these string fields."""

_EPS = 1e-9


@dataclass(frozen=True)
class PairRule:
    """AceCoder's thresholds (see the module docstring); each one is a setting."""

    min_chosen: float = 0.8
    """The better program passes at least this share of the tests."""
    min_gap: float = 0.4
    """...and at least this much more than the worse one."""
    min_rejected: float = 0.0
    """The worse program passes more than this share."""

    def __post_init__(self) -> None:
        for name in ("min_chosen", "min_gap", "min_rejected"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"pair rule {name} = {value}: must be in [0, 1]")

    def keeps(self, better: float, worse: float) -> bool:
        """Whether ``(better, worse)`` pass rates make a pair."""
        return (better >= self.min_chosen - _EPS and better - worse >= self.min_gap - _EPS
                and worse > self.min_rejected + _EPS)


ACECODER_RULE = PairRule()
"""The paper's thresholds: 0.8, 0.4, more than 0."""


def select_pairs(pass_rates: Sequence[float], rule: PairRule = ACECODER_RULE) -> list[tuple[int, int]]:
    """Every ``(better, worse)`` index pair of ``pass_rates`` the rule keeps, better first in
    input order, then worse in input order. Pure."""
    for i, r in enumerate(pass_rates):
        if not 0.0 <= r <= 1.0:
            raise InputError(f"pass rate {i} = {r}: must be in [0, 1]")
    return [(i, j) for i, better in enumerate(pass_rates) for j, worse in enumerate(pass_rates)
            if i != j and rule.keeps(better, worse)]


def reward_pair_rows(task_id: str, prompt: str, programs: Sequence[tuple[str, float]], rule: PairRule = ACECODER_RULE,
                     source: Mapping[str, Any] | None = None, max_pairs: int | None = None) -> list[dict[str, Any]]:
    """The reward-model pair rows of one task from its ``(completion, pass rate)`` samples. A
    completion sampled several times counts once (its first occurrence), so no pair repeats;
    at most ``max_pairs`` rows (``None``: all), in :func:`select_pairs`' order. Pure."""
    if max_pairs is not None and max_pairs < 0:
        raise ConfigError(f"max_pairs ({max_pairs}) must be >= 0")
    distinct: dict[str, float] = {}
    for text, rate in programs:
        distinct.setdefault(text, rate)
    texts = list(distinct)
    rates = [distinct[t] for t in texts]
    chosen = select_pairs(rates, rule)
    if max_pairs is not None:
        chosen = chosen[:max_pairs]
    return [{"task_id": task_id, "prompt": prompt, "chosen": texts[i], "rejected": texts[j],
             "chosen_pass_rate": rates[i], "rejected_pass_rate": rates[j], "source": dict(source or {})}
            for i, j in chosen]


def write_pairs(path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write pair rows (atomically: a temporary file renamed); returns the count."""
    return write_jsonl(path, rows)


def read_pairs(path: str | os.PathLike[str], numbers: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The rows of a pair file. Every row must be an object whose :data:`PAIR_FIELDS` are
    strings, ``chosen`` different from ``rejected``, and whose ``numbers`` fields, when present,
    are numbers. All problems are raised together as one
    :class:`~codeeval_rl.errors.DatasetError` naming line and field; an empty file is an
    :class:`InputError`."""
    errors: list[str] = []
    rows = []
    for number, rec in iter_string_records(path, PAIR_FIELDS, errors):
        bad = False
        for name in numbers:
            if name in rec and (isinstance(rec[name], bool) or not isinstance(rec[name], (int, float))):
                errors.append(f"line {number}: {name}: must be a number, got {type(rec[name]).__name__}")
                bad = True
        if rec["chosen"] == rec["rejected"]:
            errors.append(f"line {number}: rejected: the same text as chosen")
            bad = True
        if not bad:
            rows.append(rec)
    raise_collected(path, errors)
    if not rows:
        raise InputError(f"{path}: holds no pairs")
    return rows
