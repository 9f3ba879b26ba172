"""The service's tables, beside the run store's in the same database (SQLite or PostgreSQL).

::

    service_jobs         id, key_name, state, dataset, tasks (JSON text or NULL), ks (JSON), total,
                         done, created_at, started_at, finished_at, error, summary (JSON or NULL)
    service_job_samples  job_id, idx (primary key together), task_id, sample (JSON: the sample as
                         sent), result (JSON or NULL until scored), scored_at
    service_audit        id, at, key_name, method, route, status, bytes_in, bytes_out,
                         duration_ms, job_id, client

Jobs are crash-safe by construction: a job's samples are rows, a sample's result is written
by ``UPDATE ... WHERE result IS NULL`` in the same transaction that adds the number of rows
it changed to the job's ``done`` count. A sample is therefore scored (its result committed)
exactly once, whatever was evaluated and lost when a process died before committing, and
``done`` always equals the number of results. A job is ``receiving`` while its samples are
uploaded, ``queued`` once all are stored (the moment the client gets 202), ``running``,
then ``done`` or ``failed``. A job left ``receiving`` by a crash was never accepted and is
marked failed at the next start; ``queued`` and ``running`` jobs continue.

The audit log holds no key and no submitted code: the key's name, the route's template (the
``/k/KEY`` prefix removed), sizes, the status and the time taken.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from codeeval_rl.errors import StoreError
from codeeval_rl.monitoring.store import RunStore

__all__ = ["JOB_STATES", "AuditRecord", "JobInfo", "ServiceStore"]

JOB_STATES = ("receiving", "queued", "running", "done", "failed")
ACTIVE_STATES = ("queued", "running")


@dataclass(frozen=True)
class AuditRecord:
    """One request as the audit log keeps it. ``key_name`` is ``None`` when no valid key came."""

    at: float
    key_name: str | None
    method: str
    route: str
    status: int
    bytes_in: int
    bytes_out: int
    duration_ms: float
    job_id: str | None = None
    client: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "key_name": self.key_name, "method": self.method, "route": self.route,
                "status": self.status, "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
                "duration_ms": self.duration_ms, "job_id": self.job_id, "client": self.client}


@dataclass(frozen=True)
class JobInfo:
    """A job's row: who owns it, where it stands, and its summary once done."""

    id: str
    key_name: str
    state: str
    dataset: str | None
    ks: tuple[int, ...]
    total: int
    done: int
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    error: str = ""
    summary: Mapping[str, Any] | None = None
    has_tasks: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "key_name": self.key_name, "state": self.state, "dataset": self.dataset,
                "k": list(self.ks), "progress": {"done": self.done, "total": self.total},
                "created_at": self.created_at, "started_at": self.started_at,
                "finished_at": self.finished_at, "error": self.error}


@dataclass(frozen=True)
class _Tables:
    metadata: Any
    jobs: Any
    samples: Any
    audit: Any

    @property
    def all(self) -> tuple[Any, ...]:
        return (self.jobs, self.samples, self.audit)


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

    md = MetaData()
    jobs = Table(
        "service_jobs", md,
        Column("id", String(32), primary_key=True),
        Column("key_name", String(64), nullable=False),
        Column("state", String(16), nullable=False),
        Column("dataset", String(300), nullable=True),
        Column("tasks", Text, nullable=True),
        Column("ks", String(200), nullable=False),
        Column("total", Integer, nullable=False, default=0),
        Column("done", Integer, nullable=False, default=0),
        Column("created_at", Float, nullable=False),
        Column("started_at", Float, nullable=True),
        Column("finished_at", Float, nullable=True),
        Column("error", Text, nullable=False, default=""),
        Column("summary", Text, nullable=True),
        Index("ix_service_jobs_state", "state", "created_at"),
        Index("ix_service_jobs_key", "key_name", "created_at"),
    )
    samples = Table(
        "service_job_samples", md,
        Column("job_id", String(32), primary_key=True),
        Column("idx", Integer, primary_key=True, autoincrement=False),
        Column("task_id", String(300), nullable=False),
        Column("sample", Text, nullable=False),
        Column("result", Text, nullable=True),
        Column("scored_at", Float, nullable=True),
    )
    audit = Table(
        "service_audit", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", Float, nullable=False),
        Column("key_name", String(64), nullable=True),
        Column("method", String(8), nullable=False),
        Column("route", String(200), nullable=False),
        Column("status", Integer, nullable=False),
        Column("bytes_in", Integer, nullable=False),
        Column("bytes_out", Integer, nullable=False),
        Column("duration_ms", Float, nullable=False),
        Column("job_id", String(32), nullable=True),
        Column("client", String(64), nullable=False, default=""),
        Index("ix_service_audit_at", "at"),
        Index("ix_service_audit_key", "key_name", "at"),
    )
    return _Tables(md, jobs, samples, audit)


def _job(m: Mapping[str, Any]) -> JobInfo:
    return JobInfo(id=m["id"], key_name=m["key_name"], state=m["state"], dataset=m["dataset"],
                   ks=tuple(json.loads(m["ks"])), total=int(m["total"]), done=int(m["done"]),
                   created_at=m["created_at"], started_at=m["started_at"], finished_at=m["finished_at"],
                   error=m["error"] or "", summary=json.loads(m["summary"]) if m["summary"] else None,
                   has_tasks=m["tasks"] is not None)


class ServiceStore:
    """Jobs and the audit log in the run store's database (``target``: a path or an
    SQLAlchemy URL, as :class:`RunStore` takes). Thread-safe; several server processes may
    share one store (PostgreSQL, or SQLite on a local disk)."""

    def __init__(self, target: str | os.PathLike[str], *, create: bool = True) -> None:
        self.runs = RunStore(target, create=create)
        self.location = self.runs.location
        self._t = _tables()
        if create:
            self._create()
        else:
            from sqlalchemy import inspect

            present = set(inspect(self.runs.engine).get_table_names())
            missing = sorted({t.name for t in self._t.all} - present)
            if missing:
                raise StoreError(f"run store {self.location} holds no service tables ({', '.join(missing)}): "
                                 "no server has used it")

    def _create(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        for attempt in range(5):
            try:
                self._t.metadata.create_all(self.runs.engine, checkfirst=True)
                return
            except SQLAlchemyError as exc:  # another process creating them at the same moment
                if attempt == 4:
                    raise StoreError(f"cannot create the service tables in {self.location}: "
                                     f"{getattr(exc, 'orig', exc)}") from None
                time.sleep(0.05 * (attempt + 1))

    def close(self) -> None:
        self.runs.close()

    # ------------------------------------------------------------------ audit
    def append_audit(self, records: Sequence[AuditRecord]) -> None:
        """Append audit records in one transaction."""
        if records:
            rows = [r.to_dict() for r in records]
            self.runs.transaction(lambda conn: conn.execute(self._t.audit.insert(), rows))

    def audit(self, *, limit: int = 100, key_name: str | None = None, since: float | None = None,
              route: str | None = None, status: int | None = None) -> list[AuditRecord]:
        """The latest ``limit`` matching records, newest first."""
        from sqlalchemy import select

        a = self._t.audit
        q = select(a).order_by(a.c.at.desc(), a.c.id.desc()).limit(limit)
        if key_name is not None:
            q = q.where(a.c.key_name == key_name)
        if since is not None:
            q = q.where(a.c.at >= since)
        if route is not None:
            q = q.where(a.c.route == route)
        if status is not None:
            q = q.where(a.c.status == status)
        with self.runs.connection() as conn:
            rows = conn.execute(q).fetchall()
        return [AuditRecord(**{k: v for k, v in r._mapping.items() if k != "id"}) for r in rows]

    # ------------------------------------------------------------------ jobs: creation
    def begin_job(self, job_id: str, key_name: str, *, dataset: str | None, tasks: Sequence[Mapping[str, Any]] | None,
                  ks: Sequence[int]) -> None:
        """A new job in state ``receiving`` (its samples follow with :meth:`add_samples`)."""
        row = {"id": job_id, "key_name": key_name, "state": "receiving", "dataset": dataset,
               "tasks": json.dumps(list(tasks)) if tasks is not None else None, "ks": json.dumps(list(ks)),
               "total": 0, "done": 0, "created_at": time.time(), "error": ""}
        self.runs.transaction(lambda conn: conn.execute(self._t.jobs.insert(), [row]))

    def add_samples(self, job_id: str, start: int, samples: Sequence[Mapping[str, Any]]) -> None:
        """Store samples ``start``, ``start + 1``, ... of a receiving job."""
        rows = [{"job_id": job_id, "idx": start + i, "task_id": str(s["task_id"]),
                 "sample": json.dumps(s, ensure_ascii=False), "result": None, "scored_at": None}
                for i, s in enumerate(samples)]
        if rows:
            self.runs.transaction(lambda conn: conn.execute(self._t.samples.insert(), rows))

    def accept_job(self, job_id: str, total: int) -> None:
        """All samples are stored: the job is queued (from here on it survives crashes)."""
        j = self._t.jobs
        self.runs.transaction(lambda conn: conn.execute(
            j.update().where(j.c.id == job_id).values(state="queued", total=total)))

    def discard_job(self, job_id: str) -> None:
        """Remove a job that was never accepted, and its samples."""
        def write(conn: Any) -> None:
            conn.execute(self._t.samples.delete().where(self._t.samples.c.job_id == job_id))
            conn.execute(self._t.jobs.delete().where(self._t.jobs.c.id == job_id))

        self.runs.transaction(write)

    def fail_unaccepted(self) -> int:
        """Mark jobs left ``receiving`` (by a crash during their upload) failed; their count."""
        j = self._t.jobs
        res = self.runs.transaction(lambda conn: conn.execute(
            j.update().where(j.c.state == "receiving")
            .values(state="failed", error="the upload was interrupted before the job was accepted",
                    finished_at=time.time())))
        return int(res.rowcount or 0)

    # ------------------------------------------------------------------ jobs: reading
    def get_job(self, job_id: str) -> JobInfo | None:
        from sqlalchemy import select

        with self.runs.connection() as conn:
            row = conn.execute(select(self._t.jobs).where(self._t.jobs.c.id == job_id)).first()
        return _job(row._mapping) if row is not None else None

    def job_tasks(self, job_id: str) -> list[dict[str, Any]] | None:
        """The tasks a job brought (Task-format dicts), or ``None`` when it names a dataset."""
        from sqlalchemy import select

        with self.runs.connection() as conn:
            row = conn.execute(select(self._t.jobs.c.tasks).where(self._t.jobs.c.id == job_id)).first()
        return json.loads(row[0]) if row is not None and row[0] is not None else None

    def list_jobs(self, key_name: str | None = None, *, states: Sequence[str] | None = None,
                  limit: int = 100) -> list[JobInfo]:
        """Jobs oldest first (of one key, in some states, when given)."""
        from sqlalchemy import select

        j = self._t.jobs
        q = select(j).order_by(j.c.created_at, j.c.id).limit(limit)
        if key_name is not None:
            q = q.where(j.c.key_name == key_name)
        if states is not None:
            q = q.where(j.c.state.in_(list(states)))
        with self.runs.connection() as conn:
            return [_job(r._mapping) for r in conn.execute(q).fetchall()]

    def job_counts(self) -> dict[str, int]:
        """How many jobs are in each state."""
        from sqlalchemy import func, select

        j = self._t.jobs
        with self.runs.connection() as conn:
            rows = conn.execute(select(j.c.state, func.count()).group_by(j.c.state)).fetchall()
        return {state: int(n) for state, n in rows}

    def active_jobs(self) -> list[JobInfo]:
        """Queued and running jobs, oldest first (what the runner works on)."""
        return self.list_jobs(states=ACTIVE_STATES, limit=10_000)

    def pending_samples(self, job_id: str, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` unscored samples of a job, in index order."""
        from sqlalchemy import select

        s = self._t.samples
        q = (select(s.c.idx, s.c.sample).where(s.c.job_id == job_id, s.c.result.is_(None))
             .order_by(s.c.idx).limit(limit))
        with self.runs.connection() as conn:
            return [(int(i), json.loads(text)) for i, text in conn.execute(q).fetchall()]

    def results(self, job_id: str, batch: int = 500) -> Iterator[dict[str, Any]]:
        """A job's scored samples in index order, read ``batch`` rows at a time."""
        from sqlalchemy import select

        s = self._t.samples
        last = -1
        while True:
            q = (select(s.c.idx, s.c.result).where(s.c.job_id == job_id, s.c.idx > last, s.c.result.is_not(None))
                 .order_by(s.c.idx).limit(batch))
            with self.runs.connection() as conn:
                rows = conn.execute(q).fetchall()
            if not rows:
                return
            for idx, text in rows:
                yield json.loads(text)
            last = int(rows[-1][0])

    # ------------------------------------------------------------------ jobs: progress
    def start_job(self, job_id: str) -> None:
        j = self._t.jobs
        self.runs.transaction(lambda conn: conn.execute(
            j.update().where(j.c.id == job_id, j.c.state == "queued").values(state="running", started_at=time.time())))

    def record_results(self, job_id: str, results: Iterable[tuple[int, Mapping[str, Any]]]) -> int:
        """Commit results of samples not scored yet, and count them into the job's ``done``, in
        one transaction; returns how many were written (a result for an already scored sample
        is ignored, so a replay after a crash never scores a sample twice)."""
        from sqlalchemy import bindparam

        s, j = self._t.samples, self._t.jobs
        now = time.time()
        rows = [{"j": job_id, "i": idx, "r": json.dumps(rec, ensure_ascii=False), "t": now} for idx, rec in results]
        if not rows:
            return 0
        stmt = (s.update().where(s.c.job_id == bindparam("j"), s.c.idx == bindparam("i"), s.c.result.is_(None))
                .values(result=bindparam("r"), scored_at=bindparam("t")))

        def write(conn: Any) -> int:
            written = 0
            for row in rows:  # one statement per row: rowcount of executemany is not portable
                written += int(conn.execute(stmt, row).rowcount or 0)
            if written:
                conn.execute(j.update().where(j.c.id == job_id).values(done=j.c.done + written))
            return written

        return self.runs.transaction(write)

    def finish_job(self, job_id: str, summary: Mapping[str, Any]) -> None:
        j = self._t.jobs
        self.runs.transaction(lambda conn: conn.execute(
            j.update().where(j.c.id == job_id).values(state="done", summary=json.dumps(summary),
                                                      finished_at=time.time())))

    def fail_job(self, job_id: str, error: str) -> None:
        j = self._t.jobs
        self.runs.transaction(lambda conn: conn.execute(
            j.update().where(j.c.id == job_id).values(state="failed", error=error[:2000], finished_at=time.time())))

    def sample_counts(self, job_id: str) -> tuple[int, int]:
        """``(samples, scored)`` counted from the sample rows themselves."""
        from sqlalchemy import func, select

        s = self._t.samples
        with self.runs.connection() as conn:
            total = conn.execute(select(func.count()).where(s.c.job_id == job_id)).scalar_one()
            scored = conn.execute(select(func.count()).where(s.c.job_id == job_id, s.c.result.is_not(None))).scalar_one()
        return int(total), int(scored)
