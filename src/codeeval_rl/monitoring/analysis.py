"""Tracking over time: pass rate, reward, reward components and error mix, by group and step.

Pure functions over :class:`~codeeval_rl.monitoring.tracker.RolloutRecord` sequences (what
:meth:`RunStore.rollouts` returns). Groups are any record field (``category``,
``language``, ``tier``, ``task_id``, ``status``); an empty field is shown as ``"(none)"``.
Rewards or components that are NaN (stored as NULL) are left out of means, not counted
as zero. Steps are bucketed into at most ``max_buckets`` contiguous ranges so a plot of
10 000 steps stays readable.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from codeeval_rl.errors import ConfigError
from codeeval_rl.monitoring.taxonomy import classify_record
from codeeval_rl.monitoring.tracker import RolloutRecord

__all__ = [
    "GROUP_FIELDS",
    "Distribution",
    "GroupStats",
    "StepBucket",
    "group_stats",
    "over_time",
    "quantile",
    "reward_distribution",
    "step_buckets",
    "summarize",
]

GROUP_FIELDS = ("category", "language", "tier", "task_id", "status", "step", "turn")
NONE_LABEL = "(none)"


@dataclass(frozen=True)
class GroupStats:
    """What one group of rollouts did. ``pass_rate`` is passed / n; ``mean_reward`` and
    ``components`` average the finite values only (NaN when there are none); ``errors``
    counts failures per taxonomy kind."""

    key: str
    n: int
    passed: int
    pass_rate: float
    mean_reward: float
    tasks: int
    components: Mapping[str, float] = field(default_factory=dict)
    errors: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "n": self.n, "passed": self.passed, "pass_rate": self.pass_rate,
                "mean_reward": _json_float(self.mean_reward), "tasks": self.tasks,
                "components": {k: _json_float(v) for k, v in self.components.items()},
                "errors": dict(self.errors)}


@dataclass(frozen=True)
class StepBucket:
    """Steps ``lo`` to ``hi`` inclusive."""

    lo: int
    hi: int

    @property
    def label(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"

    @property
    def mid(self) -> float:
        return (self.lo + self.hi) / 2


@dataclass(frozen=True)
class Distribution:
    """Five-number summary plus mean of finite values in one step bucket."""

    bucket: StepBucket
    n: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    mean: float


def _json_float(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _mean(values: Iterable[float]) -> float:
    vals = [v for v in values if math.isfinite(v)]
    return math.fsum(vals) / len(vals) if vals else float("nan")


def _key(rec: RolloutRecord, by: str) -> str:
    if by not in GROUP_FIELDS:
        raise ConfigError(f"cannot group by {by!r}; choose one of {', '.join(GROUP_FIELDS)}")
    value = getattr(rec, by)
    return str(value) if value not in ("", None) else NONE_LABEL


def summarize(records: Sequence[RolloutRecord], key: str = "all") -> GroupStats:
    """One :class:`GroupStats` over all ``records`` (``n == 0`` gives NaN means, 0 pass rate)."""
    n = len(records)
    passed = sum(1 for r in records if r.passed)
    names: list[str] = []
    for r in records:
        for name in r.components:
            if name not in names:
                names.append(name)
    comps = {name: _mean(r.components[name] for r in records if name in r.components) for name in names}
    errors: Counter[str] = Counter()
    for r in records:
        cls = classify_record(r)
        if cls is not None:
            errors[cls.kind] += 1
    return GroupStats(key=key, n=n, passed=passed, pass_rate=passed / n if n else 0.0,
                      mean_reward=_mean(r.reward for r in records),
                      tasks=len({r.task_id for r in records}), components=comps,
                      errors=dict(errors.most_common()))


def group_stats(records: Sequence[RolloutRecord], by: str) -> list[GroupStats]:
    """:func:`summarize` per value of field ``by``, largest group first (ties by key)."""
    groups: dict[str, list[RolloutRecord]] = defaultdict(list)
    for r in records:
        groups[_key(r, by)].append(r)
    out = [summarize(rs, key) for key, rs in groups.items()]
    out.sort(key=lambda g: (-g.n, g.key))
    return out


def step_buckets(steps: Iterable[int], max_buckets: int = 60) -> list[StepBucket]:
    """Contiguous step ranges covering the distinct ``steps``: one per step when there are
    at most ``max_buckets``, otherwise equal-count runs of consecutive distinct steps."""
    if max_buckets < 1:
        raise ConfigError(f"max_buckets ({max_buckets}) must be at least 1")
    distinct = sorted(set(steps))
    if not distinct:
        return []
    if len(distinct) <= max_buckets:
        return [StepBucket(s, s) for s in distinct]
    size = math.ceil(len(distinct) / max_buckets)
    return [StepBucket(distinct[i], distinct[min(i + size, len(distinct)) - 1])
            for i in range(0, len(distinct), size)]


def _bucketed(records: Sequence[RolloutRecord], max_buckets: int) -> list[tuple[StepBucket, list[RolloutRecord]]]:
    buckets = step_buckets((r.step for r in records), max_buckets)
    if not buckets:
        return []
    his = [b.hi for b in buckets]
    members: list[list[RolloutRecord]] = [[] for _ in buckets]
    import bisect

    for r in records:
        members[bisect.bisect_left(his, r.step)].append(r)
    return list(zip(buckets, members, strict=True))


def over_time(records: Sequence[RolloutRecord], by: str | None = None,
              max_buckets: int = 60) -> list[tuple[StepBucket, dict[str, GroupStats]]]:
    """Per step bucket, :class:`GroupStats` per group (``{"all": ...}`` when ``by`` is None)."""
    out = []
    for bucket, rs in _bucketed(records, max_buckets):
        if by is None:
            out.append((bucket, {"all": summarize(rs)}))
        else:
            out.append((bucket, {g.key: g for g in group_stats(rs, by)}))
    return out


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default, 'linear') of sorted values."""
    if not sorted_values:
        return float("nan")
    if not 0.0 <= q <= 1.0:
        raise ConfigError(f"quantile q ({q}) must be within [0, 1]")
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


def reward_distribution(records: Sequence[RolloutRecord], max_buckets: int = 60) -> list[Distribution]:
    """The reward distribution per step bucket (buckets whose rewards are all NaN are left out)."""
    out = []
    for bucket, rs in _bucketed(records, max_buckets):
        vals = sorted(r.reward for r in rs if math.isfinite(r.reward))
        if not vals:
            continue
        out.append(Distribution(bucket=bucket, n=len(vals), minimum=vals[0], q1=quantile(vals, 0.25),
                                median=quantile(vals, 0.5), q3=quantile(vals, 0.75), maximum=vals[-1],
                                mean=math.fsum(vals) / len(vals)))
    return out
