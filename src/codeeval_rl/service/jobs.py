"""The job runner: evaluates accepted jobs from the store, a chunk at a time, fairly.

Order: jobs are served in order of arrival within a key, and keys take turns: each round
the key served longest ago (among those with queued or running jobs) gets one chunk
(``chunk`` samples) of its oldest job. So one key's million-sample upload delays another
key's small job by at most one chunk per key, never by the whole upload.

Each chunk is scored with :func:`codeeval_rl.cli.evaluate.evaluate_samples` (the records
``codeeval-rl evaluate`` writes) and committed with
:meth:`~codeeval_rl.service.store.ServiceStore.record_results`, which writes only results of
samples not scored yet; a job whose samples all have results gets the same ``summary`` as the
command (:func:`~codeeval_rl.cli.evaluate.summarise`, plus ``dataset``) and is ``done``. After
a crash the runner of the next server continues each queued or running job from its first
unscored sample: a chunk that was evaluated but not committed is evaluated again, and no
sample is ever scored twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from codeeval_rl.errors import CodeEvalError, StoreError
from codeeval_rl.service.datasets import DatasetCatalog, tasks_from_dicts
from codeeval_rl.service.store import JobInfo, ServiceStore
from codeeval_rl.types import Task

__all__ = ["JobRunner", "job_summary"]

log = logging.getLogger("codeeval_rl.service")


def job_summary(store: ServiceStore, job: JobInfo) -> dict[str, Any]:
    """The summary ``codeeval-rl evaluate`` writes, from the job's stored results."""
    from codeeval_rl.cli.evaluate import summarise

    light = [{"task_id": r["task_id"], "passed": r["passed"], "reward": r["reward"], "components": r["components"],
              "outcome": r["outcome"], "status": r["status"]} for r in store.results(job.id)]
    summary = summarise(light, job.ks)
    summary["dataset"] = job.dataset if job.dataset is not None else "(tasks given with the job)"
    return summary


class JobRunner:
    """One thread that works through the store's active jobs (see the module docstring).
    ``evaluator`` is shared with the request handlers (it is thread-safe)."""

    def __init__(self, store: ServiceStore, evaluator: Any, catalog: DatasetCatalog, *, chunk: int = 64,
                 idle_s: float = 0.5, on_chunk: Callable[[str, int], None] | None = None) -> None:
        self.store = store
        self.evaluator = evaluator
        self.catalog = catalog
        self.chunk = chunk
        self.idle_s = idle_s
        self.on_chunk = on_chunk
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._served: dict[str, float] = {}
        self._tasks: dict[str, dict[str, Task]] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="codeeval-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A job was accepted: look now instead of after the idle wait."""
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the chunk in progress (its results are committed; the job stays active
        and continues at the next start)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # ------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.step()
            except StoreError as exc:
                log.error("job runner: store error, retrying: %s", exc)
                worked = False
            except Exception:
                log.exception("job runner: unexpected error")
                worked = False
            if not worked:
                self._wake.wait(self.idle_s)
                self._wake.clear()

    def pick(self, jobs: list[JobInfo]) -> JobInfo:
        """The next job to serve: the oldest job of the key served longest ago."""
        oldest: dict[str, JobInfo] = {}
        for j in jobs:  # oldest first
            oldest.setdefault(j.key_name, j)
        key = min(oldest, key=lambda k: (self._served.get(k, 0.0), oldest[k].created_at))
        return oldest[key]

    def step(self) -> bool:
        """Serve one chunk of one job; False when there was nothing to do."""
        jobs = self.store.active_jobs()
        if not jobs:
            return False
        job = self.pick(jobs)
        self._served[job.key_name] = time.monotonic()
        if job.state == "queued":
            self.store.start_job(job.id)
            log.info("job %s of %s started (%d samples)", job.id, job.key_name, job.total)
        try:
            tasks = self._job_tasks(job)
            pending = self.store.pending_samples(job.id, self.chunk)
            if not pending:
                self.store.finish_job(job.id, job_summary(self.store, job))
                self._tasks.pop(job.id, None)
                log.info("job %s of %s done", job.id, job.key_name)
                return True
            from codeeval_rl.cli.evaluate import evaluate_samples

            records = evaluate_samples(list(tasks.values()), [s for _, s in pending], self.evaluator)
        except StoreError:
            raise
        except CodeEvalError as exc:
            self.store.fail_job(job.id, str(exc))
            self._tasks.pop(job.id, None)
            log.error("job %s of %s failed: %s", job.id, job.key_name, exc)
            return True
        written = self.store.record_results(job.id, [(idx, rec) for (idx, _), rec in zip(pending, records)])
        if self.on_chunk is not None:
            self.on_chunk(job.id, written)
        return True

    def _job_tasks(self, job: JobInfo) -> dict[str, Task]:
        if job.id not in self._tasks:
            if job.dataset is not None:
                tasks = self.catalog.tasks(job.dataset)
            else:
                tasks = tasks_from_dicts(self.store.job_tasks(job.id) or [])
            self._tasks[job.id] = {t.id: t for t in tasks}
        return self._tasks[job.id]
