"""A/B testing of two runs on the same tasks: paired differences, bootstrap CI, sign-flip test.

Each task contributes one paired difference ``d_i = b_i - a_i`` where ``a_i`` is run A's
per-task value (the fraction of that task's samples that passed, or their mean reward)
and ``b_i`` run B's. Tasks only one run has are left out and counted. Then:

* the difference is ``mean(d)``; its confidence interval is the percentile bootstrap
  over tasks (resampling the ``d_i`` with replacement, seeded, so reruns agree);
* the p-value is the paired permutation test that flips the sign of each ``d_i`` at
  random (under "no difference" A and B are exchangeable within a task): the share of
  sign patterns whose ``|mean|`` is at least the observed one. With at most
  ``exact_max`` non-zero differences every pattern is enumerated (exact p); otherwise
  ``n_perm`` random patterns give ``(1 + hits) / (1 + n_perm)`` (never 0).

Identical runs give ``d = 0``, a CI of ``[0, 0]`` and ``p = 1``. The test is two-sided.
Pairing by task removes task difficulty from the comparison: far more power than
comparing two overall pass rates as if they were independent samples.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from codeeval_rl.errors import ConfigError, InputError
from codeeval_rl.monitoring.tracker import RolloutRecord

__all__ = [
    "ABResult",
    "PairedTest",
    "bootstrap_ci",
    "compare_runs",
    "paired_test",
    "per_task_values",
    "sign_flip_p_value",
]

METRICS = ("pass_rate", "mean_reward")


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of one metric over ``n`` tasks; ``diff = mean_b - mean_a``."""

    metric: str
    n: int
    mean_a: float
    mean_b: float
    diff: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    method: str
    alpha: float

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def verdict(self, name_a: str = "A", name_b: str = "B") -> str:
        """One sentence a person can act on, saying plainly when nothing was shown."""
        pct = self.metric == "pass_rate"
        scale, unit = (100.0, " points") if pct else (1.0, "")
        what = "pass rate" if pct else "mean reward"
        d, lo, hi = self.diff * scale, self.ci_low * scale, self.ci_high * scale
        fmt = "{:+.1f}" if pct else "{:+.3f}"
        ci = f"{self.confidence:.0%} CI {fmt.format(lo)} to {fmt.format(hi)}{unit}"
        stats = f"{ci}, paired sign-flip p = {self.p_value:.3g}, {self.n} tasks"
        if self.n == 0:
            return f"No {what} comparison: the runs share no tasks."
        if self.significant:
            direction = "higher" if self.diff > 0 else "lower"
            text = (f"{name_b}'s {what} is {abs(d):.{1 if pct else 3}f}{unit} {direction} than {name_a}'s "
                    f"({stats}): significant at alpha = {self.alpha:g}.")
        else:
            text = (f"No significant difference in {what}: {name_b} - {name_a} = {fmt.format(d)}{unit} "
                    f"({stats}). At alpha = {self.alpha:g} these runs cannot be told apart on this "
                    "evidence; more tasks or samples would be needed to detect a difference this small.")
        if self.n < 10:
            text += f" Only {self.n} paired tasks: the test has little power."
        return text

    def to_dict(self) -> dict[str, object]:
        return {"metric": self.metric, "n": self.n, "mean_a": self.mean_a, "mean_b": self.mean_b,
                "diff": self.diff, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "confidence": self.confidence, "p_value": self.p_value, "method": self.method,
                "alpha": self.alpha, "significant": self.significant}


@dataclass(frozen=True)
class ABResult:
    """Run A against run B: one :class:`PairedTest` per metric plus the task bookkeeping.
    ``per_task`` holds ``(task_id, a_pass_rate, b_pass_rate)`` for the paired tasks."""

    name_a: str
    name_b: str
    tests: Mapping[str, PairedTest]
    only_a: int
    only_b: int
    per_task: tuple[tuple[str, float, float], ...]

    @property
    def pass_rate(self) -> PairedTest:
        return self.tests["pass_rate"]

    @property
    def mean_reward(self) -> PairedTest:
        return self.tests["mean_reward"]

    def summary(self) -> list[str]:
        """The verdicts, then a note on unpaired tasks when there are any."""
        lines = [t.verdict(self.name_a, self.name_b) for t in self.tests.values()]
        if self.only_a or self.only_b:
            lines.append(f"Left out: {self.only_a} tasks only in {self.name_a}, "
                         f"{self.only_b} only in {self.name_b} (a paired test needs both).")
        return lines

    def to_dict(self) -> dict[str, object]:
        return {"a": self.name_a, "b": self.name_b,
                "tests": {k: v.to_dict() for k, v in self.tests.items()},
                "only_a": self.only_a, "only_b": self.only_b, "summary": self.summary(),
                "per_task": [{"task_id": t, "a": a, "b": b} for t, a, b in self.per_task]}


def per_task_values(records: Iterable[RolloutRecord], metric: str = "pass_rate") -> dict[str, float]:
    """Per task: the fraction of its samples that passed (``pass_rate``) or their mean
    finite reward (``mean_reward``; tasks whose rewards are all NaN are left out)."""
    if metric not in METRICS:
        raise ConfigError(f"metric {metric!r} is not one of {', '.join(METRICS)}")
    by_task: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if metric == "pass_rate":
            by_task[r.task_id].append(1.0 if r.passed else 0.0)
        elif math.isfinite(r.reward):
            by_task[r.task_id].append(float(r.reward))
    return {t: math.fsum(v) / len(v) for t, v in by_task.items() if v}


def bootstrap_ci(diffs: Sequence[float], confidence: float = 0.95, n_boot: int = 10_000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(diffs)``, resampling with replacement."""
    import numpy as np

    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence ({confidence}) must be between 0 and 1")
    if n_boot < 1:
        raise ConfigError(f"n_boot ({n_boot}) must be at least 1")
    d = np.asarray(diffs, dtype=float)
    if d.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    chunk = max(1, 2_000_000 // d.size)  # bounded memory for many tasks
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, d.size, size=(stop - start, d.size))
        means[start:stop] = d[idx].mean(axis=1)
    tail = (1.0 - confidence) / 2
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return (float(lo), float(hi))


def sign_flip_p_value(diffs: Sequence[float], n_perm: int = 10_000, seed: int = 0,
                      exact_max: int = 16) -> tuple[float, str]:
    """Two-sided paired permutation p-value of ``mean(diffs) != 0`` and the method used
    (``"exact"`` or ``"monte-carlo"``). Zero differences do not change under a flip, so
    only the non-zero ones are enumerated."""
    import numpy as np

    d = np.asarray([x for x in diffs if x != 0.0], dtype=float)
    m = d.size
    if m == 0:
        return (1.0, "exact")
    observed = abs(d.sum())
    tol = 1e-9 * max(1.0, observed)  # sums of the same numbers in another order
    if m <= exact_max:
        codes = np.arange(2**m, dtype=np.int64)[:, None]
        signs = 1 - 2 * ((codes >> np.arange(m)) & 1)
        sums = np.abs(signs @ d)
        return (float(np.count_nonzero(sums >= observed - tol)) / 2**m, "exact")
    if n_perm < 1:
        raise ConfigError(f"n_perm ({n_perm}) must be at least 1")
    rng = np.random.default_rng(seed)
    hits = 0
    chunk = max(1, 2_000_000 // m)
    for start in range(0, n_perm, chunk):
        k = min(chunk, n_perm - start)
        signs = rng.integers(0, 2, size=(k, m)) * 2 - 1
        hits += int(np.count_nonzero(np.abs(signs @ d) >= observed - tol))
    return ((1 + hits) / (1 + n_perm), "monte-carlo")


def paired_test(a: Mapping[str, float], b: Mapping[str, float], metric: str = "pass_rate", *,
                alpha: float = 0.05, confidence: float = 0.95, n_boot: int = 10_000,
                n_perm: int = 10_000, seed: int = 0) -> PairedTest:
    """Compare per-task values ``a`` and ``b`` on their common tasks (sorted by task id)."""
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha ({alpha}) must be between 0 and 1")
    common = sorted(set(a) & set(b))
    diffs = [b[t] - a[t] for t in common]
    n = len(common)
    if n == 0:
        nan = float("nan")
        return PairedTest(metric, 0, nan, nan, nan, nan, nan, confidence, 1.0, "none", alpha)
    mean_a = math.fsum(a[t] for t in common) / n
    mean_b = math.fsum(b[t] for t in common) / n
    lo, hi = bootstrap_ci(diffs, confidence, n_boot, seed)
    p, method = sign_flip_p_value(diffs, n_perm, seed)
    return PairedTest(metric=metric, n=n, mean_a=mean_a, mean_b=mean_b, diff=math.fsum(diffs) / n,
                      ci_low=lo, ci_high=hi, confidence=confidence, p_value=p, method=method,
                      alpha=alpha)


def compare_runs(records_a: Sequence[RolloutRecord], records_b: Sequence[RolloutRecord], *,
                 name_a: str = "A", name_b: str = "B", alpha: float = 0.05, confidence: float = 0.95,
                 n_boot: int = 10_000, n_perm: int = 10_000, seed: int = 0) -> ABResult:
    """Paired comparison of two runs' rollouts by task (pass rate and mean reward).

    Raises :class:`InputError` when either run has no rollouts or they share no task."""
    if not records_a or not records_b:
        empty = name_a if not records_a else name_b
        raise InputError(f"run {empty} has no rollouts to compare")
    tests = {}
    for metric in METRICS:
        va, vb = per_task_values(records_a, metric), per_task_values(records_b, metric)
        tests[metric] = paired_test(va, vb, metric, alpha=alpha, confidence=confidence,
                                    n_boot=n_boot, n_perm=n_perm, seed=seed)
    pa, pb = per_task_values(records_a), per_task_values(records_b)
    common = sorted(set(pa) & set(pb))
    if not common:
        raise InputError(f"runs {name_a} and {name_b} share no task ids; a paired comparison needs "
                         f"the same tasks (e.g. {sorted(pa)[:3]} vs {sorted(pb)[:3]})")
    return ABResult(name_a=name_a, name_b=name_b, tests=tests,
                    only_a=len(set(pa) - set(pb)), only_b=len(set(pb) - set(pa)),
                    per_task=tuple((t, pa[t], pb[t]) for t in common))
