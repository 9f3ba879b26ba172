"""The pure math of preference learning against hand-computed values: AceCoder's pair rule, the
Bradley-Terry loss, mutual verification and Spearman's rho."""

from __future__ import annotations

import json
import math

import pytest

from codeeval_rl.errors import ConfigError, DatasetError, InputError
from codeeval_rl.preference.correlation import average_ranks, spearman
from codeeval_rl.preference.loss import bradley_terry_loss, pair_accuracy, softplus
from codeeval_rl.preference.mutual import mutual_verification, pass_count_scores
from codeeval_rl.preference.pairs import PairRule, read_pairs, select_pairs

# --- pair rule ---------------------------------------------------------------------------------


def test_pair_rule_keeps_exactly_the_hand_listed_pairs():
    # chosen >= 0.8: indices 0 (1.0) and 1 (0.9); rejected > 0 and at least 0.4 below
    rates = [1.0, 0.9, 0.5, 0.0, 0.6]
    assert select_pairs(rates) == [(0, 2), (0, 4), (1, 2)]


def test_pair_rule_boundaries_are_inclusive_where_the_paper_says_at_least():
    rule = PairRule()
    assert rule.keeps(0.8, 0.4)          # chosen exactly 0.8, gap exactly 0.4
    assert not rule.keeps(0.79, 0.1)     # chosen below 0.8
    assert not rule.keeps(1.0, 0.61)     # gap 0.39
    assert not rule.keeps(1.0, 0.0)      # the worse passes nothing
    assert rule.keeps(1.0, 1 / 7)        # passes one test of seven


def test_each_threshold_is_a_setting():
    rates = [0.7, 0.5, 0.0]
    assert select_pairs(rates) == []
    assert select_pairs(rates, PairRule(min_chosen=0.7, min_gap=0.2)) == [(0, 1)]
    assert select_pairs(rates, PairRule(min_chosen=0.7, min_gap=0.2, min_rejected=-0.0)) == [(0, 1)]
    assert select_pairs([1.0, 0.5], PairRule(min_rejected=0.5)) == []
    assert select_pairs([1.0, 0.0], PairRule(min_rejected=0.0)) == []


def test_bad_rule_and_bad_rates_are_named():
    with pytest.raises(ConfigError, match="min_gap = 1.5"):
        PairRule(min_gap=1.5)
    with pytest.raises(InputError, match="pass rate 1 = 1.2"):
        select_pairs([0.5, 1.2])


def test_read_pairs_names_every_bad_line_and_field(tmp_path):
    path = tmp_path / "p.jsonl"
    good = {"task_id": "t", "prompt": "p", "chosen": "a", "rejected": "b", "chosen_pass_rate": 1.0}
    lines = [json.dumps(good), json.dumps({**good, "chosen": 3}), "{not json", json.dumps([1]),
             json.dumps({k: v for k, v in good.items() if k != "prompt"}),
             json.dumps({**good, "chosen_pass_rate": "high"}), json.dumps({**good, "rejected": "a"})]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as info:
        read_pairs(path, numbers=("chosen_pass_rate",))
    text = str(info.value)
    for expected in ("line 2: chosen: must be a string, got int", "line 3: invalid JSON",
                     "line 4: expected a JSON object", "line 5: prompt: missing",
                     "line 6: chosen_pass_rate: must be a number, got str",
                     "line 7: rejected: the same text as chosen"):
        assert expected in text
    assert "line 1" not in text
    path.write_text(json.dumps(good) + "\n")
    assert read_pairs(path) == [good]
    path.write_text("\n")
    with pytest.raises(InputError, match="holds no pairs"):
        read_pairs(path)


# --- Bradley-Terry -----------------------------------------------------------------------------


def test_bradley_terry_loss_against_hand_values():
    # -log sigmoid(1) = log(1 + e^-1) = 0.3132617, -log sigmoid(0) = log 2 = 0.6931472
    assert bradley_terry_loss([1.0, 0.0], [0.0, 0.0]) == pytest.approx((0.3132617 + 0.6931472) / 2, abs=1e-7)
    # a wrong order costs more: -log sigmoid(-2) = 2.1269280
    assert bradley_terry_loss([0.0], [2.0]) == pytest.approx(2.1269280, abs=1e-7)
    # the margin is subtracted: -log sigmoid(3 - 1 - 2) = log 2
    assert bradley_terry_loss([3.0], [1.0], margins=[2.0]) == pytest.approx(math.log(2))


def test_bradley_terry_loss_is_stable_far_from_zero():
    assert bradley_terry_loss([1000.0], [0.0]) == pytest.approx(0.0, abs=1e-300)
    assert bradley_terry_loss([0.0], [1000.0]) == pytest.approx(1000.0)
    assert softplus(-800.0) == pytest.approx(math.exp(-800.0), rel=1e-6)


def test_pair_accuracy_counts_ties_as_wrong():
    assert pair_accuracy([2.0, 1.0, 0.5, 0.0], [1.0, 1.0, 1.0, -1.0]) == 0.5
    with pytest.raises(InputError, match="2 chosen scores but 1 rejected"):
        pair_accuracy([1.0, 2.0], [0.0])
    with pytest.raises(InputError, match="no pairs"):
        bradley_terry_loss([], [])


def test_bradley_terry_loss_equals_the_trainer_loss():
    torch = pytest.importorskip("torch")
    c = torch.tensor([0.3, -1.2, 2.5])
    r = torch.tensor([0.1, 0.4, -0.5])
    trl_form = float(-torch.nn.functional.logsigmoid(c - r).mean())
    assert bradley_terry_loss(c.tolist(), r.tolist()) == pytest.approx(trl_form, rel=1e-6)


# --- mutual verification -----------------------------------------------------------------------

MATRIX = [[1, 1], [1, 0], [0, 0]]  # program 0 passes both tests, program 1 the first, program 2 none


def test_one_iteration_by_hand():
    v = mutual_verification(MATRIX, iterations=1)
    # M t0 = [1, 1/2, 0] -> [2/3, 1/3, 0]; p1 = 0.05 + 0.85 * that
    assert v.programs == pytest.approx((0.05 + 0.85 * 2 / 3, 0.05 + 0.85 / 3, 0.05))
    # M^T p0 = [2/3, 1/3] (already normalised); t1 = 0.075 + 0.85 * that
    assert v.tests == pytest.approx((0.075 + 0.85 * 2 / 3, 0.075 + 0.85 / 3))


def test_two_iterations_by_hand():
    v = mutual_verification(MATRIX, iterations=2)
    # M t1 = [t1a + t1b, t1a, 0] = [1, 0.6416667, 0] -> [0.6091371, 0.3908629, 0]
    assert v.programs == pytest.approx((0.05 + 0.85 * 0.6091371, 0.05 + 0.85 * 0.3908629, 0.05), abs=1e-6)
    # M^T p1 = [p1a + p1b, p1a] = [0.95, 0.6166667] -> [0.6063830, 0.3936170]
    assert v.tests == pytest.approx((0.075 + 0.85 * 0.6063830, 0.075 + 0.85 * 0.3936170), abs=1e-6)


def test_scores_stay_distributions_and_rank_as_the_evidence_says():
    v = mutual_verification(MATRIX)  # the default: d = 0.85, 10 iterations
    assert sum(v.programs) == pytest.approx(1.0) and sum(v.tests) == pytest.approx(1.0)
    assert v.programs[0] > v.programs[1] > v.programs[2] == pytest.approx(0.05)
    assert v.tests[0] > v.tests[1]


def test_a_test_only_wrong_programs_pass_loses_weight():
    # three programs agree (pass t0, t1); one odd program passes only the bad test t2
    matrix = [[1, 1, 0], [1, 1, 0], [1, 1, 0], [0, 0, 1]]
    v = mutual_verification(matrix)
    assert v.tests[2] < v.tests[0] and v.programs[3] < v.programs[0]
    # the baseline counts tests passed: every test weighs the same
    assert pass_count_scores(matrix) == (2 / 3, 2 / 3, 2 / 3, 1 / 3)


def test_no_evidence_keeps_uniform_scores():
    assert mutual_verification([[0, 0], [0, 0]]).programs == (0.5, 0.5)
    assert mutual_verification([[], []]).programs == (0.5, 0.5)
    assert mutual_verification([[1], [1]], iterations=0).programs == (0.5, 0.5)
    assert pass_count_scores([[], []]) == (0.0, 0.0)


def test_bad_matrices_and_settings_are_named():
    with pytest.raises(InputError, match="at least one program"):
        mutual_verification([])
    with pytest.raises(InputError, match="row 1 has 1 tests"):
        mutual_verification([[1, 0], [1]])
    with pytest.raises(InputError, match="damping"):
        mutual_verification(MATRIX, damping=1.5)
    with pytest.raises(InputError, match="iterations"):
        mutual_verification(MATRIX, iterations=-1)


# --- Spearman ----------------------------------------------------------------------------------


def test_spearman_without_ties_matches_the_sum_of_squares_formula():
    # d = [0, 1, 1, 0]: rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert spearman([0.1, 5.0, 7.0], [1, 2, 3]) == pytest.approx(1.0)  # ranks, not values


def test_spearman_with_ties_uses_average_ranks():
    assert average_ranks([1, 1, 2]) == [1.5, 1.5, 3.0]
    assert average_ranks([3, 1, 3, 3]) == [3.0, 1.0, 3.0, 3.0]
    # ranks [1.5, 1.5, 3] and [1, 2, 3]: cov 1.5, var 1.5 and 2 -> 1.5 / sqrt(3)
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(1.5 / math.sqrt(3))


def test_spearman_is_undefined_for_constant_or_short_input():
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    assert spearman([1], [2]) is None
    with pytest.raises(InputError, match="one length"):
        spearman([1, 2], [1])
