"""``codeeval-rl rm | dpo``: reward models (AceCoder) and verified preferences (CodeDPO).

``rm pairs`` samples programs and keeps AceCoder's pairs; ``rm train`` trains a Bradley-Terry
reward model on them; ``dpo pairs`` scores a model's own programs and tests by mutual
verification and writes correctness and efficiency pairs; ``dpo train`` runs DPO (or RPO) on
them. Best-of-N reranking with a reward model is ``codeeval-rl evaluate --best-of N --rm DIR``.
Long runs keep a journal (``OUTPUT.partial.jsonl``) and resume from it when run again with the
same settings. See docs/preference.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from codeeval_rl.errors import InputError

__all__ = ["register"]

rm_app = typer.Typer(help="AceCoder reward models: pairs from sampled programs, Bradley-Terry training.",
                     no_args_is_help=True)
dpo_app = typer.Typer(help="CodeDPO: mutually verified programs and tests, correctness and efficiency pairs, DPO.",
                      no_args_is_help=True)

TestsOpt = Annotated[str, typer.Option("--tests", help="Which of the task's tests score the programs: all, hidden or public.")]
DatasetOpt = Annotated[str, typer.Option("--dataset", help="Task file or dataset name.")]
SeedOpt = Annotated[int, typer.Option("--seed")]
TemperatureOpt = Annotated[float, typer.Option("--temperature")]
TopPOpt = Annotated[float, typer.Option("--top-p")]
MaxNewTokensOpt = Annotated[int, typer.Option("--max-new-tokens")]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="Only the first N tasks.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Evaluation YAML (its limits).")]
ChunkSizeOpt = Annotated[int, typer.Option("--chunk-size", help="Tasks per generation and sandbox batch.")]


@contextmanager
def _chunk_progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar over tasks, fed by the chunk callback."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True)) as progress:
        bar = progress.add_task(label, total=None)

        def on_chunk(done: int, total: int) -> None:
            progress.update(bar, completed=done, total=total)

        yield on_chunk


def _journal(output: Path) -> Path:
    return output.with_name(output.name + ".partial.jsonl")


def _evaluation(config: Path | None) -> Any:
    """The evaluation settings pair building uses: the file's limits, binary shaping (only the
    tests decide a pass rate, so quality and efficiency are not run)."""
    from codeeval_rl.config import load_evaluation_settings

    return load_evaluation_settings(config).model_copy(update={"shaping": "binary"})


def _tasks(dataset: str, limit: int | None) -> list[Any]:
    from codeeval_rl.data import load_dataset

    tasks = load_dataset(dataset, limit=limit)
    if not tasks:
        raise InputError(f"dataset {dataset!r} holds no tasks")
    return list(tasks)


def _write(output: Path, rows: list[dict[str, Any]]) -> None:
    from codeeval_rl.preference.pairs import write_pairs

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_pairs(output, rows)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None


def _check_sampling(n: int, temperature: float, max_new_tokens: int, chunk_size: int, n_flag: str = "--n") -> None:
    if n < 1:
        raise InputError(f"{n_flag} ({n}) must be >= 1")
    if temperature < 0:
        raise InputError(f"--temperature ({temperature}) must be >= 0")
    if max_new_tokens < 1:
        raise InputError(f"--max-new-tokens ({max_new_tokens}) must be >= 1")
    if chunk_size < 1:
        raise InputError(f"--chunk-size ({chunk_size}) must be >= 1")


@rm_app.command("pairs")
def rm_pairs_command(
    model: Annotated[str, typer.Option("--model", help="Local path (or cached hub id) of the causal LM that samples.")],
    dataset: DatasetOpt,
    output: Annotated[Path, typer.Option("--output", help="Pairs JSONL (prompt, chosen, rejected...).")],
    n: Annotated[int, typer.Option("--n", help="Programs sampled per task.")] = 16,
    seed: SeedOpt = 0,
    temperature: TemperatureOpt = 1.0,
    top_p: TopPOpt = 1.0,
    max_new_tokens: MaxNewTokensOpt = 512,
    tests: TestsOpt = "all",
    min_chosen: Annotated[float, typer.Option("--min-chosen", help="The better program passes at least this share.")] = 0.8,
    min_gap: Annotated[float, typer.Option("--min-gap", help="...and beats the worse by at least this much.")] = 0.4,
    min_rejected: Annotated[float, typer.Option("--min-rejected", help="The worse passes more than this share.")] = 0.0,
    max_pairs_per_task: Annotated[int | None, typer.Option("--max-pairs-per-task")] = None,
    limit: LimitOpt = None,
    config: ConfigOpt = None,
    chunk_size: ChunkSizeOpt = 16,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Sample N programs per task, run them on the task's tests, keep AceCoder's (better, worse) pairs."""
    from codeeval_rl.evaluation import Evaluator
    from codeeval_rl.preference.pairs import PairRule
    from codeeval_rl.preference.reward_pairs import build_reward_pairs
    from codeeval_rl.rl.policy import LLMAdapter

    _check_sampling(n, temperature, max_new_tokens, chunk_size)
    rule = PairRule(min_chosen=min_chosen, min_gap=min_gap, min_rejected=min_rejected)
    tasks = _tasks(dataset, limit)
    policy = LLMAdapter(model)
    with Evaluator(_evaluation(config)) as ev, _chunk_progress("sampling and scoring", as_json) as on_chunk:
        result = build_reward_pairs(policy, tasks, ev, n=n, seed=seed, rule=rule, model_name=model,
                                    temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, tests=tests,
                                    max_pairs_per_task=max_pairs_per_task, chunk_size=chunk_size,
                                    journal=_journal(output), on_chunk=on_chunk)
    _write(output, result.rows)
    _journal(output).unlink(missing_ok=True)
    summary = {"output": str(output), "tasks": result.tasks, "samples": result.samples, "pairs": len(result.rows),
               "tasks_with_pairs": result.tasks_with_pairs, "mean_pass_rate": result.mean_pass_rate}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(f"{len(result.rows)} pairs from {result.tasks_with_pairs} of {result.tasks} tasks "
                   f"({result.samples} samples, mean pass rate {result.mean_pass_rate:.3f}) written to {output}")


@rm_app.command("train")
def rm_train_command(
    pairs: Annotated[Path, typer.Option("--pairs", help="Pairs JSONL from `rm pairs`.")],
    base: Annotated[str, typer.Option("--base", help="Model the reward model starts from (a causal LM directory).")],
    output: Annotated[Path, typer.Option("--output", help="RM_DIR: loads with AutoModelForSequenceClassification.")],
    epochs: Annotated[float, typer.Option("--epochs")] = 1.0,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Pairs per step.")] = 16,
    learning_rate: Annotated[float, typer.Option("--learning-rate")] = 1e-5,
    max_length: Annotated[int, typer.Option("--max-length", help="Longer pairs are left out.")] = 1024,
    eval_fraction: Annotated[float, typer.Option("--eval-fraction", help="Share of tasks held out for accuracy.")] = 0.1,
    seed: SeedOpt = 0,
    bf16: Annotated[bool, typer.Option("--bf16", help="bfloat16 autocast (accelerators only).")] = False,
    center_rewards: Annotated[float | None, typer.Option("--center-rewards", help="TRL's centring coefficient.")] = None,
    save_steps: Annotated[int, typer.Option("--save-steps", help="Steps between checkpoints.")] = 200,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in RM_DIR.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Train a Bradley-Terry reward model (TRL's RewardTrainer) and report its held-out pair accuracy."""
    from dataclasses import asdict

    from codeeval_rl.preference.pairs import read_pairs
    from codeeval_rl.preference.reward_model import RewardTrainSettings, train_reward_model

    settings = RewardTrainSettings(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                   max_length=max_length, eval_fraction=eval_fraction, seed=seed, bf16=bf16,
                                   center_rewards_coefficient=center_rewards, save_steps=save_steps)
    rows = read_pairs(pairs, numbers=("chosen_pass_rate", "rejected_pass_rate"))
    result = train_reward_model(rows, base, output, settings, resume=resume, progress=not as_json,
                                log=None if as_json else typer.echo)
    if as_json:
        typer.echo(json.dumps(asdict(result), indent=2))


def _report_path(output: Path) -> Path:
    return output.with_name(output.stem + ".report.json")


def _rho(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


@dpo_app.command("pairs")
def dpo_pairs_command(
    model: Annotated[str, typer.Option("--model", help="Local path (or cached hub id) of the causal LM.")],
    dataset: DatasetOpt,
    output: Annotated[Path, typer.Option("--output", help="Pairs JSONL; the verification report goes beside it.")],
    codes: Annotated[int, typer.Option("--codes", help="Programs sampled per task.")] = 15,
    tests: Annotated[int, typer.Option("--tests", help="Most model-written tests kept per task.")] = 15,
    tests_from: Annotated[str, typer.Option("--tests-from", help="model, task (the task's tests) or both.")] = "model",
    task_tests: Annotated[str, typer.Option("--task-tests", help="Which task tests are borrowed: public or all.")] = "public",
    test_samples: Annotated[int, typer.Option("--test-samples", help="Test-writing replies per task.")] = 2,
    damping: Annotated[float, typer.Option("--damping")] = 0.85,
    iterations: Annotated[int, typer.Option("--iterations")] = 10,
    min_gap: Annotated[float, typer.Option("--min-gap", help="Skip a correctness pair when hi - lo < this * hi.")] = 0.1,
    trust: Annotated[float, typer.Option("--trust", help="A model test is trusted at this share of the best test score.")] = 0.5,
    min_speedup: Annotated[float, typer.Option("--min-speedup", help="Efficiency pairs: slowest / fastest CPU time.")] = 1.5,
    timing_repeats: Annotated[int, typer.Option("--timing-repeats", help="More timed runs of the efficiency candidates.")] = 3,
    seed: SeedOpt = 0,
    temperature: TemperatureOpt = 1.0,
    top_p: TopPOpt = 1.0,
    max_new_tokens: MaxNewTokensOpt = 512,
    test_max_new_tokens: Annotated[int, typer.Option("--test-max-new-tokens")] = 512,
    limit: LimitOpt = None,
    config: ConfigOpt = None,
    chunk_size: ChunkSizeOpt = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Programs and tests from the model, one program x test matrix in the sandbox, mutual verification, pairs."""
    from codeeval_rl.evaluation import Evaluator
    from codeeval_rl.preference.verify import CodeDpoSettings, build_dpo_pairs
    from codeeval_rl.rl.policy import LLMAdapter

    _check_sampling(codes, temperature, max_new_tokens, chunk_size, n_flag="--codes")
    if tests_from not in ("model", "task", "both"):
        raise InputError(f"--tests-from {tests_from!r}: expected model, task or both")
    if task_tests not in ("public", "all"):
        raise InputError(f"--task-tests {task_tests!r}: expected public or all")
    settings = CodeDpoSettings(codes=codes, tests=tests, tests_from=tests_from, task_tests=task_tests,  # type: ignore[arg-type]
                               test_samples=test_samples, damping=damping, iterations=iterations, min_gap=min_gap,
                               trust=trust, min_speedup=min_speedup, timing_repeats=timing_repeats, seed=seed,
                               temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens,
                               test_max_new_tokens=test_max_new_tokens)
    tasks = _tasks(dataset, limit)
    policy = LLMAdapter(model)
    with Evaluator(_evaluation(config)) as ev, _chunk_progress("programs x tests", as_json) as on_chunk:
        result = build_dpo_pairs(policy, tasks, ev, settings, model_name=model, chunk_size=chunk_size,
                                 journal=_journal(output), on_chunk=on_chunk)
    _write(output, result.rows)
    summary = {"output": str(output), "tasks": result.tasks, "pairs": len(result.rows),
               "correctness_pairs": result.correctness, "efficiency_pairs": result.efficiency,
               "model_tests_per_task": result.model_tests_mean, "verification": result.report}
    try:
        _report_path(output).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {_report_path(output)}: {exc.strerror}") from None
    _journal(output).unlink(missing_ok=True)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    mv, pc = result.report["mutual_verification"], result.report["pass_count"]
    typer.echo(f"{len(result.rows)} pairs ({result.correctness} correctness, {result.efficiency} efficiency) from "
               f"{result.tasks} tasks, {result.model_tests_mean:.1f} usable model tests per task; written to {output}")
    typer.echo(f"verification vs true pass rate ({result.report['tasks_with_truth']} tasks): Spearman per task "
               f"{_rho(mv['mean_task_spearman'])} (pass count {_rho(pc['mean_task_spearman'])}), pooled "
               f"{_rho(mv['pooled_spearman'])} (pass count {_rho(pc['pooled_spearman'])}); report: {_report_path(output)}")


@dpo_app.command("train")
def dpo_train_command(
    pairs: Annotated[Path, typer.Option("--pairs", help="Pairs JSONL from `dpo pairs` (or any prompt/chosen/rejected file).")],
    model: Annotated[str, typer.Option("--model", help="The causal LM to train (and the frozen reference).")],
    output: Annotated[Path, typer.Option("--output", help="Directory for the trained model.")],
    epochs: Annotated[float, typer.Option("--epochs")] = 1.0,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 8,
    learning_rate: Annotated[float, typer.Option("--learning-rate")] = 5e-7,
    beta: Annotated[float, typer.Option("--beta", help="DPO's beta.")] = 0.1,
    rpo_alpha: Annotated[float | None, typer.Option("--rpo-alpha", help="Add this weight x SFT loss on the chosen (RPO).")] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="Train only on this pair kind (repeatable).")] = None,
    max_length: Annotated[int, typer.Option("--max-length")] = 1024,
    seed: SeedOpt = 0,
    bf16: Annotated[bool, typer.Option("--bf16", help="bfloat16 autocast (accelerators only).")] = False,
    save_steps: Annotated[int, typer.Option("--save-steps")] = 200,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in OUTPUT.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """DPO (TRL's DPOTrainer) from MODEL on PAIRS; --rpo-alpha adds CodeDPO's SFT term."""
    from dataclasses import asdict

    from codeeval_rl.preference.dpo import DpoTrainSettings, train_dpo
    from codeeval_rl.preference.pairs import read_pairs

    settings = DpoTrainSettings(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, beta=beta,
                                rpo_alpha=rpo_alpha, max_length=max_length, seed=seed, bf16=bf16,
                                save_steps=save_steps, kinds=tuple(kind or ()))
    rows = read_pairs(pairs, numbers=("chosen_score", "rejected_score"))
    result = train_dpo(rows, model, output, settings, resume=resume, progress=not as_json,
                       log=None if as_json else typer.echo)
    if as_json:
        typer.echo(json.dumps(asdict(result), indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(rm_app, name="rm")
    app.add_typer(dpo_app, name="dpo")
