"""report.html of the quickstart: self-contained, both held-out sets, the shared chart code."""

from __future__ import annotations

import re

import pytest

from codeeval_rl.apps.quickstart.page import render_html, smooth
from codeeval_rl.monitoring.svg import CHART_CSS


def _report(**extra) -> dict:
    hist = [{"step": s, "reward_mean": s / 10, "pass_rate": s / 10, "kl": 0.001 * s} for s in range(1, 8)]
    return {"heldout_pass@1_sft": 0.49, "heldout_pass@1_rl": 0.698, "improvement_points": 20.8,
            "heldout_greedy_pass@1_sft": 0.729, "heldout_greedy_pass@1_rl": 0.771,
            "unseen_pass@1_sft": 0.0417, "unseen_pass@1_rl": 0.0833, "unseen_improvement_points": 4.16,
            "unseen_greedy_pass@1_sft": 0.0, "unseen_greedy_pass@1_rl": 0.125,
            "seed": 3, "wall_time_s": 12.0, "timings_s": {"sft_s": 1.5}, "plan": {}, "heldout_tasks": 48,
            "unseen_tasks": 24, "unseen_families": ["power", "<b>bold</b>"], "eval_samples_per_task": 8,
            "eval_temperature": 1.0, "history": hist, "host": {}, **extra}


def test_page_is_self_contained_and_uses_the_shared_charts() -> None:
    page = render_html(_report())
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert CHART_CSS in page
    assert page.count('<svg class="chart"') == 4
    for title in ("Held-out pass@1", "Reward (mean per step)", "Training pass rate", "KL to the SFT model"):
        assert f"<title>{title}" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_page_shows_sampled_and_greedy_for_both_sets() -> None:
    page = render_html(_report())
    rows = re.findall(r"<tr><th>(held-out constants|unseen families[^<]*)</th>(.*?)</tr>", page)
    assert [name.split(" (")[0] for name, _ in rows] == ["held-out constants", "unseen families"]
    cells = [re.findall(r"<td class='n'>(?:<b>)?([^<]*)", body) for _, body in rows]
    assert cells[0] == ["48", "0.490", "0.698", "+20.8", "0.729", "0.771", "+4.2"]
    assert cells[1] == ["24", "0.042", "0.083", "+4.2", "0.000", "0.125", "+12.5"]
    assert "8 completions per task at temperature 1.0" in page


def test_a_report_from_before_the_unseen_set_still_renders() -> None:
    old = {k: v for k, v in _report().items() if not k.startswith("unseen")}
    page = render_html(old)
    assert "held-out constants" in page and "unseen families" not in page
    assert page.count('<svg class="chart"') == 4


def test_no_history_gives_placeholder_charts() -> None:
    page = render_html(_report(history=[]))
    assert page.count("no data yet") == 3


def test_smooth_is_a_trailing_average() -> None:
    assert smooth([1.0, 3.0, 5.0, 7.0], k=2) == [1.0, 2.0, 4.0, 6.0]
    assert smooth([]) == []
    assert smooth([2.0, 4.0], k=5) == [2.0, 3.0]
    with pytest.raises(ValueError, match="k"):
        smooth([1.0], k=0)
