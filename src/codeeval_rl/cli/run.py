"""``codeeval-rl run``: run one file in the sandbox and print what happened; ``doctor``: check
this host; ``sandbox build-env`` / ``sandbox profiles``: the runtime profiles."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from codeeval_rl.errors import InputError


def _read_text(path: Path, what: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {path} is not UTF-8 text (byte {exc.start})") from None


def _guess_language(file: Path) -> str:
    from codeeval_rl.sandbox import LANGUAGES

    ext = file.suffix.lower()
    matches = [lang.name for lang in LANGUAGES.values() if ext in lang.extensions]
    if not matches:
        raise InputError(f"cannot tell the language of {file.name}; pass --language")
    return matches[0]


def run_command(
    files: Annotated[list[Path], typer.Argument(help="Source file(s) to run; several run in parallel.")],
    language: Annotated[str | None, typer.Option("--language", "-l", help="python, javascript, java, cpp, c, rust; guessed from the extension when omitted.")] = None,
    stdin: Annotated[Path | None, typer.Option("--stdin", help="File fed to each program's standard input.")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Wall-clock (and CPU) limit, seconds.")] = None,
    memory_mb: Annotated[int | None, typer.Option("--memory-mb", help="Memory limit, MiB.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Sandbox YAML (sandbox: section).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON (a list for several files).")] = False,
    profile: Annotated[str | None, typer.Option("--profile", help="Runtime profile (python-stdlib, python-datascience, node, java); built with `codeeval-rl sandbox build-env`.")] = None,
    resolve: Annotated[Path | None, typer.Option("--resolve", help="A local wheel cache: packages a Python program lacks are installed from it (no network) into an overlay, and the program runs again.")] = None,
) -> None:
    """Run FILE(s) in the sandbox. Exits 0 whatever the programs did."""
    from dataclasses import replace

    from codeeval_rl.sandbox import Program, Sandbox

    if timeout is not None and timeout <= 0:
        raise InputError(f"--timeout ({timeout}) must be > 0")
    if memory_mb is not None and memory_mb < 8:
        raise InputError(f"--memory-mb ({memory_mb}) must be at least 8")
    stdin_text = _read_text(stdin, "stdin file") if stdin else ""
    programs = [Program(language=language or _guess_language(f), source=_read_text(f, "source file"),
                        stdin=stdin_text) for f in files]
    with Sandbox(str(config) if config else None, workers=min(len(files), os.cpu_count() or 1),
                 profile=profile, resolve=resolve) as sb:
        limits = sb.default_limits()
        if timeout is not None:
            limits = replace(limits, wall_time_s=timeout, cpu_time_s=timeout)
        if memory_mb is not None:
            limits = replace(limits, memory_mb=memory_mb)
        if len(programs) == 1:
            results = [sb.run(programs[0], limits)]
        else:
            from rich.progress import Progress

            with Progress(transient=True, disable=as_json) as bar:
                task = bar.add_task("running", total=len(programs))
                results = sb.run_many(programs, limits, on_result=lambda i, r: bar.advance(task))
    if as_json:
        data = [r.to_dict() for r in results]
        typer.echo(json.dumps(data[0] if len(files) == 1 else
                              [dict(file=str(f), **d) for f, d in zip(files, data)], indent=2))
        return
    if len(results) > 1:
        _print_summary(files, results)
        return
    result = results[0]
    from rich.console import Console
    from rich.table import Table

    out = Console()
    colour = "green" if result.ok else "red"
    table = Table(show_header=False, box=None)
    table.add_row("status", f"[{colour}]{result.status.value}[/]")
    if result.reason:
        table.add_row("reason", result.reason)
    if result.missing:
        table.add_row("missing", ", ".join(result.missing))
    table.add_row("exit code", str(result.exit_code))
    table.add_row("wall / cpu", f"{result.wall_time_s * 1000:.1f} ms / {result.cpu_time_s * 1000:.1f} ms")
    table.add_row("peak memory", f"{result.peak_memory_bytes / 2**20:.1f} MiB")
    if result.compile_time_s or result.cached:
        table.add_row("compile", "cached" if result.cached else f"{result.compile_time_s * 1000:.0f} ms")
    out.print(table)
    for name, text, cut in (("stdout", result.stdout, result.stdout_truncated),
                            ("stderr", result.stderr or result.compile_output, result.stderr_truncated)):
        if text:
            out.rule(name + (" (truncated)" if cut else ""))
            out.print(text, markup=False, highlight=False, end="" if text.endswith("\n") else "\n")


def _print_summary(files: list[Path], results: list) -> None:  # type: ignore[type-arg]
    from rich.console import Console
    from rich.table import Table

    table = Table("file", "status", "exit", "wall ms", "peak MiB", "reason")
    for f, r in zip(files, results):
        colour = "green" if r.ok else "red"
        table.add_row(str(f), f"[{colour}]{r.status.value}[/]", str(r.exit_code), f"{r.wall_time_s * 1000:.1f}",
                      f"{r.peak_memory_bytes / 2**20:.1f}", r.reason)
    Console().print(table)


def doctor_command(
    config: Annotated[Path | None, typer.Option("--config", help="Sandbox YAML (sandbox: section).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check this host: isolation available, and one program per language run through the sandbox."""
    from codeeval_rl.sandbox.demo import check_host

    report = check_host(str(config) if config else None)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        out = Console()
        caps = report["capabilities"]
        cgroup = f"cgroup v{caps.get('cgroup')}" if caps.get("cgroup") else "no cgroups"
        out.print(f"mode: {caps.get('mode')}; isolation: {cgroup}, seccomp {'on' if caps.get('seccomp') else 'OFF'}"
                  f"{' (' + caps['seccomp_reason'] + ')' if caps.get('seccomp_reason') else ''}, "
                  f"{caps.get('workers')} workers, sandbox Python {caps.get('python')}")
        guarantees = Table("guarantee", "holds", "how", title=f"guarantees in {caps.get('mode')} mode")
        for row in caps.get("guarantees", []):
            guarantees.add_row(row["name"], "[green]yes[/]" if row["holds"] else "[yellow]weaker[/]", row["how"])
        out.print(guarantees)
        table = Table("language", "status", "output", "wall ms", "compile ms")
        for row in report["languages"]:
            colour = "green" if row["status"] == "ok" else "red"
            table.add_row(row["language"], f"[{colour}]{row['status']}[/]", row["output"][:40],
                          f"{row['wall_ms']:.1f}", f"{row['compile_ms']:.0f}")
        out.print(table)
    if not report["ok"]:
        raise typer.Exit(1)


sandbox_app = typer.Typer(help="The sandbox's runtime profiles: build them, list them.", no_args_is_help=True)


@sandbox_app.command("build-env")
def build_env_command(
    profile: Annotated[str, typer.Argument(help="python-datascience, node or java (python-stdlib needs no build).")],
    directory: Annotated[Path | None, typer.Option("--dir", help="Profiles directory (default $CODEEVAL_RL_PROFILES or ~/.cache/codeeval-rl/profiles).")] = None,
    jars: Annotated[Path | None, typer.Option("--jars", help="java: a directory of jars to use instead of Debian's /usr/share/java.")] = None,
    python: Annotated[str, typer.Option("--python", help="The sandbox's interpreter, which Python profiles are built for.")] = "/usr/bin/python3",
) -> None:
    """Build PROFILE once into a read-only directory the sandbox mounts. Packages come from the
    registries now (pip, npm; Java: Debian's jars or --jars), never while programs run."""
    from codeeval_rl.sandbox.profiles import build_profile

    built = build_profile(profile, directory, python=python, jars=jars, log=lambda msg: typer.echo(msg, err=True))
    packages = built.manifest.get("packages", {})
    typer.echo(f"{built.spec.name}: {len(packages)} packages in {built.path}")
    for name, version in sorted(packages.items()):
        typer.echo(f"  {name} {version}")


@sandbox_app.command("profiles")
def profiles_command(
    directory: Annotated[Path | None, typer.Option("--dir", help="Profiles directory.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the runtime profiles and whether each is built here."""
    from codeeval_rl.sandbox.profiles import list_profiles

    rows = list_profiles(directory)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("profile", "language", "built", "contents")
    for row in rows:
        table.add_row(row["name"], row["language"], "yes" if row["built"] else "no", row["description"])
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("doctor")(doctor_command)
    app.add_typer(sandbox_app, name="sandbox")
