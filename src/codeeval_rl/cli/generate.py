"""``codeeval-rl datasets generate SRC_DIR --output tasks.jsonl``: tasks from a source tree.

Registered on the ``datasets`` group by :mod:`codeeval_rl.cli.datasets`. The stages are
:mod:`codeeval_rl.datagen.pipeline`'s; this module parses options, shows progress, writes the
task file (through a temporary file, only after every task is checked), appends the audit
record and prints the stage table.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from codeeval_rl.errors import ConfigError, InputError


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _print_summary(result: Any, output: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console()
    table = Table(title=f"datasets generate: {len(result.tasks)} tasks written to {output}")
    table.add_column("stage")
    table.add_column("kept", justify="right")
    table.add_column("dropped", justify="right")
    table.add_column("why dropped (most common first)")
    labels = {"files": "source files", "functions": "functions", "inputs": "inputs made",
              "oracle": "inputs frozen", "tests": "candidate tests", "mutation": "tasks meeting the mutation target",
              "question": "questions", "masking": "tasks scanned for secrets", "check": "tasks passing the final check",
              "written": "tasks written", "selection": "functions with enough results",
              "mutants": "mutants killed (written tasks)"}
    for s in result.stages:
        reasons = "; ".join(f"{r} ({n})" for r, n in s.reasons[:4])
        if len(s.reasons) > 4:
            reasons += f"; {len(s.reasons) - 4} more"
        table.add_row(labels.get(s.stage, s.stage), str(s.kept), str(s.dropped), reasons)
    out.print(table)
    if result.skipped_files:
        out.print(f"files left out ({len(result.skipped_files)}):", highlight=False)
        for path, reason in result.skipped_files[:20]:
            out.print(f"  {path}: {reason}", markup=False, highlight=False)
        if len(result.skipped_files) > 20:
            out.print(f"  ... and {len(result.skipped_files) - 20} more (--json lists all)", highlight=False)
    if result.masked:
        out.print("masked (per file and kind; the values are never shown):", highlight=False)
        for path, kinds in sorted(result.masked.items()):
            out.print(f"  {path}: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
                      markup=False, highlight=False)
    if result.mutants_total:
        out.print(f"mutation score of the written tasks: {result.mutants_killed}/{result.mutants_total} "
                  f"= {result.mutation_score:.3f}", highlight=False)


def generate_command(
    src_dir: Annotated[Path, typer.Argument(help="The source tree (a directory, or one file).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Task JSONL to write (.jsonl or .jsonl.gz).")],
    language: Annotated[str, typer.Option("--language", help="python or javascript.")] = "python",
    model: Annotated[str | None, typer.Option("--model", help="A local Hugging Face causal LM (path or cached id) that writes questions and extra asserts.")] = None,
    endpoint: Annotated[str | None, typer.Option("--endpoint", help="An OpenAI-compatible chat endpoint URL, instead of --model (key from CODEEVAL_ENDPOINT_KEY).")] = None,
    endpoint_model: Annotated[str, typer.Option("--endpoint-model", help="The model name sent to --endpoint.")] = "default",
    audit_log: Annotated[Path | None, typer.Option("--audit-log", help="Append a hash-chained record of this build to this JSON Lines log.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Stop after this many tasks.", min=1)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice (same tree + settings + seed = same tasks).")] = 0,
    max_tests: Annotated[int, typer.Option("--max-tests", help="Tests chosen by coverage per task (more may be added to reach the mutation target).", min=1)] = 20,
    min_tests: Annotated[int, typer.Option("--min-tests", help="Drop a task left with fewer tests.", min=1)] = 5,
    mutation_target: Annotated[float, typer.Option("--mutation-target", help="Share of mutants the tests must kill, or the task is dropped.", min=0.0, max=1.0)] = 0.8,
    max_mutants: Annotated[int, typer.Option("--max-mutants", help="Mutants per function (a seeded sample).", min=1)] = 30,
    static_methods: Annotated[bool, typer.Option("--static-methods", help="Also make tasks of static methods.")] = False,
    no_private: Annotated[bool, typer.Option("--no-private", help="Leave out functions whose name starts with _.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON (no progress bar).")] = False,
) -> None:
    """Make verified tasks from SRC_DIR: functions, inputs, oracle-checked tests chosen by
    coverage and mutation score, questions, secrets masked, provenance; then write OUTPUT."""
    from codeeval_rl.data import write_tasks
    from codeeval_rl.datagen.pipeline import GenerateSettings, generate, settings_hash

    if not src_dir.exists():
        raise InputError(f"{src_dir}: no such file or directory")
    if output.exists() and output.is_dir():
        raise InputError(f"--output {output} is a directory")
    if not str(output).endswith((".jsonl", ".jsonl.gz")):
        raise ConfigError(f"--output {output}: must end in .jsonl or .jsonl.gz")
    settings = GenerateSettings(language=language, seed=seed, limit=limit, max_tests=max_tests,
                                min_tests=min(min_tests, max_tests), mutation_target=mutation_target,
                                max_mutants=max_mutants, static_methods=static_methods,
                                include_private=not no_private,
                                public_tests=min(3, max(0, min(min_tests, max_tests) - 1)))
    writer = None
    if model is not None or endpoint is not None:
        from codeeval_rl.datagen.question import ModelQuestionWriter

        writer = ModelQuestionWriter.create(model=model, endpoint=endpoint, endpoint_model=endpoint_model,
                                            seed=seed)
    if as_json:
        result = generate(src_dir, settings, writer=writer)
    else:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True) as bar:
            handle = bar.add_task("reading the tree", total=None)

            def progress(label: str, done: int, total: int) -> None:
                bar.update(handle, description=f"generating {label[-60:]}", completed=done, total=total)

            result = generate(src_dir, settings, writer=writer, progress=progress)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_tasks(output, result.tasks)
    if audit_log is not None:
        from codeeval_rl.datagen.audit import append_record

        inputs_hash = hashlib.sha256(json.dumps(
            {"source": list(result.identity), "settings": settings_hash(settings),
             "generator": writer.generator_id if writer is not None else "oracle"},
            sort_keys=True).encode()).hexdigest()
        append_record(audit_log, {
            "command": "datasets generate",
            "argv": [Path(sys.argv[0]).name, *sys.argv[1:]],
            "user": _user(), "host": socket.gethostname(),
            "source": str(src_dir), result.identity[0] or "source": result.identity[1],
            "inputs_hash": inputs_hash, "output": str(output), "output_hash": _file_hash(output),
            "counts": {"tasks": len(result.tasks), "mutants": result.mutants_total,
                       "mutants_killed": result.mutants_killed,
                       **{f"{s.stage}_{k}": v for s in result.stages for k, v in (("kept", s.kept),
                                                                                  ("dropped", s.dropped))}},
        })
    if as_json:
        data = result.to_dict()
        data["output"] = str(output)
        typer.echo(json.dumps(data, indent=2))
    else:
        _print_summary(result, output)
    if result.interrupted:
        typer.echo(f"interrupted: the {len(result.tasks)} tasks finished before were checked and written", err=True)
        raise typer.Exit(130)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def register(datasets_app: typer.Typer) -> None:
    datasets_app.command("generate")(generate_command)
