"""``codeeval-rl serve | keys | audit``: the HTTP service, its API keys and its audit log.

``serve`` runs until SIGTERM or Ctrl-C (a graceful stop; accepted jobs continue at the next
start). ``keys create`` prints the new key once, on its last line; only a salted hash is
kept. ``audit`` reads the audit log from a store (``--store``, as ``serve`` was given).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from codeeval_rl.errors import InputError

__all__ = ["register"]

_KEYS_HELP = "Keys file (default: $CODEEVAL_KEYS_FILE or ~/.config/codeeval-rl/keys.json)."
_STORE_HELP = "Run store: a SQLite path or a database URL (default: $CODEEVAL_STORE or runs/codeeval.db)."
KeysOpt = Annotated[Path | None, typer.Option("--keys-file", help=_KEYS_HELP)]

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


def _keys_path(keys_file: Path | None) -> Path:
    from codeeval_rl.service.keys import default_keys_file

    return keys_file if keys_file is not None else default_keys_file()


def _parse_dataset(spec: str) -> tuple[str, str]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise InputError(f"--dataset {spec!r}: expected NAME=PATH (a task file)")
    if not Path(path).exists():
        raise InputError(f"--dataset {spec!r}: {path} does not exist")
    return name, path


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    keys_file: KeysOpt = None,
    store: Annotated[str | None, typer.Option("--store", help=_STORE_HELP + " Jobs and the audit log live there.")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Sandbox workers (0: one per core).")] = 0,
    redis: Annotated[str | None, typer.Option("--redis", help="Redis URL for rate limits shared by several servers.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML with sandbox: and evaluation: sections.")] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="Roles -> scopes YAML (default: the shipped one).")] = None,
    dataset: Annotated[list[str] | None, typer.Option("--dataset", help="NAME=PATH: a task file jobs may name.")] = None,
    rate: Annotated[float, typer.Option("--rate", help="Default requests per second per key.")] = 1000.0,
    max_concurrent: Annotated[int, typer.Option("--max-concurrent", help="Default requests in flight per key.")] = 256,
    max_body: Annotated[int, typer.Option("--max-body-bytes", help="Largest request body.")] = 16 << 20,
    max_upload: Annotated[int, typer.Option("--max-upload-bytes", help="Largest JSONL sample upload.")] = 1 << 30,
    max_wall: Annotated[float, typer.Option("--max-wall-time", help="Most seconds a run may ask for.")] = 60.0,
    max_memory: Annotated[int, typer.Option("--max-memory-mb", help="Most MiB a run may ask for.")] = 4096,
    job_chunk: Annotated[int, typer.Option("--job-chunk", help="Samples a job scores between commits and turns.")] = 64,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log each request (without its key) as JSON.")] = False,
    ray: Annotated[str | None, typer.Option(
        "--ray", help="Run the programs on a Ray cluster (auto, or HOST:PORT of its head) instead of here.")] = None,
) -> None:
    """Serve the sandbox and the evaluation engine over HTTP (SandboxFusion-compatible /run_code)."""
    from codeeval_rl.errors import require
    from codeeval_rl.monitoring.store import default_store
    from codeeval_rl.service.settings import ServiceSettings

    require("fastapi", "serve")
    require("uvicorn", "serve")
    settings = ServiceSettings(
        host=host, port=port, keys_file=str(_keys_path(keys_file)), policy_file=str(policy) if policy else None,
        store=store or default_store(), redis=redis, workers=workers, config=str(config) if config else None,
        datasets=dict(_parse_dataset(d) for d in dataset or ()), default_rate=rate,
        default_max_concurrent=max_concurrent, max_body_bytes=max_body, max_upload_bytes=max_upload,
        max_wall_time_s=max_wall, max_memory_mb=max_memory, job_chunk=job_chunk, access_log=access_log,
        ray=ray)
    from codeeval_rl.service.keys import KeyRing
    from codeeval_rl.service.server import serve

    ring = KeyRing(settings.keys_file)
    if not len(ring):
        typer.echo(f"warning: {settings.keys_file} holds no active key: every route but /v1/ping and /v1/health "
                   "will refuse; create one with: codeeval-rl keys create NAME --role admin", err=True)
    serve(settings)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A name for the key (it appears in the audit log).")],
    role: Annotated[str, typer.Option("--role", help="admin, evaluator or reader (or a role of --policy).")],
    keys_file: KeysOpt = None,
    rate: Annotated[float | None, typer.Option("--rate", help="Requests per second (default: the server's).")] = None,
    max_concurrent: Annotated[int | None, typer.Option("--max-concurrent", help="Requests in flight.")] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="The roles file the server uses.")] = None,
) -> None:
    """Create a key; it is printed once (last line) and only its salted hash is stored."""
    from codeeval_rl.service.keys import create_key
    from codeeval_rl.service.policy import load_policy

    path = _keys_path(keys_file)
    key, rec = create_key(path, name, role, rate=rate, max_concurrent=max_concurrent,
                          roles=load_policy(policy).roles.keys())
    typer.echo(f"created key {rec.name!r} (role {rec.role}) in {path}; it is shown only now:", err=True)
    typer.echo(key)


@keys_app.command("list")
def keys_list(keys_file: KeysOpt = None,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
              all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False) -> None:
    """List keys (names, roles, limits; never the keys)."""
    from codeeval_rl.service.keys import load_keys

    records = [r for r in load_keys(_keys_path(keys_file)) if all_keys or r.active]
    if as_json:
        typer.echo(json.dumps([r.public() for r in records], indent=2))
        return
    if not records:
        typer.echo("no keys")
        return
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))
        state = "revoked" if not r.active else "active"
        limits = f"rate={r.rate or 'default'} max_concurrent={r.max_concurrent or 'default'}"
        typer.echo(f"{r.name}\t{r.role}\t{state}\tcreated {when}\t{limits}")


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name.")], keys_file: KeysOpt = None) -> None:
    """Revoke a key (a running server refuses it within a second)."""
    from codeeval_rl.service.keys import revoke_key

    rec = revoke_key(_keys_path(keys_file), name)
    typer.echo(f"revoked key {rec.name!r}")


def audit_command(
    store: Annotated[str | None, typer.Option("--store", help=_STORE_HELP)] = None,
    key: Annotated[str | None, typer.Option("--key", help="Only this key name's requests.")] = None,
    since: Annotated[float | None, typer.Option("--since", help="Only the last N seconds.")] = None,
    status: Annotated[int | None, typer.Option("--status", help="Only this HTTP status.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many records (newest first).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Show the service's audit log (newest first)."""
    from codeeval_rl.monitoring.store import default_store
    from codeeval_rl.service.store import ServiceStore

    if limit < 1:
        raise InputError(f"--limit ({limit}) must be >= 1")
    ss = ServiceStore(store or default_store(), create=False)
    try:
        records = ss.audit(limit=limit, key_name=key, status=status,
                           since=time.time() - since if since is not None else None)
    finally:
        ss.close()
    for r in records:
        if as_json:
            typer.echo(json.dumps(r.to_dict()))
            continue
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.at))
        job = f" job={r.job_id}" if r.job_id else ""
        typer.echo(f"{when}  {r.key_name or '-':<16} {r.method:<5} {r.route:<28} {r.status}  "
                   f"in={r.bytes_in} out={r.bytes_out} {r.duration_ms:.1f}ms{job}")
    if not records and not as_json:
        typer.echo("no audit records match", err=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.add_typer(keys_app, name="keys")
    app.command("audit")(audit_command)


