"""Reward shaping against hand-computed values."""

from __future__ import annotations

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import ConfigError
from codeeval_rl.evaluation.rewards import LEVELS, SHAPERS, make_reward, needed_levels

COMPS = {"syntax": 1.0, "execution": 0.7, "tests": 0.5, "quality": 0.8, "efficiency": 0.6}


def test_graded_is_the_weighted_mean():
    s = EvaluationSettings(quality_requires_pass=False)
    r = make_reward(COMPS, passed=False, settings=s)
    # 0.2*1 + 0.3*0.7 + 0.3*0.5 + 0.1*0.8 + 0.1*0.6 = 0.2 + 0.21 + 0.15 + 0.08 + 0.06 = 0.70
    assert r.total == pytest.approx(0.70)
    assert dict(r.components) == COMPS


def test_graded_normalises_by_the_weight_sum():
    s = EvaluationSettings(syntax_weight=1, execution_weight=1, test_case_weight=2, quality_weight=0,
                           efficiency_weight=0)
    r = make_reward(COMPS, passed=False, settings=s)
    assert r.total == pytest.approx((1.0 + 0.7 + 2 * 0.5) / 4)


def test_quality_and_efficiency_need_a_pass_by_default():
    r = make_reward(COMPS, passed=False, settings=EvaluationSettings())
    assert r.components["quality"] == 0.0 and r.components["efficiency"] == 0.0
    assert r.total == pytest.approx(0.2 + 0.21 + 0.15)


def test_binary_and_partial():
    assert make_reward(COMPS, False, EvaluationSettings(shaping="binary")).total == 0.0
    full = dict(COMPS, tests=1.0)
    assert make_reward(full, True, EvaluationSettings(shaping="binary")).total == 1.0
    assert make_reward(COMPS, False, EvaluationSettings(shaping="partial")).total == 0.5


def test_table_and_needed_levels():
    assert set(SHAPERS) == {"binary", "partial", "graded"}
    assert needed_levels(EvaluationSettings()) == frozenset(LEVELS)
    assert needed_levels(EvaluationSettings(quality_weight=0)) == frozenset(LEVELS) - {"quality"}
    assert needed_levels(EvaluationSettings(shaping="binary")) == frozenset({"syntax", "execution", "tests"})


def test_bad_components_and_zero_weights():
    with pytest.raises(ValueError, match="missing: quality"):
        make_reward({k: v for k, v in COMPS.items() if k != "quality"}, True, EvaluationSettings())
    with pytest.raises(ValueError, match="outside"):
        make_reward(dict(COMPS, tests=1.5), True, EvaluationSettings())
    zero = EvaluationSettings(syntax_weight=0, execution_weight=0, test_case_weight=0, quality_weight=0,
                              efficiency_weight=0)
    with pytest.raises(ConfigError, match="sum to 0"):
        make_reward(COMPS, True, zero)
