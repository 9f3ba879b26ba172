"""``codeeval-rl datasets list | show | validate | audit``: inspect and check task datasets and
generation audit logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from codeeval_rl.errors import InputError

datasets_app = typer.Typer(help="List, show and validate task datasets; verify generation audit logs.",
                           no_args_is_help=True)


def _list_data() -> dict[str, Any]:
    from collections import Counter

    from codeeval_rl.data import builtin_library
    from codeeval_rl.data.load import KNOWN_DATASETS

    tasks = builtin_library()
    grid: dict[str, dict[str, int]] = {}
    for (lang, tier), n in sorted(Counter((t.language, t.tier) for t in tasks).items()):
        grid.setdefault(lang, {})[tier] = n
    return {
        "library": {"tasks": len(tasks), "by_language_tier": grid,
                    "by_category": dict(sorted(Counter(t.category for t in tasks).items()))},
        "known": KNOWN_DATASETS,
    }


@datasets_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """The built-in library (counts by language and tier) and the datasets known by name."""
    data = _list_data()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    out = Console()
    tiers = ("easy", "medium", "hard")
    table = Table(title=f"built-in library ({data['library']['tasks']} tasks): load as library[:language][:tier]")
    table.add_column("language")
    for tier in tiers:
        table.add_column(tier, justify="right")
    table.add_column("total", justify="right")
    for lang, counts in data["library"]["by_language_tier"].items():
        table.add_row(lang, *(str(counts.get(t, 0)) for t in tiers), str(sum(counts.values())))
    out.print(table)
    out.print("categories: " + ", ".join(f"{c} ({n})" for c, n in data["library"]["by_category"].items()))
    known = Table(title="datasets by name (or pass a .jsonl/.jsonl.gz path: Task, HumanEval, MBPP, APPS, CodeContests)")
    known.add_column("name")
    known.add_column("what")
    for name, what in data["known"].items():
        known.add_row(name, what)
    out.print(known)


def _find_task(task_id: str, dataset: str | None) -> Any:
    from codeeval_rl.data import load_dataset

    name = dataset or ("humaneval" if task_id.startswith("HumanEval/") else "library")
    for task in load_dataset(name):
        if task.id == task_id:
            return task
    raise InputError(f"no task {task_id!r} in dataset {name!r}")


@datasets_app.command("show")
def show_command(
    task_id: Annotated[str, typer.Argument(help="Task id, e.g. lib/python/clamp or HumanEval/0.")],
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Dataset name or path (default: library, or humaneval for HumanEval/ ids).")] = None,
    reference: Annotated[bool, typer.Option("--reference", help="Also print the reference solution.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the task as a Task JSONL object.")] = False,
) -> None:
    """One task: its prompt, its tests and which of them are public."""
    from codeeval_rl.data import task_to_dict

    task = _find_task(task_id, dataset)
    if as_json:
        typer.echo(json.dumps(task_to_dict(task), indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    out = Console()
    out.rule(f"{task.id}  [{task.language}, {task.tier}, {task.category or '-'}]")
    out.print(task.prompt, markup=False, highlight=False)
    if task.context:
        out.rule("context")
        out.print(task.context, markup=False, highlight=False)
    public = set(task.public_test_ids)
    table = Table(title=f"tests: {len(public)} public, {len(task.tests) - len(public)} hidden")
    for col in ("id", "split", "kind", "test"):
        table.add_column(col)
    for t in task.tests:
        body = t.code if t.kind == "assert" else f"stdin: {t.stdin[:200]!r}\nexpected ({t.compare}): {t.expected_stdout[:200]!r}"
        table.add_row(t.id, "public" if t.id in public else "hidden", t.kind, body)
    out.print(table)
    if reference:
        out.rule("reference solution")
        out.print(task.reference_solution, markup=False, highlight=False)


@datasets_app.command("validate")
def validate_command(
    file: Annotated[Path, typer.Argument(help="A dataset file (.jsonl/.jsonl.gz) or APPS directory.")],
    format: Annotated[str | None, typer.Option("--format", help="tasks, humaneval, mbpp, apps or codecontests (default: from the keys).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Check FILE; name the line and field of every error. Exit 0 when valid, 2 when not."""
    from codeeval_rl.data import load_dataset
    from codeeval_rl.errors import DatasetError

    if not file.exists():
        raise InputError(f"no such file: {file}")
    errors: list[str] = []
    count = 0
    try:
        count = len(load_dataset(file, format=format))
    except DatasetError as exc:
        errors = list(getattr(exc, "errors", None) or [str(exc)])
    except InputError as exc:  # format not recognised, unknown --format
        errors = [str(exc)]
    if as_json:
        typer.echo(json.dumps({"file": str(file), "valid": not errors, "tasks": count, "errors": errors}, indent=2))
    else:
        from rich.console import Console

        out = Console()
        if errors:
            out.print(f"[bold red]invalid:[/] {file}: {len(errors)} error{'s' if len(errors) != 1 else ''}",
                      highlight=False)
            for e in errors:
                out.print(f"  {e}", markup=False, highlight=False)
        else:
            out.print(f"[green]valid:[/] {file}: {count} task{'s' if count != 1 else ''}", highlight=False)
    if errors:
        raise typer.Exit(2)


@datasets_app.command("audit")
def audit_command(
    log: Annotated[Path, typer.Argument(help="An audit log (JSON Lines) written by dataset generation.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Verify the hash chain of audit LOG. Exit 0 when intact (prints the record count and
    the last hash, to keep elsewhere), 1 naming the first record that does not verify."""
    from codeeval_rl.datagen.audit import verify_chain

    verdict = verify_chain(log)  # a missing file raises InputError: exit 2
    if as_json:
        typer.echo(json.dumps({"log": str(log), **verdict.to_dict()}, indent=2))
    elif verdict.ok:
        typer.echo(f"intact: {log}: {verdict.records} record{'s' if verdict.records != 1 else ''}, "
                   f"last hash {verdict.last_hash}")
    else:
        where = f"record {verdict.first_bad}" if verdict.first_bad is not None else "log"
        typer.echo(f"broken: {log}: {where} does not verify: {verdict.reason} "
                   f"({verdict.records} record{'s' if verdict.records != 1 else ''} before it verified)")
    if not verdict.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    from codeeval_rl.cli import generate

    generate.register(datasets_app)
    app.add_typer(datasets_app, name="datasets")
