"""``report.html`` of the quickstart: one self-contained page (inline SVG and CSS, no scripts,
no network) built from what ``report.json`` holds.

It shows the held-out pass@1 table (both held-out sets; sampled and greedy; SFT and GRPO) and
a bar chart of it, the GRPO curves (reward and training pass rate with a 5-step moving
average, KL to the SFT model) drawn by :func:`codeeval_rl.monitoring.svg.line_chart`, then the
remaining figures and the stage times. A report without the unseen-family figures (written
before that set existed) renders without that row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.monitoring import svg

__all__ = ["render_html", "smooth"]

# (report.json key prefix, what the set is, what that means)
_SETS = (("heldout", "held-out constants", "the training families with constants no training task has"),
         ("unseen", "unseen families", "task families no training task comes from"))

_CSS = """
:root{--fg:#1d2733;--muted:#66727f;--line:#dfe4ea}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:2em auto;
max-width:1360px;padding:0 22px}h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:22px 0 8px}
.muted{color:var(--muted)}table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:4px 9px;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:10px}.cell{overflow-x:auto}
""" + svg.CHART_CSS


def smooth(ys: Sequence[float], k: int = 5) -> list[float]:
    """The moving average of the last ``k`` values (fewer at the start)."""
    if k < 1:
        raise InputError(f"k ({k}) must be >= 1")
    return [sum(ys[max(0, i - k + 1):i + 1]) / len(ys[max(0, i - k + 1):i + 1]) for i in range(len(ys))]


def _sets(report: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return [s for s in _SETS if f"{s[0]}_pass@1_sft" in report]


def _pass_table(report: Mapping[str, Any]) -> str:
    rows = []
    for key, name, _ in _sets(report):
        sft, rl = report[f"{key}_pass@1_sft"], report[f"{key}_pass@1_rl"]
        gs, gr = report[f"{key}_greedy_pass@1_sft"], report[f"{key}_greedy_pass@1_rl"]
        what = name
        if key == "unseen" and report.get("unseen_families"):
            what += " (" + ", ".join(report["unseen_families"]) + ")"
        rows.append(f"<tr><th>{escape(what)}</th><td class='n'>{report.get(f'{key}_tasks', '')}</td>"
                    f"<td class='n'>{sft:.3f}</td><td class='n'><b>{rl:.3f}</b></td>"
                    f"<td class='n'>{100 * (rl - sft):+.1f}</td><td class='n'>{gs:.3f}</td>"
                    f"<td class='n'><b>{gr:.3f}</b></td><td class='n'>{100 * (gr - gs):+.1f}</td></tr>")
    return ("<table><thead><tr><th>held-out set</th><th>tasks</th><th>sampled SFT</th><th>sampled GRPO</th>"
            "<th>points</th><th>greedy SFT</th><th>greedy GRPO</th><th>points</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<p class='muted'>Sampled: {report.get('eval_samples_per_task', '?')} completions per task at "
            f"temperature {report.get('eval_temperature', '?')}, the fraction that pass every test (pass@1). "
            "Greedy: one temperature-0 completion per task. "
            + " ".join(f"{name.capitalize()}: {means}." for _, name, means in _sets(report)) + "</p>")


def _pass_bars(report: Mapping[str, Any]) -> str:
    short = {"heldout": "constants", "unseen": "unseen"}
    items = []
    for key, _, _ in _sets(report):
        n = f"{report.get(f'{key}_tasks', '?')} tasks"
        for mode, infix, note in (("", "", f"{n} x {report.get('eval_samples_per_task', '?')}"),
                                  (" greedy", "greedy_", n)):
            for model, suffix in (("SFT", "sft"), ("GRPO", "rl")):
                items.append((f"{short[key]} · {model}{mode}", float(report[f"{key}_{infix}pass@1_{suffix}"]), note))
    return svg.bar_chart(items, title="Held-out pass@1")


def render_html(report: Mapping[str, Any]) -> str:
    """The page for ``report`` (a dict as :func:`~.pipeline.run_quickstart` returns it)."""
    hist = report.get("history", [])
    xs = [h["step"] for h in hist]

    def curve(name: str) -> dict[str, list[tuple[float, float]]]:
        ys = [h[name] for h in hist]
        return {name.replace("_", " "): list(zip(xs, ys)), "5-step average": list(zip(xs, smooth(ys)))}

    charts = [
        _pass_bars(report),
        svg.line_chart(curve("reward_mean"), title="Reward (mean per step)", y_label="reward"),
        svg.line_chart(curve("pass_rate"), title="Training pass rate", percent=True, y_range=(0.0, 1.0),
                       y_label="pass rate"),
        svg.line_chart({"kl": [(x, h["kl"]) for x, h in zip(xs, hist) if "kl" in h]}, title="KL to the SFT model (k3, per token)",
                       y_label="KL"),
    ]
    shown = {f"{k}_{m}pass@1_{s}" for k, _, _ in _SETS for m in ("", "greedy_") for s in ("sft", "rl")}
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(round(v, 4) if isinstance(v, float) else v))}</td></tr>"
                   for k, v in report.items() if k not in shown | {"history", "plan", "timings_s", "host"})
    timing = "".join(f"<tr><th>{escape(k)}</th><td class='n'>{v:.1f}</td></tr>"
                     for k, v in report.get("timings_s", {}).items())
    sets = _sets(report)
    headline = "; ".join(
        f"{name}: SFT <b>{report[f'{key}_pass@1_sft']:.3f}</b> &rarr; GRPO <b>{report[f'{key}_pass@1_rl']:.3f}</b> "
        f"(greedy {report[f'{key}_greedy_pass@1_sft']:.3f} &rarr; {report[f'{key}_greedy_pass@1_rl']:.3f})"
        for key, name, _ in sets)
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>CodeEval RL quickstart</title>"
            f"<style>{_CSS}</style></head><body><h1>CodeEval RL quickstart</h1>"
            f"<p>Held-out pass@1, {headline}. Seed {report.get('seed', '?')}, "
            f"{float(report.get('wall_time_s', 0.0)):.0f} s.</p>"
            f"<h2>Held-out pass@1</h2>{_pass_table(report)}"
            "<div class='charts'>" + "".join(f"<div class='cell'>{c}</div>" for c in charts) + "</div>"
            f"<h2>Figures</h2><table>{rows}</table><h2>Stage times (s)</h2><table>{timing}</table>"
            "</body></html>")
