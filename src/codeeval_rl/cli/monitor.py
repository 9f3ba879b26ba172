"""``codeeval-rl runs | report | errors | compare | dashboard``: look at what runs did.

A RUN argument is a run id, a unique id prefix or a run name in ``--store`` (default
``$CODEEVAL_STORE`` or ``runs/codeeval.db``), or the path of a directory holding a run
store (the quickstart's output directory) or of a store file, meaning the latest run there;
for ``report``, the latest *training* run there (the latest run when it holds none), since
that is the run with curves: the quickstart's store also holds its held-out evaluations,
which ``report NAME --store DIR`` shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from codeeval_rl.errors import InputError

_STORE_HELP = ("Run store: a SQLite file, a directory holding codeeval.db, or a database URL "
               "(default: $CODEEVAL_STORE or runs/codeeval.db).")
_RUN_HELP = "Run id, id prefix or name in --store; or, without --store, a directory / store file (its latest run)."

StoreOpt = Annotated[str | None, typer.Option("--store", "-s", help=_STORE_HELP)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _open(ref: str | None, store: str | None) -> tuple[Any, Any]:
    """Open the store and the run; print any note (still running, several runs) to stderr."""
    from codeeval_rl.errors import StoreError
    from codeeval_rl.monitoring.store import open_run

    try:
        rs, run, note = open_run(ref, store)
    except StoreError as exc:
        raise InputError(str(exc)) from None
    err = _err_console()
    for line in (note, run.note()):
        if line:
            err.print(f"[yellow]note:[/] {line}", highlight=False)
    return rs, run


def _open_for_report(ref: str | None, store: str | None) -> tuple[Any, Any]:
    """:func:`_open`, except that a directory or store file (no ``--store``) means its latest
    training run (:func:`~codeeval_rl.monitoring.report.default_report_run`)."""
    import os

    from codeeval_rl.errors import StoreError
    from codeeval_rl.monitoring.report import default_report_run
    from codeeval_rl.monitoring.store import RunStore

    if ref is None or store is not None or not os.path.exists(ref):
        return _open(ref, store)
    try:
        rs = RunStore(ref, create=False)
        runs = rs.list_runs()
    except StoreError as exc:
        raise InputError(str(exc)) from None
    if not runs:
        rs.close()
        raise InputError(f"run store {rs.location} holds no runs yet")
    run = default_report_run(runs)
    notes = [run.note()]
    if len(runs) > 1:
        what = "training run" if run.kind == "train" else "run"
        others = ", ".join(dict.fromkeys(r.name for r in runs if r.id != run.id))
        notes.insert(0, f"{rs.location} holds {len(runs)} runs; reporting the latest {what}, {run.label}. "
                        f"Another: codeeval-rl report NAME --store {ref} (NAME: {others})")
    err = _err_console()
    for line in notes:
        if line:
            err.print(f"[yellow]note:[/] {line}", highlight=False)
    return rs, run


def runs_command(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """List the runs in a store, oldest first."""
    import time

    from codeeval_rl.errors import StoreError
    from codeeval_rl.monitoring.store import RunStore, default_store
    from codeeval_rl.monitoring.tracker import RunStatus

    try:
        rs = RunStore(store or default_store(), create=False)
        runs = rs.list_runs()
    except StoreError as exc:
        raise InputError(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in runs], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"runs in {rs.location}")
    for col in ("id", "name", "kind", "status", "rollouts", "step", "started"):
        table.add_column(col, justify="right" if col in ("rollouts", "step") else "left",
                         no_wrap=col != "name", overflow="fold")
    for r in runs:
        colour = {RunStatus.RUNNING: "blue", RunStatus.FINISHED: "green", RunStatus.FAILED: "red"}[r.status]
        table.add_row(r.id, r.name, r.kind, f"[{colour}]{r.status}[/]", str(r.n_rollouts),
                      "" if r.last_step is None else str(r.last_step),
                      time.strftime("%m-%d %H:%M", time.localtime(r.started_at)))
    Console().print(table if runs else f"no runs in {rs.location}")


def report_command(
    run: Annotated[str | None, typer.Argument(
        help="Run id, id prefix or name in --store; or, without --store, a directory / store file (its latest "
             "training run, else its latest run). Default: the latest run in --store.")] = None,
    store: StoreOpt = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
    samples: Annotated[int, typer.Option("--samples", help="Sample completions to show.", min=0)] = 12,
    as_json: JsonOpt = False,
) -> None:
    """Write a self-contained HTML report of RUN (plots, error patterns, samples)."""
    from codeeval_rl.monitoring.report import write_report

    rs, info = _open_for_report(run, store)
    try:
        path = write_report(rs, info.id, output, max_samples=samples)
    finally:
        rs.close()
    if as_json:
        typer.echo(json.dumps({"run": info.id, "output": str(path)}))
    else:
        typer.echo(f"wrote {path} (run {info.label})")


def errors_command(
    run: Annotated[str | None, typer.Argument(help=_RUN_HELP + " Default: the latest run.")] = None,
    store: StoreOpt = None,
    top: Annotated[int, typer.Option("--top", "-n", help="Patterns to show.", min=1)] = 15,
    language: Annotated[str | None, typer.Option("--language", "-l", help="Only this language.")] = None,
    step_from: Annotated[int | None, typer.Option("--step-from", help="Only rollouts from this step on.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the most frequent error patterns of RUN, with their kind, counts and an example."""
    from codeeval_rl.monitoring.taxonomy import KIND_BY_KEY, error_mix, error_patterns

    rs, info = _open(run, store)
    try:
        recs = rs.rollouts(info.id, step_from=step_from)
    finally:
        rs.close()
    if language:
        recs = [r for r in recs if r.language == language.lower()]
    failures = sum(1 for r in recs if not r.passed)
    patterns = error_patterns(recs, top=top)
    mix = error_mix(recs)
    if as_json:
        typer.echo(json.dumps({"run": info.id, "rollouts": len(recs), "failures": failures, "kinds": mix,
                               "patterns": [p.to_dict() for p in patterns]}, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    out = Console()
    if not recs:
        out.print(f"run {info.label} has no rollouts" + (f" in {language}" if language else "") + ".")
        return
    if not failures:
        out.print(f"run {info.label}: all {len(recs)} rollouts passed; no errors.")
        return
    out.print(f"run [bold]{info.label}[/]: {failures} failures in {len(recs)} rollouts")
    kinds = Table(title="failures by kind", show_lines=False)
    for col in ("kind", "count", "share"):
        kinds.add_column(col, justify="left" if col == "kind" else "right")
    for k, n in sorted(mix.items(), key=lambda kv: -kv[1]):
        kinds.add_row(KIND_BY_KEY[k].title, str(n), f"{n / failures:.0%}")
    out.print(kinds)
    table = Table(title=f"top {len(patterns)} error patterns", show_lines=True)
    for col in ("#", "count", "share", "kind", "languages", "pattern"):
        table.add_column(col, justify="right" if col in ("#", "count", "share") else "left",
                         no_wrap=col in ("#", "count", "share"), overflow="fold",
                         ratio={"pattern": 3, "languages": 1}.get(col), min_width=12 if col == "kind" else None)
    for i, p in enumerate(patterns, 1):
        example = "" if p.examples[0] == p.template else f"\n[dim]e.g. {escape(p.examples[0])}[/]"
        table.add_row(str(i), str(p.count), f"{p.share:.0%}", f"{p.title}\n[dim]{p.stage}[/]",
                      ", ".join(p.languages), escape(p.template) + example)
    out.print(table, highlight=False)


def compare_command(
    run_a: Annotated[str, typer.Argument(help="Run A (the baseline). " + _RUN_HELP)],
    run_b: Annotated[str, typer.Argument(help="Run B (the change). " + _RUN_HELP)],
    store: StoreOpt = None,
    store_b: Annotated[str | None, typer.Option("--store-b", help="Store of run B when it differs from --store.")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level.")] = 0.05,
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence of the bootstrap interval.")] = 0.95,
    n_boot: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples.", min=100)] = 10_000,
    n_perm: Annotated[int, typer.Option("--permutations", help="Random sign flips when there are too many tasks to enumerate.", min=100)] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap and permutations.")] = 0,
    step_from: Annotated[int | None, typer.Option("--step-from", help="Only rollouts from this step on (e.g. the last steps of training runs).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare two runs task by task: pass-rate and reward differences with a bootstrap
    confidence interval and a paired permutation test."""
    from codeeval_rl.monitoring.ab import compare_runs

    if not 0 < alpha < 1:
        raise InputError(f"--alpha ({alpha}) must be between 0 and 1")
    if not 0 < confidence < 1:
        raise InputError(f"--confidence ({confidence}) must be between 0 and 1")
    rs_a, a = _open(run_a, store)
    rs_b, b = _open(run_b, store_b if store_b is not None else store)
    try:
        recs_a = rs_a.rollouts(a.id, step_from=step_from)
        recs_b = rs_b.rollouts(b.id, step_from=step_from)
    finally:
        rs_a.close()
        rs_b.close()
    name_a, name_b = a.name or a.id, b.name or b.id
    if name_a == name_b:
        name_a, name_b = f"{name_a} ({a.id[:6]})", f"{name_b} ({b.id[:6]})"
    result = compare_runs(recs_a, recs_b, name_a=name_a, name_b=name_b, alpha=alpha, confidence=confidence,
                          n_boot=n_boot, n_perm=n_perm, seed=seed)
    if as_json:
        data = result.to_dict()
        data["run_a"], data["run_b"] = a.id, b.id
        typer.echo(json.dumps(_finite_json(data), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    out = Console()
    table = Table(title=f"A = {name_a}   vs   B = {name_b}")
    for col in ("metric", "tasks", "A", "B", "B - A", f"{confidence:.0%} CI", "p", "test", "significant"):
        table.add_column(col, justify="left" if col in ("metric", "test") else "right")
    for t in result.tests.values():
        pct = t.metric == "pass_rate"
        f = (lambda v: f"{v * 100:.1f}%") if pct else (lambda v: f"{v:.3f}")
        d = (lambda v: f"{v * 100:+.1f} pt") if pct else (lambda v: f"{v:+.3f}")
        table.add_row(t.metric.replace("_", " "), str(t.n), f(t.mean_a), f(t.mean_b), d(t.diff),
                      f"{d(t.ci_low)} .. {d(t.ci_high)}", f"{t.p_value:.3g}", t.method,
                      "[green]yes[/]" if t.significant else "[yellow]no[/]")
    out.print(table)
    for line in result.summary():
        out.print(line, highlight=False)


def _finite_json(v: Any) -> Any:
    """NaN and infinities become ``null`` (JSON has no NaN)."""
    import math

    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite_json(x) for x in v]
    return v


def dashboard_command(
    store: StoreOpt = None,
    host: Annotated[str, typer.Option("--host", help="Interface to bind (no authentication: keep it local).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port (0: any free port).", min=0, max=65535)] = 8765,
    refresh: Annotated[float, typer.Option("--refresh", help="Seconds between page refreshes.", min=0.5)] = 5.0,
) -> None:
    """Serve a live dashboard of the runs in a store (for a running training) on localhost."""
    from codeeval_rl.errors import StoreError
    from codeeval_rl.monitoring.dashboard import DashboardServer
    from codeeval_rl.monitoring.store import default_store

    try:
        server = DashboardServer(store or default_store(), host=host, port=port, refresh_s=refresh)
    except StoreError as exc:
        raise InputError(str(exc)) from None
    typer.echo(f"dashboard of {server.store.location} at {server.url} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)
    app.command("report")(report_command)
    app.command("errors")(errors_command)
    app.command("compare")(compare_command)
    app.command("dashboard")(dashboard_command)
