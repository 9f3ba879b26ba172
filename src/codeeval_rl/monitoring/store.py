"""The run store: every training and evaluation run, its rollouts and its metrics, in SQL.

SQLite by default (one file per project, no server); any SQLAlchemy 2 URL works, so a
team can point every trainer at one PostgreSQL database::

    store = RunStore("runs/codeeval.db")            # a bare path means SQLite
    store = RunStore("runs/quickstart")             # an existing directory: its codeeval.db
    store = RunStore("postgresql+psycopg://user@host/codeeval")
    run = store.start_run("train", "grpo-lr1e-5", {"learning_rate": 1e-5})
    store.log_rollouts(run, [RolloutRecord(...), ...])
    store.log_metrics(run, step=3, values={"loss": 0.41, "kl": 0.002})
    store.finish_run(run)

:class:`RunStore` implements :class:`~codeeval_rl.monitoring.tracker.Tracker`, so trainers
and evaluators write to it through that protocol alone.

Concurrency: SQLite files are opened in WAL mode with a busy timeout, so a trainer writing
and a report or dashboard reading never block each other, and several writers (parallel
evaluations, several trainers) take turns instead of failing with "database is locked".
Writes that still find the database locked after the timeout are retried a few times,
then raise :class:`~codeeval_rl.errors.StoreError`. WAL needs a local file system
(not NFS); on a shared file system use a PostgreSQL URL.

Reading never creates anything: ``RunStore(path, create=False)`` (what the CLI uses)
raises :class:`StoreError` naming the path when the file is missing, is not a database,
or is a database without the run store's tables.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar

from codeeval_rl.errors import StoreError
from codeeval_rl.monitoring.tracker import RolloutRecord, RunStatus

__all__ = [
    "DEFAULT_STORE",
    "RUN_KINDS",
    "STORE_FILENAME",
    "RunInfo",
    "RunStore",
    "default_store",
    "open_run",
    "resolve_store_url",
]

STORE_FILENAME = "codeeval.db"
"""The store's file name inside a project or output directory."""

DEFAULT_STORE = os.path.join("runs", STORE_FILENAME)
"""Where the CLI looks when no store is given (``$CODEEVAL_STORE`` overrides it)."""

RUN_KINDS = ("train", "eval")
SCHEMA_VERSION = "1"

T = TypeVar("T")

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_BUSY_TIMEOUT_MS = 30_000
_WRITE_RETRIES = 5


@dataclass(frozen=True)
class RunInfo:
    """One run as the store knows it.

    ``updated_at`` is the time of the last write (a run that says ``running`` but has not
    been written to for a long time probably died without finishing). ``n_rollouts``,
    ``n_metrics`` and ``last_step`` count what has been logged so far.
    """

    id: str
    kind: str
    name: str
    status: RunStatus
    started_at: float
    finished_at: float | None
    updated_at: float
    config: Mapping[str, Any] = field(default_factory=dict)
    n_rollouts: int = 0
    n_metrics: int = 0
    last_step: int | None = None

    @property
    def running(self) -> bool:
        return self.status is RunStatus.RUNNING

    @property
    def empty(self) -> bool:
        return self.n_rollouts == 0 and self.n_metrics == 0

    @property
    def label(self) -> str:
        """``name (id)``, for messages."""
        return f"{self.name} ({self.id})" if self.name else self.id

    def note(self, now: float | None = None) -> str:
        """A one-line caveat for readers: still running, failed, or empty; ``""`` otherwise."""
        now = time.time() if now is None else now
        if self.status is RunStatus.RUNNING:
            idle = max(0.0, now - self.updated_at)
            step = f" at step {self.last_step}" if self.last_step is not None else ""
            return (f"run {self.label} is still running{step} (last write {_ago(idle)} ago); "
                    "showing what has been written so far")
        if self.status is RunStatus.FAILED:
            return f"run {self.label} failed; showing what it wrote before it stopped"
        if self.empty:
            return f"run {self.label} has no rollouts or metrics"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "name": self.name, "status": self.status.value,
            "started_at": self.started_at, "finished_at": self.finished_at,
            "updated_at": self.updated_at, "config": dict(self.config),
            "n_rollouts": self.n_rollouts, "n_metrics": self.n_metrics, "last_step": self.last_step,
        }


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def resolve_store_url(target: str | os.PathLike[str]) -> tuple[str, Path | None]:
    """Turn what a user gave into ``(sqlalchemy_url, sqlite_file_or_None)``.

    A string with ``://`` is a URL (``sqlite:///path`` keeps its file). Anything else is a
    path: an existing directory means the :data:`STORE_FILENAME` inside it (or, if that is
    absent, the directory's only ``*.db``/``*.sqlite`` file); any other path is the SQLite
    file itself.
    """
    text = os.fspath(target)
    if not text:
        raise StoreError("the run store location is empty; give a path or a database URL")
    if "://" in text:
        if text.startswith("sqlite"):
            rest = text.split("://", 1)[1]
            db = rest.removeprefix("/")
            db = db.split("?", 1)[0]
            if db and db != ":memory:":
                return text, Path(db)
        return text, None
    path = Path(text).expanduser()
    if path.is_dir():
        candidate = path / STORE_FILENAME
        if not candidate.exists():
            others = sorted(p for p in path.iterdir() if p.suffix in _SQLITE_SUFFIXES and p.is_file())
            if len(others) == 1:
                candidate = others[0]
        path = candidate
    path = path.absolute()
    return f"sqlite:///{path}", path


class RunStore:
    """A :class:`Tracker` that keeps runs in a SQL database, plus the queries readers need.

    ``create=True`` (the default, for writers) creates the SQLite file, its directory and
    the tables when missing. ``create=False`` (for readers) never creates anything and
    raises :class:`StoreError` when there is no run store at ``target``.

    Thread-safe: one instance may be shared by a trainer's threads or a dashboard's request
    handlers. Process-safe through the database itself (see the module docstring).
    """

    def __init__(self, target: str | os.PathLike[str] = DEFAULT_STORE, *, create: bool = True,
                 busy_timeout_ms: int = _BUSY_TIMEOUT_MS) -> None:
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import SQLAlchemyError

        given_dir = "://" not in os.fspath(target) and Path(os.fspath(target)).expanduser().is_dir()
        self.url, self.path = resolve_store_url(target)
        self._busy_timeout_ms = busy_timeout_ms
        where = str(self.path) if self.path is not None else _redact(self.url)
        self.location = where
        if self.path is not None:
            if not create and not self.path.exists():
                if given_dir:
                    found = sorted(p.name for p in self.path.parent.iterdir()
                                   if p.suffix in _SQLITE_SUFFIXES)
                    hint = (f" (it holds {', '.join(found)}: pass one of them as the store)"
                            if found else "")
                    raise StoreError(f"no run store in directory {self.path.parent}: "
                                     f"{STORE_FILENAME} is missing{hint}")
                raise StoreError(f"no run store at {where}: the file does not exist")
            if self.path.exists() and self.path.is_dir():
                raise StoreError(f"run store {where} is a directory, not a database file")
            if create:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create the directory of run store {where}: "
                                     f"{exc.strerror}") from None
        kwargs: dict[str, Any] = {}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        try:
            self._engine = create_engine(self.url, **kwargs)
        except (ImportError, ValueError, SQLAlchemyError) as exc:  # bad URL, missing driver
            raise StoreError(f"cannot open run store {where}: {exc}") from None
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine, "connect", self._sqlite_pragmas)
        from codeeval_rl.monitoring import _schema

        self._t = _schema.tables()
        self._check_or_create(create)

    # ------------------------------------------------------------------ plumbing
    def _sqlite_pragmas(self, dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            if self.path is not None:
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    def _check_or_create(self, create: bool) -> None:
        from sqlalchemy import inspect
        from sqlalchemy.exc import SQLAlchemyError

        wanted = {t.name for t in self._t.all}
        for attempt in range(_WRITE_RETRIES):
            try:
                present = set(inspect(self._engine).get_table_names())
                if wanted <= present:
                    self._check_version()
                    return
                if not create:
                    if present and not (present & wanted):
                        raise StoreError(f"{self.location} is a database but not a CodeEval RL run "
                                         f"store (its tables: {', '.join(sorted(present))})")
                    if not present:
                        raise StoreError(f"{self.location} holds no runs: it is an empty database, "
                                         "not a run store")
                    raise StoreError(f"run store {self.location} is incomplete: tables "
                                     f"{', '.join(sorted(wanted - present))} are missing")
                self._t.metadata.create_all(self._engine, checkfirst=True)
                with self._engine.begin() as conn:
                    have = conn.execute(self._t.meta.select()).fetchall()
                    if not have:
                        conn.execute(self._t.meta.insert(), [{"key": "schema_version",
                                                              "value": SCHEMA_VERSION}])
                return
            except StoreError:
                raise
            except SQLAlchemyError as exc:
                msg = str(getattr(exc, "orig", exc))
                if "already exists" in msg or _is_busy(exc) or "UNIQUE" in msg:
                    time.sleep(0.05 * (attempt + 1))  # another process is creating it too
                    continue
                raise StoreError(_describe_db_error(self.location, exc)) from None
        raise StoreError(f"run store {self.location} stayed locked while its tables were created")

    def _check_version(self) -> None:
        from sqlalchemy import select

        with self._engine.connect() as conn:
            row = conn.execute(select(self._t.meta.c.value)
                               .where(self._t.meta.c.key == "schema_version")).first()
        if row is not None and row[0] != SCHEMA_VERSION:
            raise StoreError(f"run store {self.location} has schema version {row[0]}; this "
                             f"version of codeeval-rl reads version {SCHEMA_VERSION}")

    def _write(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(conn)`` in one write transaction, retried while another writer holds
        the lock (after SQLite's own busy timeout)."""
        from sqlalchemy.exc import SQLAlchemyError

        for attempt in range(_WRITE_RETRIES):
            try:
                with self._engine.begin() as conn:
                    return fn(conn)
            except SQLAlchemyError as exc:
                if _is_busy(exc) and attempt + 1 < _WRITE_RETRIES:
                    time.sleep(0.1 * (attempt + 1))
                    continue
                raise StoreError(_describe_db_error(self.location, exc)) from None
        raise AssertionError("unreachable")

    @contextmanager
    def _read(self) -> Iterator[Any]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(_describe_db_error(self.location, exc)) from None

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine, for tables kept beside the run store's in the same database
        (the HTTP service's jobs and audit log)."""
        return self._engine

    def transaction(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(conn)`` in one write transaction with the store's retries while another
        writer holds the lock; database faults become :class:`StoreError`."""
        return self._write(fn)

    def connection(self) -> Any:
        """A context manager giving a read connection; database faults become :class:`StoreError`."""
        return self._read()

    def close(self) -> None:
        """Release connections (the file stays)."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({self.location!r})"

    # ------------------------------------------------------------------ Tracker
    def start_run(self, kind: str, name: str, config: Mapping[str, Any]) -> str:
        """Record a new run (status ``running``) and return its id (12 hex digits)."""
        if kind not in RUN_KINDS:
            raise StoreError(f"run kind {kind!r} is not one of {', '.join(RUN_KINDS)}")
        try:
            config_json = json.dumps(dict(config), default=str, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"run config cannot be stored as JSON: {exc}") from None
        run_id = uuid.uuid4().hex[:12]
        now = time.time()
        row = {"id": run_id, "kind": kind, "name": name or run_id, "config": config_json,
               "status": RunStatus.RUNNING.value, "started_at": now, "finished_at": None, "updated_at": now}
        self._write(lambda conn: conn.execute(self._t.runs.insert(), [row]))
        return run_id

    def log_rollouts(self, run_id: str, records: Sequence[RolloutRecord]) -> None:
        """Append rollouts to a run (one transaction for the whole batch)."""
        if not records:
            return
        rows = [{
            "run_id": run_id, "step": int(r.step), "task_id": r.task_id, "language": r.language,
            "category": r.category, "tier": r.tier, "completion": r.completion,
            "reward": _finite(r.reward), "components": json.dumps(
                {str(k): _finite(v) for k, v in dict(r.components).items()}),
            "status": str(r.status), "passed": bool(r.passed), "first_error": r.first_error,
            "turn": int(r.turn), "sample_index": int(r.sample_index),
        } for r in records]

        def write(conn: Any) -> None:
            self._touch(conn, run_id)
            conn.execute(self._t.rollouts.insert(), rows)

        self._write(write)

    def log_metrics(self, run_id: str, step: int, values: Mapping[str, float]) -> None:
        """Append one value per metric name at ``step`` (NaN and infinities are kept as NULL)."""
        if not values:
            return
        now = time.time()
        rows = [{"run_id": run_id, "step": int(step), "name": str(k), "value": _finite(v),
                 "logged_at": now} for k, v in values.items()]

        def write(conn: Any) -> None:
            self._touch(conn, run_id)
            conn.execute(self._t.metrics.insert(), rows)

        self._write(write)

    def finish_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> None:
        """Mark a run ``finished`` or ``failed`` (a :class:`RunStatus` or its string)."""
        if status not in (RunStatus.FINISHED, RunStatus.FAILED):
            raise StoreError(f"a run finishes as 'finished' or 'failed', not {str(status)!r}")
        status = RunStatus(status)
        now = time.time()
        res = self._write(lambda conn: conn.execute(
            self._t.runs.update().where(self._t.runs.c.id == run_id)
            .values(status=status.value, finished_at=now, updated_at=now)))
        if res.rowcount == 0:
            raise StoreError(f"no run {run_id!r} in {self.location}")

    def _touch(self, conn: Any, run_id: str) -> None:
        res = conn.execute(self._t.runs.update().where(self._t.runs.c.id == run_id)
                           .values(updated_at=time.time()))
        if res.rowcount == 0:
            raise StoreError(f"no run {run_id!r} in {self.location}; call start_run first")

    # ------------------------------------------------------------------ queries
    def list_runs(self, kind: str | None = None) -> list[RunInfo]:
        """Every run, oldest first, with counts of what each has logged."""
        from sqlalchemy import func, select

        t = self._t
        n_roll = (select(t.rollouts.c.run_id, func.count().label("n"), func.max(t.rollouts.c.step)
                         .label("s")).group_by(t.rollouts.c.run_id).subquery())
        n_met = (select(t.metrics.c.run_id, func.count().label("n"), func.max(t.metrics.c.step)
                        .label("s")).group_by(t.metrics.c.run_id).subquery())
        q = (select(t.runs, n_roll.c.n, n_roll.c.s, n_met.c.n, n_met.c.s)
             .outerjoin(n_roll, n_roll.c.run_id == t.runs.c.id)
             .outerjoin(n_met, n_met.c.run_id == t.runs.c.id)
             .order_by(t.runs.c.started_at, t.runs.c.id))
        if kind is not None:
            q = q.where(t.runs.c.kind == kind)
        with self._read() as conn:
            rows = conn.execute(q).fetchall()
        out = []
        for row in rows:
            m = row._mapping
            vals = list(row)
            nr, sr, nm, sm = vals[-4:]
            steps = [s for s in (sr, sm) if s is not None]
            out.append(RunInfo(
                id=m["id"], kind=m["kind"], name=m["name"], status=self._run_status(m["id"], m["status"]),
                started_at=m["started_at"], finished_at=m["finished_at"], updated_at=m["updated_at"],
                config=_loads(m["config"]), n_rollouts=int(nr or 0), n_metrics=int(nm or 0),
                last_step=max(steps) if steps else None))
        return out

    def _run_status(self, run_id: str, value: str) -> RunStatus:
        try:
            return RunStatus(value)
        except ValueError:
            raise StoreError(f"run {run_id!r} in {self.location} has an unknown status {value!r}; "
                             f"expected one of {', '.join(s.value for s in RunStatus)}") from None

    def get_run(self, ref: str) -> RunInfo:
        """The run whose id, unique id prefix or name is ``ref`` (a name used by several
        runs means the latest of them). Raises :class:`StoreError` listing the runs there
        are when nothing matches, or the candidates when a prefix is ambiguous."""
        runs = self.list_runs()
        if not runs:
            raise StoreError(f"run store {self.location} holds no runs yet")
        exact = [r for r in runs if r.id == ref]
        if exact:
            return exact[0]
        prefix = [r for r in runs if ref and r.id.startswith(ref)]
        if len(prefix) == 1:
            return prefix[0]
        if len(prefix) > 1:
            raise StoreError(f"run id prefix {ref!r} is ambiguous in {self.location}: "
                             + ", ".join(r.label for r in prefix))
        named = [r for r in runs if r.name == ref]
        if named:
            return named[-1]
        listed = ", ".join(r.label for r in runs[-20:])
        more = f" (and {len(runs) - 20} older)" if len(runs) > 20 else ""
        raise StoreError(f"no run {ref!r} in {self.location}; runs there: {listed}{more}")

    def latest_run(self, kind: str | None = None) -> RunInfo:
        """The most recently started run (of ``kind`` if given)."""
        runs = self.list_runs(kind)
        if not runs:
            what = f"{kind} runs" if kind else "runs"
            raise StoreError(f"run store {self.location} holds no {what} yet")
        return runs[-1]

    def rollouts(self, run_id: str, *, step_from: int | None = None,
                 limit: int | None = None) -> list[RolloutRecord]:
        """A run's rollouts in logging order (``step >= step_from`` when given)."""
        from sqlalchemy import select

        t = self._t.rollouts
        q = select(t).where(t.c.run_id == run_id).order_by(t.c.id)
        if step_from is not None:
            q = q.where(t.c.step >= step_from)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            rows = conn.execute(q).fetchall()
        return [RolloutRecord(
            task_id=m["task_id"], completion=m["completion"], reward=_nan(m["reward"]),
            status=m["status"], passed=bool(m["passed"]), step=m["step"],
            sample_index=m["sample_index"], language=m["language"], category=m["category"],
            tier=m["tier"], components={k: _nan(v) for k, v in _loads(m["components"]).items()},
            first_error=m["first_error"], turn=m["turn"]) for m in (r._mapping for r in rows)]

    def metrics(self, run_id: str, names: Sequence[str] | None = None) -> dict[str, list[tuple[int, float]]]:
        """A run's metric series: name -> [(step, value), ...] in logging order.
        Values stored as NULL (NaN, infinities) come back as NaN."""
        from sqlalchemy import select

        t = self._t.metrics
        q = select(t.c.name, t.c.step, t.c.value).where(t.c.run_id == run_id).order_by(t.c.id)
        if names is not None:
            q = q.where(t.c.name.in_(list(names)))
        with self._read() as conn:
            rows = conn.execute(q).fetchall()
        series: dict[str, list[tuple[int, float]]] = {}
        for name, step, value in rows:
            series.setdefault(name, []).append((int(step), _nan(value)))
        return series

    def delete_run(self, run_id: str) -> None:
        """Remove a run and everything it logged."""
        def write(conn: Any) -> int:
            conn.execute(self._t.rollouts.delete().where(self._t.rollouts.c.run_id == run_id))
            conn.execute(self._t.metrics.delete().where(self._t.metrics.c.run_id == run_id))
            return int(conn.execute(self._t.runs.delete().where(self._t.runs.c.id == run_id)).rowcount)

        if self._write(write) == 0:
            raise StoreError(f"no run {run_id!r} in {self.location}")


def _finite(value: float) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _loads(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _is_busy(exc: Exception) -> bool:
    msg = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in msg or "database is busy" in msg or "deadlock" in msg


def _describe_db_error(where: str, exc: Exception) -> str:
    msg = str(getattr(exc, "orig", exc))
    low = msg.lower()
    if "file is not a database" in low or "malformed" in low or "not a database" in low:
        return f"run store {where} is corrupt or not an SQLite database ({msg})"
    if "unable to open" in low or "readonly" in low or "read-only" in low:
        return f"cannot write run store {where} ({msg}); check the path and its permissions"
    if _is_busy(exc):
        return f"run store {where} stayed locked by another process ({msg})"
    return f"run store {where}: {msg}"


def _redact(url: str) -> str:
    """A URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def default_store() -> str:
    """``$CODEEVAL_STORE`` when set, else :data:`DEFAULT_STORE` (``runs/codeeval.db``)."""
    return os.environ.get("CODEEVAL_STORE") or DEFAULT_STORE


def open_run(ref: str | None, store: str | os.PathLike[str] | None = None) -> tuple[RunStore, RunInfo, str]:
    """Open the store and find the run a user named, for reading. Returns
    ``(store, run, note)``; ``note`` explains a choice made for the user (``""`` if none).

    ``ref`` may be a run id, unique id prefix or name in ``store`` (default:
    :func:`default_store`); or, when no ``store`` is given, the path of a directory
    holding a run store (such as the quickstart's output directory) or of a store file,
    meaning the latest run there; or ``None``: the latest run in ``store``.
    """
    if ref is not None and store is None and os.path.exists(ref):
        rs = RunStore(ref, create=False)
        runs = rs.list_runs()
        if not runs:
            raise StoreError(f"run store {rs.location} holds no runs yet")
        note = ""
        if len(runs) > 1:
            note = (f"{rs.location} holds {len(runs)} runs; using the latest, {runs[-1].label} "
                    "(pass --store with a run id or name to choose another)")
        return rs, runs[-1], note
    rs = RunStore(store if store is not None else default_store(), create=False)
    if ref is None:
        return rs, rs.latest_run(), ""
    return rs, rs.get_run(ref), ""
