"""A/B statistics against values computed by hand or by brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from codeeval_rl.errors import InputError
from codeeval_rl.monitoring.ab import (
    bootstrap_ci,
    compare_runs,
    paired_test,
    per_task_values,
    sign_flip_p_value,
)
from codeeval_rl.monitoring.tracker import RolloutRecord


def _brute_p(d: list[float]) -> float:
    obs = abs(sum(d))
    hits = sum(abs(sum(s * x for s, x in zip(signs, d, strict=True))) >= obs - 1e-12
               for signs in itertools.product((1, -1), repeat=len(d)))
    return hits / 2 ** len(d)


@pytest.mark.parametrize(("diffs", "expected"), [
    ([1.0, 1.0, 1.0], 2 / 8),
    ([1.0] * 5, 2 / 32),
    ([1.0] * 10, 2 / 1024),
    ([1.0, -1.0], 1.0),
    ([0.5, 0.25, 0.0, 0.0], 2 / 4),   # zeros do not count
    ([3.0, 1.0, 1.0], 2 / 8),          # signed sums ±5, ±3, ±3, ±1: |sum| >= 5 in 2 of 8
    ([3.0, -1.0, 1.0], 6 / 8),         # observed |3| : ±5, ±3, ±3, ±1 -> 6 of 8 reach 3
])
def test_exact_sign_flip_matches_hand_values(diffs: list[float], expected: float) -> None:
    assert _brute_p(diffs) == pytest.approx(expected)
    p, method = sign_flip_p_value(diffs)
    assert method == "exact" and p == pytest.approx(expected, abs=1e-12)


def test_exact_sign_flip_matches_brute_force_on_random_inputs() -> None:
    rng = np.random.default_rng(7)
    for n in (4, 7, 11):
        d = list(np.round(rng.normal(0.1, 1.0, n), 3))
        assert sign_flip_p_value(d)[0] == pytest.approx(_brute_p(d), abs=1e-12)


def test_monte_carlo_agrees_with_exact() -> None:
    d = [0.4, -0.1, 0.3, 0.5, 0.2, -0.2, 0.6, 0.1, 0.3, 0.0, 0.25, 0.35]
    exact, _ = sign_flip_p_value(d)
    mc, method = sign_flip_p_value(d, n_perm=40_000, exact_max=0)
    assert method == "monte-carlo" and mc == pytest.approx(exact, abs=0.01)
    assert sign_flip_p_value(d, n_perm=500, exact_max=0, seed=3) == sign_flip_p_value(d, n_perm=500, exact_max=0, seed=3)


def test_identical_runs_give_p_one_and_zero_interval() -> None:
    assert sign_flip_p_value([0.0] * 8) == (1.0, "exact")
    assert bootstrap_ci([0.0] * 8) == (0.0, 0.0)
    recs = [RolloutRecord(f"t{i}", "", float(i % 3), "ok", i % 2 == 0, sample_index=s)
            for i in range(20) for s in range(2)]
    res = compare_runs(recs, list(recs), name_a="x", name_b="y")
    for t in res.tests.values():
        assert (t.p_value, t.diff, t.ci_low, t.ci_high, t.significant) == (1.0, 0.0, 0.0, 0.0, False)
    assert res.pass_rate.verdict("x", "y").startswith("No significant difference in pass rate")


def test_bootstrap_interval_is_seeded_and_matches_a_direct_resample() -> None:
    d = [0.0, 1.0, 1.0, 0.0, 1.0, 0.5, -0.5, 1.0]
    lo, hi = bootstrap_ci(d, confidence=0.9, n_boot=5000, seed=11)
    assert (lo, hi) == bootstrap_ci(d, confidence=0.9, n_boot=5000, seed=11)
    rng = np.random.default_rng(11)
    means = np.asarray(d)[rng.integers(0, len(d), size=(5000, len(d)))].mean(axis=1)
    assert (lo, hi) == tuple(np.quantile(means, [0.05, 0.95]))
    assert lo < np.mean(d) < hi
    assert bootstrap_ci([0.25] * 6) == (0.25, 0.25)


def test_per_task_values_average_samples() -> None:
    recs = [RolloutRecord("a", "", 1.0, "ok", True), RolloutRecord("a", "", 0.0, "ok", False),
            RolloutRecord("b", "", float("nan"), "ok", False)]
    assert per_task_values(recs) == {"a": 0.5, "b": 0.0}
    assert per_task_values(recs, "mean_reward") == {"a": 0.5}  # NaN-only task left out
    with pytest.raises(ValueError, match="metric"):
        per_task_values(recs, "median")


def _run(pass_prob: dict[str, float], samples: int = 4) -> list[RolloutRecord]:
    out = []
    for task, p in pass_prob.items():
        k = round(p * samples)
        out += [RolloutRecord(task, "", 1.0 if s < k else 0.0, "ok", s < k, sample_index=s) for s in range(samples)]
    return out


def test_a_clear_improvement_is_significant_and_worded_so() -> None:
    tasks = [f"t{i}" for i in range(30)]
    a = _run(dict.fromkeys(tasks, 0.25))
    b = _run({t: (1.0 if i < 24 else 0.25) for i, t in enumerate(tasks)})
    res = compare_runs(a, b, name_a="base", name_b="new", n_perm=5000)
    t = res.pass_rate
    assert t.n == 30 and t.diff == pytest.approx(0.6) and t.method == "monte-carlo"
    assert t.p_value < 0.001 and t.significant and t.ci_low > 0.4
    assert "new's pass rate is 60.0 points higher than base's" in t.verdict("base", "new")


def test_unpaired_tasks_are_left_out_and_counted() -> None:
    a = _run({"x": 1.0, "y": 0.0, "only_a": 1.0})
    b = _run({"x": 1.0, "y": 1.0, "only_b1": 0.0, "only_b2": 0.0})
    res = compare_runs(a, b)
    assert (res.only_a, res.only_b, res.pass_rate.n) == (1, 2, 2)
    assert res.pass_rate.p_value == 1.0  # one non-zero difference: both signs equally extreme
    assert "Only 2 paired tasks" in res.pass_rate.verdict()
    assert any("1 tasks only in A, 2 only in B" in line for line in res.summary())


def test_no_shared_tasks_or_empty_runs_are_input_errors() -> None:
    with pytest.raises(InputError, match="share no task ids"):
        compare_runs(_run({"a": 1.0}), _run({"b": 1.0}))
    with pytest.raises(InputError, match="has no rollouts"):
        compare_runs([], _run({"b": 1.0}))


def test_paired_test_validates_alpha_and_handles_no_overlap() -> None:
    with pytest.raises(ValueError, match="alpha"):
        paired_test({"a": 1.0}, {"a": 0.0}, alpha=1.5)
    t = paired_test({"a": 1.0}, {"b": 0.0})
    assert t.n == 0 and math.isnan(t.diff) and "share no tasks" in t.verdict()
