"""The run report: one self-contained HTML page (inline SVG and CSS, no network, no scripts).

:func:`write_report` reads a run from a :class:`RunStore` and writes the page;
:func:`render_report` builds it from a :class:`ReportData` (the dashboard serves the same
page, plus a small polling script, for a run still being written). Sections: summary,
reward distribution over steps, pass rate by category / language / tier and over time,
error mix over time with the top error patterns, reward components (quality, efficiency,
...) over time, training metrics with KL first, sample completions with their feedback,
and the run's config.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from codeeval_rl.errors import InputError
from codeeval_rl.monitoring import analysis, svg
from codeeval_rl.monitoring.store import RunInfo, RunStore
from codeeval_rl.monitoring.taxonomy import KIND_BY_KEY, KINDS, classify_record, error_patterns
from codeeval_rl.monitoring.tracker import RolloutRecord

__all__ = [
    "ReportData",
    "default_report_run",
    "kl_series",
    "load_report_data",
    "render_body",
    "render_report",
    "write_report",
]

_KIND_COLOURS = {
    "no_code": "#9c755f", "syntax_error": "#e15759", "name_error": "#f28e2b", "import_error": "#b07aa1",
    "type_error": "#edc948", "attribute_error": "#76b7b2", "null_reference": "#ff9da7",
    "index_error": "#4e79a7", "key_error": "#59a14f", "value_error": "#bab0ac", "zero_division": "#d37295",
    "overflow": "#8cd17d", "recursion": "#499894", "assertion": "#86bcb6", "wrong_answer": "#2f6fb0",
    "segfault": "#a0cbe8", "panic": "#79706e", "exit_nonzero": "#d4a6c8", "runtime_error": "#fabfd2",
    "compile_error": "#b6992d", "timeout": "#3f3f3f", "memory": "#ffbe7d", "output_limit": "#8c564b",
    "sandbox_error": "#17becf", "missing_dependency": "#c7c7c7",
}


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, read from the store at one moment."""

    run: RunInfo
    rollouts: Sequence[RolloutRecord]
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    generated_at: float = 0.0


def load_report_data(store: RunStore, run_ref: str | None = None) -> ReportData:
    """Read run ``run_ref`` (id, id prefix or name; the latest run when ``None``)."""
    run = store.latest_run() if run_ref is None else store.get_run(run_ref)
    return ReportData(run=run, rollouts=store.rollouts(run.id), metrics=store.metrics(run.id),
                      generated_at=time.time())


def default_report_run(runs: Sequence[RunInfo]) -> RunInfo:
    """The run a report of a whole store shows: the latest training run, else the latest run.

    A store such as the quickstart's holds evaluation runs before and after its training run;
    the training run is the one with curves to show. ``runs`` oldest first, as
    :meth:`RunStore.list_runs` gives them. Raises :class:`ValueError` when ``runs`` is empty."""
    if not runs:
        raise InputError("no runs to choose from")
    train = [r for r in runs if r.kind == "train"]
    return train[-1] if train else runs[-1]


def kl_series(metrics: dict[str, list[tuple[int, float]]]) -> tuple[str, list[tuple[int, float]]] | None:
    """The KL metric: the one named ``kl``, else one whose last path part is ``kl``."""
    if "kl" in metrics:
        return "kl", metrics["kl"]
    for name in sorted(metrics):
        if name.lower().rsplit("/", 1)[-1] in ("kl", "kl_div", "kl_divergence", "approx_kl"):
            return name, metrics[name]
    return None


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%" if math.isfinite(v) else "–"


def _num(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}f}" if math.isfinite(v) else "–"


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "–"


def _duration(run: RunInfo) -> str:
    end = run.finished_at if run.finished_at else run.updated_at
    s = max(0.0, end - run.started_at)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def _card(label: str, value: str, sub: str = "") -> str:
    return (f'<div class="card"><div class="cl">{escape(label)}</div><div class="cv">{escape(value)}</div>'
            f'<div class="cs">{escape(sub)}</div></div>')


def _section(title: str, body: str, sid: str) -> str:
    return f'<section id="{sid}"><h2>{escape(title)}</h2>{body}</section>'


def _grid(*charts: str) -> str:
    return '<div class="charts">' + "".join(f'<div class="cell">{c}</div>' for c in charts if c) + "</div>"


def render_body(data: ReportData, max_samples: int = 12) -> str:
    """The report's content (no ``<html>`` shell): what the dashboard swaps in on refresh."""
    run, recs = data.run, list(data.rollouts)
    out: list[str] = []
    status_cls = {"running": "st-run", "finished": "st-ok", "failed": "st-bad"}.get(run.status, "")
    out.append(f'<header><h1>{escape(run.name)}</h1><div class="meta">run <code>{escape(run.id)}</code> · '
               f'{escape(run.kind)} · <span class="status {status_cls}">{escape(run.status)}</span> · '
               f"started {_when(run.started_at)} · {_duration(run)}"
               f"{' · finished ' + _when(run.finished_at) if run.finished_at else ''}</div></header>")
    note = run.note(data.generated_at or None)
    if note:
        out.append(f'<div class="note">{escape(note)}</div>')
    if not recs and not data.metrics:
        out.append('<p class="empty-run">Nothing logged yet: no rollouts and no metrics. '
                   "A running trainer writes its first step when it finishes it.</p>")
        return "".join(out)

    overall = analysis.summarize(recs)
    steps = sorted({r.step for r in recs})
    kl = kl_series(data.metrics)
    cards = [_card("pass rate", _pct(overall.pass_rate), f"{overall.passed} of {overall.n} rollouts"),
             _card("mean reward", _num(overall.mean_reward), f"{overall.tasks} tasks"),
             _card("steps", str(len(steps)), f"{steps[0]} to {steps[-1]}" if steps else "no rollouts"),
             _card("failures", str(overall.n - overall.passed),
                   ", ".join(KIND_BY_KEY[k].title for k in list(overall.errors)[:2]))]
    if kl:
        last = [v for _, v in kl[1] if math.isfinite(v)]
        cards.append(_card("KL (last)", _num(last[-1], 4) if last else "–", kl[0]))
    out.append('<div class="cards">' + "".join(cards) + "</div>")
    out.append('<nav><a href="#reward">reward</a><a href="#pass">pass rate</a><a href="#errors">errors</a>'
               '<a href="#components">components</a><a href="#training">training metrics</a>'
               '<a href="#samples">samples</a><a href="#config">config</a></nav>')

    # --- reward
    multi = len(steps) > 1
    rewards = [r.reward for r in recs]
    charts = []
    if multi:
        dist = analysis.reward_distribution(recs)
        charts.append(svg.band_chart([(d.bucket.mid, d.minimum, d.q1, d.median, d.q3, d.maximum, d.mean)
                                      for d in dist], title="Reward distribution over steps"))
    charts.append(svg.histogram(rewards, title="Reward histogram (all rollouts)"))
    out.append(_section("Reward", _grid(*charts), "reward"))

    # --- pass rate
    charts = []
    for field_name in ("category", "language", "tier"):
        groups = analysis.group_stats(recs, field_name)
        if field_name == "tier":
            order = {t: i for i, t in enumerate(("easy", "medium", "hard"))}
            groups.sort(key=lambda g: (order.get(g.key, len(order)), g.key))
        charts.append(svg.bar_chart([(g.key, g.pass_rate, f"n={g.n}") for g in groups],
                                    title=f"Pass rate by {field_name}"))
    if multi:
        by_cat = analysis.over_time(recs, "category")
        top = [g.key for g in analysis.group_stats(recs, "category")[:8]]
        series: dict[str, list[tuple[float, float]]] = {"all": []}
        for bucket, _groups in by_cat:
            series["all"].append((bucket.mid, analysis.summarize(
                [r for r in recs if bucket.lo <= r.step <= bucket.hi]).pass_rate))
        for key in top:
            series[key] = [(b.mid, g[key].pass_rate) for b, g in by_cat if key in g]
        charts.append(svg.line_chart(series, title="Pass rate over steps by category", percent=True,
                                     y_range=(0.0, 1.0), y_label="pass rate"))
    out.append(_section("Pass rate", _grid(*charts), "pass"))

    # --- errors
    charts = []
    if multi:
        buckets = analysis.over_time(recs)
        labels = [b.label for b, _ in buckets]
        kinds = [k.key for k in KINDS if any(g["all"].errors.get(k.key) for _, g in buckets)]
        layers = {KIND_BY_KEY[k].title: [float(g["all"].errors.get(k, 0)) for _, g in buckets] for k in kinds}
        charts.append(svg.stacked_bars(labels, layers, title="Error mix over steps",
                                       colours={KIND_BY_KEY[k].title: _KIND_COLOURS[k] for k in kinds}))
    mix = [(KIND_BY_KEY[k].title, n / max(1, overall.n - overall.passed), f"{n}")
           for k, n in overall.errors.items()]
    charts.append(svg.bar_chart(mix, title="Failures by kind (share of failures)", colour="#e15759"))
    patterns = error_patterns(recs, top=10)
    table = ""
    if patterns:
        rows = "".join(
            f"<tr><td>{p.count}</td><td>{p.share * 100:.0f}%</td><td>{escape(p.title)}"
            f"<div class=\"sub\">{escape(p.stage)}</div></td><td>{escape(', '.join(p.languages))}</td>"
            f"<td><code>{escape(p.template)}</code><div class=\"sub\">e.g. {escape(p.examples[0])}</div></td></tr>"
            for p in patterns)
        table = ('<table class="patterns"><thead><tr><th>count</th><th>share</th><th>kind</th>'
                 f"<th>languages</th><th>pattern</th></tr></thead><tbody>{rows}</tbody></table>")
    elif recs:
        table = '<p class="muted">No failures.</p>'
    out.append(_section("Errors", _grid(*charts) + table, "errors"))

    # --- components
    names = list(overall.components)
    if names:
        if multi:
            per = analysis.over_time(recs)
            series = {n: [(b.mid, g["all"].components.get(n, float("nan"))) for b, g in per] for n in names}
            chart = svg.line_chart(series, title="Reward components over steps (mean)", y_label="mean value")
        else:
            chart = svg.bar_chart([(n, overall.components[n], "") for n in names],
                                  title="Reward components (mean)", percent=False)
        body = _grid(chart, svg.bar_chart(
            [(f"{g.key}", g.components.get("quality", float("nan")), f"n={g.n}")
             for g in analysis.group_stats(recs, "language")],
            title="Quality by language (mean)", percent=False) if "quality" in names else "")
    else:
        body = '<p class="muted">No reward components were logged.</p>'
    out.append(_section("Quality, efficiency and other reward components", body, "components"))

    # --- training metrics
    charts = []
    if kl:
        charts.append(svg.line_chart({kl[0]: kl[1]}, title=f"KL divergence ({kl[0]})", y_label="KL"))
    for name in sorted(data.metrics):
        if kl and name == kl[0]:
            continue
        charts.append(svg.line_chart({name: data.metrics[name]}, title=name, y_label=name))
    body = _grid(*charts) if charts else '<p class="muted">No training metrics were logged.</p>'
    if not kl and charts:
        body = '<p class="muted">No KL metric was logged (no reference model, beta = 0).</p>' + body
    out.append(_section("Training metrics", body, "training"))

    # --- samples
    out.append(_section("Sample completions and their feedback", _samples(recs, max_samples), "samples"))
    cfg = json.dumps(dict(run.config), indent=2, sort_keys=True, default=str)
    out.append(_section("Config", f"<details><summary>run config ({len(run.config)} keys)</summary>"
                                  f"<pre>{escape(cfg)}</pre></details>", "config"))
    return "".join(out)


def _samples(recs: Sequence[RolloutRecord], n: int) -> str:
    """A spread of samples: the latest step's best and worst, then one per error kind."""
    if not recs:
        return '<p class="muted">No rollouts yet.</p>'
    last = max(r.step for r in recs)
    latest = [r for r in recs if r.step == last]
    chosen: list[RolloutRecord] = []

    def add(r: RolloutRecord) -> None:
        if r not in chosen and len(chosen) < n:
            chosen.append(r)

    ranked = sorted(latest, key=lambda r: (-(r.reward if math.isfinite(r.reward) else -1e9), r.task_id))
    passed = [r for r in ranked if r.passed]
    if passed:
        add(passed[0])
    seen_kinds: set[str] = set()
    for r in reversed(recs):
        cls = classify_record(r)
        if cls is not None and cls.kind not in seen_kinds:
            seen_kinds.add(cls.kind)
            add(r)
    for r in ranked:
        add(r)
    cards = []
    for r in chosen:
        cls = classify_record(r)
        verdict = ('<span class="status st-ok">passed</span>' if r.passed else
                   f'<span class="status st-bad">{escape(cls.title if cls else r.status)}</span>')
        comps = " ".join(f"<span class=\"comp\">{escape(k)} {_num(v, 2)}</span>" for k, v in r.components.items())
        code = r.completion if len(r.completion) <= 4000 else r.completion[:4000] + "\n… (cut)"
        feedback = r.first_error or ("all tests passed" if r.passed else "(no error text)")
        if len(feedback) > 3000:
            feedback = feedback[:1500] + "\n…\n" + feedback[-1500:]
        cards.append(
            f'<div class="sample"><div class="sh"><b>{escape(r.task_id)}</b> · {escape(r.language or "?")}'
            f' · {escape(r.category or "–")} · step {r.step} · sample {r.sample_index}'
            f'{f" · turn {r.turn}" if r.turn else ""} · reward <b>{_num(r.reward)}</b> {verdict}</div>'
            f'<div class="comps">{comps}</div><div class="two"><div><div class="lab">completion</div>'
            f'<pre>{escape(code)}</pre></div><div><div class="lab">feedback</div><pre class="fb">'
            f"{escape(feedback)}</pre></div></div></div>")
    return "".join(cards)


_CSS = """
:root{--fg:#1d2733;--muted:#66727f;--line:#dfe4ea;--bg:#f6f8fa;--card:#fff}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}main{max-width:1360px;margin:0 auto;padding:18px 22px 40px}
h1{margin:0;font-size:24px}h2{font-size:18px;margin:0 0 10px;padding-top:8px}
header .meta{color:var(--muted);margin-top:4px}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
.note{background:#fff7e0;border:1px solid #f0d890;padding:8px 12px;border-radius:6px;margin:12px 0}
.empty-run{background:var(--card);border:1px dashed var(--line);padding:20px;border-radius:8px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}.card{background:var(--card);border:1px solid var(--line);
border-radius:8px;padding:10px 16px;min-width:150px}.cl{color:var(--muted);font-size:12px;text-transform:uppercase;
letter-spacing:.04em}.cv{font-size:24px;font-weight:600}.cs{color:var(--muted);font-size:12px}
nav{display:flex;gap:14px;margin:6px 0 14px;flex-wrap:wrap}nav a{color:#2f5f9e;text-decoration:none}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:14px 0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:10px}
.cell{overflow-x:auto}
table.patterns{border-collapse:collapse;width:100%;margin-top:10px}table.patterns th,table.patterns td{
border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
table.patterns th{color:var(--muted);font-weight:500;font-size:12px}.sub{color:var(--muted);font-size:12px}
.sample{border:1px solid var(--line);border-radius:8px;padding:10px;margin:10px 0}.sh{margin-bottom:4px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:10px}.lab{color:var(--muted);font-size:12px}
pre{background:#f3f5f8;border-radius:6px;padding:8px;margin:2px 0;max-height:320px;overflow:auto;
font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word}
pre.fb{background:#fdf3f3}.comp{display:inline-block;background:#eef3f9;border-radius:4px;padding:0 6px;
margin:0 4px 2px 0;font-size:12px}.status{padding:1px 7px;border-radius:10px;font-size:12px}
.st-ok{background:#e3f4e5;color:#21652d}.st-bad{background:#fbe6e6;color:#9b1c1c}.st-run{background:#e5eefb;
color:#1f4e8c}.muted{color:var(--muted)}footer{color:var(--muted);font-size:12px;margin-top:18px}
#live{position:fixed;top:10px;right:14px;background:#fff;border:1px solid var(--line);border-radius:14px;
padding:3px 10px;font-size:12px;color:var(--muted)}
@media (max-width:700px){.two{grid-template-columns:1fr}.charts{grid-template-columns:1fr}}
""" + svg.CHART_CSS

_LIVE_JS = """
(function(){
  var el=document.getElementById('report'), badge=document.getElementById('live');
  var url=el.getAttribute('data-src'), every=+el.getAttribute('data-refresh')*1000;
  function tick(){
    fetch(url,{cache:'no-store'}).then(function(r){
      if(!r.ok){throw new Error('HTTP '+r.status);} return r.text();
    }).then(function(html){
      var y=window.scrollY; el.innerHTML=html; window.scrollTo(0,y);
      badge.textContent='live · updated '+new Date().toLocaleTimeString();
    }).catch(function(e){ badge.textContent='live · cannot reach the dashboard ('+e.message+')'; });
  }
  setInterval(tick, every);
})();
"""


def render_report(data: ReportData, *, live_src: str | None = None, refresh_s: float = 5.0,
                  max_samples: int = 12) -> str:
    """The whole page. ``live_src``: a URL serving :func:`render_body` fragments; when
    given, a small inline script swaps the body in every ``refresh_s`` seconds."""
    title = f"{data.run.name} · CodeEval RL report"
    script, badge, attrs = "", "", ""
    if live_src is not None:
        script = f"<script>{_LIVE_JS}</script>"
        badge = '<div id="live">live</div>'
        attrs = f' data-src="{escape(live_src)}" data-refresh="{refresh_s:g}"'
    generated = _when(data.generated_at or time.time())
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{escape(title)}</title><style>{_CSS}</style></head>'
            f'<body>{badge}<main><div id="report"{attrs}>{render_body(data, max_samples)}</div>'
            f"<footer>CodeEval RL report · generated {generated} · self-contained: no scripts or "
            f"network needed to view it</footer></main>{script}</body></html>")


def write_report(store: RunStore | str | os.PathLike[str], run: str | None, output: str | os.PathLike[str],
                 *, max_samples: int = 12) -> Path:
    """Write run ``run`` (id, prefix or name; latest when ``None``) of ``store`` (a
    :class:`RunStore`, a path or a URL) as one HTML file at ``output``; return its path.

    Raises :class:`InputError` when the run has logged nothing yet, and
    :class:`StoreError` when the store or run does not exist."""
    own = not isinstance(store, RunStore)
    rs = store if isinstance(store, RunStore) else RunStore(store, create=False)
    try:
        data = load_report_data(rs, run)
    finally:
        if own:
            rs.close()
    if not data.rollouts and not data.metrics:
        raise InputError(f"run {data.run.label} has no rollouts or metrics yet; nothing to report"
                         + (" (it is still running: try again after its first step)" if data.run.running else ""))
    out = Path(output)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(render_report(data, max_samples=max_samples), encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise InputError(f"cannot write the report to {out}: {exc.strerror}") from None
    return out
