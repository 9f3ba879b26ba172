"""The shared SVG charts: every class a chart draws is styled by CHART_CSS."""

from __future__ import annotations

import re

from codeeval_rl.monitoring import svg


def _classes(markup: str) -> set[str]:
    return {c for attr in re.findall(r'class="([^"]*)"', markup) for c in attr.split()}


def test_chart_css_styles_every_class_the_charts_use() -> None:
    charts = [
        svg.line_chart({"a": [(1, 0.1), (2, 0.4)], "b": [(1, 0.2), (2, float("nan")), (3, 0.3)]}, title="t"),
        svg.band_chart([(1, 0, 1, 2, 3, 4, 2), (2, 1, 2, 3, 4, 5, 3)], title="b"),
        svg.bar_chart([("x", 0.5, "n=2")], title="bars"),
        svg.histogram([0.0, 1.0, 1.0], title="h"),
        svg.stacked_bars(["0-1"], {"k": [2.0]}, title="s"),
        svg.empty_chart("e"),
    ]
    used = set().union(*map(_classes, charts)) - {"chart", "bar"}  # bars carry their own fill
    styled = set(re.findall(r"svg\.chart (?:\w+)?\.([\w-]+)", svg.CHART_CSS))
    assert used <= styled, f"classes without a rule: {sorted(used - styled)}"
    assert all(rule.startswith("svg.chart") for rule in re.findall(r"(?:^|})\s*([^{}]+)\{", svg.CHART_CSS))


def test_line_chart_draws_one_line_per_series_with_a_legend() -> None:
    out = svg.line_chart({"reward": [(0, 0.0), (1, 0.5), (2, 1.0)], "avg": [(0, 0.0), (1, 0.25), (2, 0.5)]},
                         title="Reward <mean>")
    assert out.count("<polyline") == 2 and ">reward</text>" in out and ">avg</text>" in out
    assert "Reward &lt;mean&gt;" in out and "<mean>" not in out
