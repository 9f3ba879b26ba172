"""Tracking by group and over steps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codeeval_rl.monitoring.analysis import (
    group_stats,
    over_time,
    quantile,
    reward_distribution,
    step_buckets,
    summarize,
)
from codeeval_rl.monitoring.tracker import RolloutRecord


def _r(step: int, passed: bool, reward: float, cat: str = "", lang: str = "python", **comps: float) -> RolloutRecord:
    return RolloutRecord(task_id=f"t{step}{cat}", completion="", reward=reward,
                         status="ok" if passed else "runtime_error", passed=passed, step=step,
                         language=lang, category=cat, components=comps,
                         first_error="" if passed else "NameError: name 'x' is not defined")


def test_summarize_counts_means_and_errors() -> None:
    recs = [_r(0, True, 1.0, "a", q=1.0), _r(0, False, 0.0, "a", q=0.5), _r(1, False, float("nan"), "b")]
    s = summarize(recs)
    assert (s.n, s.passed, s.tasks) == (3, 1, 2)  # t0a twice, t1b
    assert s.pass_rate == pytest.approx(1 / 3) and s.mean_reward == 0.5  # NaN left out, not zero
    assert s.components == {"q": 0.75} and s.errors == {"name_error": 2}
    empty = summarize([])
    assert empty.n == 0 and empty.pass_rate == 0.0 and math.isnan(empty.mean_reward)


def test_group_stats_by_field() -> None:
    recs = [_r(0, True, 1.0, "a"), _r(0, False, 0.0, "a"), _r(0, True, 1.0, "b"), _r(0, True, 1.0, "")]
    groups = {g.key: (g.n, g.pass_rate) for g in group_stats(recs, "category")}
    assert groups == {"a": (2, 0.5), "b": (1, 1.0), "(none)": (1, 1.0)}
    assert next(g.key for g in group_stats(recs, "category")) == "a"  # largest first
    with pytest.raises(ValueError, match="cannot group by"):
        group_stats(recs, "colour")


def test_step_buckets() -> None:
    assert [(b.lo, b.hi) for b in step_buckets([3, 1, 1, 2])] == [(1, 1), (2, 2), (3, 3)]
    buckets = step_buckets(range(100), max_buckets=10)
    assert len(buckets) == 10 and buckets[0].lo == 0 and buckets[-1].hi == 99
    assert all(b.hi - b.lo == 9 for b in buckets)
    assert [(b.lo, b.hi) for b in step_buckets(range(10), 3)] == [(0, 3), (4, 7), (8, 9)]
    assert step_buckets([]) == []
    with pytest.raises(ValueError):
        step_buckets([1], 0)


def test_over_time_and_reward_distribution() -> None:
    recs = [_r(s, s >= 2, r, "a" if s % 2 else "b") for s in range(4) for r in (0.0, 0.5, 1.0)]
    series = over_time(recs)
    assert [b.lo for b, _ in series] == [0, 1, 2, 3]
    assert [g["all"].pass_rate for _, g in series] == [0.0, 0.0, 1.0, 1.0]
    by_cat = over_time(recs, "category")
    assert set(by_cat[1][1]) == {"a"} and set(by_cat[0][1]) == {"b"}
    dist = reward_distribution(recs, max_buckets=2)
    assert [(d.bucket.lo, d.bucket.hi, d.n) for d in dist] == [(0, 1, 6), (2, 3, 6)]
    assert (dist[0].minimum, dist[0].median, dist[0].maximum, dist[0].mean) == (0.0, 0.5, 1.0, 0.5)


def test_quantile_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    for n in (1, 2, 5, 17):
        vals = sorted(rng.normal(size=n).tolist())
        for q in (0.0, 0.25, 0.5, 0.75, 1.0):
            assert quantile(vals, q) == pytest.approx(float(np.quantile(vals, q)))
    assert math.isnan(quantile([], 0.5))
