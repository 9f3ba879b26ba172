"""``codeeval-rl train | generate | quickstart``: training from execution feedback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from codeeval_rl.errors import InputError


def _live_display(total: int) -> tuple[Any, Any]:
    """A rich Live table refreshed on every step, and the callback that feeds it."""
    from rich.live import Live
    from rich.table import Table

    rows: list[tuple[int, dict[str, float]]] = []

    def render() -> Table:
        table = Table(title=f"training ({len(rows)}/{total} steps)")
        for col in ("step", "reward", "pass rate", "KL", "tokens/s", "reward wait", "step s"):
            table.add_column(col, justify="right")
        for step, m in rows[-15:]:
            table.add_row(str(step), f"{m['reward_mean']:.3f}", f"{m['pass_rate']:.3f}", f"{m.get('kl', 0.0):.4f}",
                          f"{m['tokens_per_s']:.0f}", f"{m['reward_wait_fraction']:.0%}", f"{m['step_time_s']:.2f}")
        return table

    live = Live(render(), refresh_per_second=4, transient=False)

    def on_step(step: int, metrics: Any) -> None:
        rows.append((step, dict(metrics)))
        live.update(render())

    return live, on_step


def train_command(
    config: Annotated[Path, typer.Option("--config", help="YAML with train:, evaluation: and sandbox: sections "
                                                          "(and ray: to score on a Ray cluster).")],
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in output_dir.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final metrics as JSON instead of a live table.")] = False,
    profile: Annotated[str | None, typer.Option("--profile", help="Runtime profile of tasks that name none (python-datascience, node, java; `codeeval-rl sandbox build-env`).")] = None,
    missing_dependency_fails: Annotated[bool, typer.Option("--missing-dependency-fails", help="Reward a sample that needs a package its profile lacks as a runtime error (default: a neutral reward; also evaluation.missing_dependency: fail).")] = False,
) -> None:
    """Train a model with GRPO, PPO, RLOO or multi-turn repair from execution rewards."""
    from codeeval_rl.cli.evaluate import runtime_settings
    from codeeval_rl.config import (
        TrainSettings,
        load_evaluation_settings,
        load_ray_settings,
        load_yaml,
        parse_settings,
    )
    from codeeval_rl.data import load_dataset
    from codeeval_rl.distributed import open_sandbox
    from codeeval_rl.evaluation import Evaluator
    from codeeval_rl.monitoring import RunStore
    from codeeval_rl.monitoring.store import STORE_FILENAME
    from codeeval_rl.rl.generation import get_trainer
    from codeeval_rl.rl.policy import LLMAdapter
    from codeeval_rl.rl.scoring import EvaluatorScorer

    data = load_yaml(config)
    unknown = set(data) - {"train", "evaluation", "sandbox", "ray"}
    if unknown:
        raise InputError(f"{config}: unknown sections {sorted(unknown)}; expected train, evaluation, sandbox, ray")
    settings = parse_settings(TrainSettings, data.get("train"), section="train", source=str(config))
    ray = load_ray_settings(config)  # a ray: section scores on a Ray cluster's CPU nodes
    if not settings.model:
        raise InputError(f"{config}: train.model is required (a local path or hub id)")
    if not settings.dataset:
        raise InputError(f"{config}: train.dataset is required (a task file or dataset name)")
    # --profile (checked to be built before the model loads) and --missing-dependency-fails; the
    # evaluator then runs each task in its profile and gives missing packages a neutral reward
    evaluation = runtime_settings(load_evaluation_settings(config), profile, missing_dependency_fails)
    tasks = load_dataset(settings.dataset)
    policy = LLMAdapter(settings.model, lora=settings.lora, dtype=settings.dtype)
    trainer = get_trainer(settings.algorithm)
    Path(settings.output_dir).mkdir(parents=True, exist_ok=True)
    store = RunStore(settings.store or str(Path(settings.output_dir) / STORE_FILENAME))
    total = settings.steps or None
    with open_sandbox(config if "sandbox" in data else None, ray=ray) as sandbox:
        scorer = EvaluatorScorer(Evaluator(evaluation, sandbox), tests=settings.reward_tests)
        if as_json:
            result = trainer(settings, policy, tasks, scorer, store, resume=resume)
        else:
            import math

            live, on_step = _live_display(total or math.ceil(settings.epochs * len(tasks) / settings.batch_size))
            with live:
                result = trainer(settings, policy, tasks, scorer, store, resume=resume, on_step=on_step)
    store.close()
    final = result.history[-1] if result.history else {}
    summary = {"run_id": result.run_id, "steps": result.steps, "final_model": result.final_path,
               "output_dir": result.output_dir, "last": final}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(f"run {result.run_id}: {result.steps} steps; model saved to {result.final_path}")


def generate_command(
    model: Annotated[str, typer.Option("--model", help="Local path or hub id of a causal LM.")],
    dataset: Annotated[str | None, typer.Option("--dataset", help="Tasks to sample for (name or file).")] = None,
    prompt: Annotated[str | None, typer.Option("--prompt", help="A single prompt instead of a dataset.")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Samples JSONL (human-eval format).")] = None,
    n: Annotated[int, typer.Option("--n", help="Samples per task.")] = 1,
    temperature: Annotated[float, typer.Option("--temperature", help="0 for greedy.")] = 0.8,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens")] = 512,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N tasks.")] = None,
) -> None:
    """Sample completions from a model: for a dataset (to a samples file) or one prompt."""
    from codeeval_rl.data import load_dataset, write_samples
    from codeeval_rl.rl.generation import generate_samples
    from codeeval_rl.rl.policy import LLMAdapter

    if (dataset is None) == (prompt is None):
        raise InputError("give exactly one of --dataset or --prompt")
    policy = LLMAdapter(model)
    if prompt is not None:
        rows = policy.generate([prompt], n=n, temperature=temperature, max_new_tokens=max_new_tokens)[0]
        for i, s in enumerate(rows):
            typer.echo(s.text if n == 1 else f"--- sample {i}\n{s.text}")
        return
    if output is None:
        raise InputError("--dataset needs --output FILE.jsonl")
    assert dataset is not None  # exactly one of --dataset and --prompt was given
    tasks = load_dataset(dataset, limit=limit)
    samples = generate_samples(policy, tasks, n=n, temperature=temperature, max_new_tokens=max_new_tokens)
    write_samples(output, samples)
    typer.echo(f"wrote {len(samples)} samples for {len(tasks)} tasks to {output}")


def quickstart_command(
    output: Annotated[Path, typer.Option("--output", help="Directory for the models, report and run store.")] = Path("runs/quickstart"),
    seed: Annotated[int, typer.Option("--seed")] = 0,
    quick: Annotated[bool, typer.Option("--quick", help="The shortened pipeline check (about a minute).")] = False,
    steps: Annotated[int | None, typer.Option("--steps", help="GRPO steps (overrides the plan).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print report.json.")] = False,
) -> None:
    """Offline demo: tokenizer + tiny LM from scratch, SFT on noisy solutions, GRPO, held-out pass@1."""
    import dataclasses

    import torch
    from rich.console import Console

    from codeeval_rl.apps.quickstart import FULL_PLAN, QUICK_PLAN, run_quickstart

    if steps is not None and steps < 1:
        raise InputError(f"--steps ({steps}) must be >= 1")
    plan = QUICK_PLAN if quick else FULL_PLAN
    if steps is not None:
        plan = dataclasses.replace(plan, rl_steps=steps)
    torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
    console = Console(stderr=as_json)
    _sandbox_table(console)

    def on_step(step: int, m: Any) -> None:
        if step % 5 == 0 or step == plan.rl_steps:
            console.print(f"grpo step {step}/{plan.rl_steps}: reward {m['reward_mean']:.3f}  pass {m['pass_rate']:.3f}  "
                          f"KL {m.get('kl', float('nan')):.4f}  {m['tokens_per_s']:.0f} tok/s  reward wait {m['reward_wait_fraction']:.0%}",
                          highlight=False)

    report = run_quickstart(output, seed=seed, plan=plan, log=lambda s: console.print(s, highlight=False),
                            on_step=on_step)
    if as_json:
        typer.echo(json.dumps({k: v for k, v in report.items() if k != "history"}, indent=2))
        return
    for key, name in (("heldout", "held-out constants"), ("unseen", "unseen families")):
        r = {k: report[f"{key}_{k}"] for k in ("pass@1_sft", "pass@1_rl", "greedy_pass@1_sft", "greedy_pass@1_rl")}
        console.print(f"[bold]{name}[/] ({report[f'{key}_tasks']} tasks): pass@1 SFT {r['pass@1_sft']:.3f} -> GRPO "
                      f"{r['pass@1_rl']:.3f} ({100 * (r['pass@1_rl'] - r['pass@1_sft']):+.1f} points); greedy "
                      f"{r['greedy_pass@1_sft']:.3f} -> {r['greedy_pass@1_rl']:.3f}", highlight=False)
    console.print(f"{report['wall_time_s']:.0f} s in all")
    console.print(f"report: {output / 'report.html'}; runs: codeeval-rl report {output}")


def _sandbox_table(console: Any) -> None:
    """Step 0: what the sandbox does with a few programs (one line each)."""
    from rich.table import Table

    from codeeval_rl.sandbox import Limits, Program, Sandbox

    cases = [("prints", "print('hello')"), ("raises", "raise ValueError('bad')"),
             ("loops forever", "while True: pass"), ("allocates 1 GiB", "x = bytearray(1 << 30)")]
    table = Table(title="sandbox check")
    for col in ("program", "status", "wall ms"):
        table.add_column(col)
    with Sandbox(workers=1) as sb:
        results = sb.run_many([Program("python", src) for _, src in cases], Limits(wall_time_s=1.0, memory_mb=256))
    for (name, _), r in zip(cases, results):
        table.add_row(name, r.status.value, f"{r.wall_time_s * 1000:.0f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("generate")(generate_command)
    app.command("quickstart")(quickstart_command)
