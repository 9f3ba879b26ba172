"""The server's parts and what they do, without HTTP: run programs, score completions,
accept and read jobs. :mod:`codeeval_rl.service.app` puts routes in front of it.

The sandbox is blocking; single runs go through a :class:`~codeeval_rl.service.runqueue.RunQueue`
(first come, first served, one feeding thread per sandbox worker), so the event loop never
waits on a program and requests beyond the workers wait in a queue, not in threads racing for
the sandbox. Batches, scoring calls (which fan out inside the sandbox and the evaluator) and
store calls run on a small thread pool of their own.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from codeeval_rl.errors import InputError
from codeeval_rl.service.audit import AuditWriter
from codeeval_rl.service.datasets import DatasetCatalog, tasks_from_dicts
from codeeval_rl.service.jobs import JobRunner
from codeeval_rl.service.keys import KeyRing, default_keys_file
from codeeval_rl.service.limits import InFlight, MemoryRateLimiter, RateLimiter, RedisRateLimiter
from codeeval_rl.service.metrics import Metrics
from codeeval_rl.service.policy import Policy, load_policy
from codeeval_rl.service.runqueue import RunQueue
from codeeval_rl.service.settings import ServiceSettings
from codeeval_rl.service.store import ServiceStore
from codeeval_rl.types import ExecutionResult, Limits, Program, Task

__all__ = ["Service"]

log = logging.getLogger("codeeval_rl.service")
T = TypeVar("T")


def _ray_sandbox(settings: ServiceSettings) -> Any:
    """``serve --ray ADDRESS``: the runs go to a Ray cluster's sandbox actors (the config's
    ``ray:`` section with this address), joined now so that a bad address stops the start."""
    from codeeval_rl.config import RaySettings, load_ray_settings
    from codeeval_rl.distributed import RaySandbox

    base = load_ray_settings(settings.config) or RaySettings()
    sandbox = RaySandbox(settings.config, cluster=RaySettings(**{**base.model_dump(), "address": settings.ray}))
    sandbox.connect()
    return sandbox


class Service:
    """Everything a server holds. ``sandbox`` and ``evaluator`` may be given (tests share one
    sandbox); otherwise they are made from ``settings.config`` and ``settings.workers`` and
    closed by :meth:`close`."""

    def __init__(self, settings: ServiceSettings, *, sandbox: Any = None, evaluator: Any = None,
                 keyring: KeyRing | None = None) -> None:
        from codeeval_rl.evaluation import Evaluator
        from codeeval_rl.monitoring.store import default_store

        self.settings = settings
        self.policy: Policy = load_policy(settings.policy_file)
        self.keys = keyring or KeyRing(settings.keys_file or default_keys_file())
        self.store = ServiceStore(settings.store or default_store())
        self._owns_sandbox = sandbox is None
        if sandbox is None and settings.ray:
            sandbox = _ray_sandbox(settings)
        if sandbox is None:
            from codeeval_rl.sandbox import Sandbox

            overrides: dict[str, Any] = {"workers": settings.workers} if settings.workers else {}
            sandbox = Sandbox(settings.config, **overrides)
        self.sandbox = sandbox
        self.evaluator = evaluator or Evaluator(settings.config, sandbox)
        self.catalog = DatasetCatalog(settings.datasets)
        self.limiter: RateLimiter = RedisRateLimiter(settings.redis) if settings.redis else MemoryRateLimiter()
        self.in_flight = InFlight()
        self.audit = AuditWriter(self.store)
        self.metrics = Metrics(self.job_counts, lambda: self.audit.pending, lambda: self.runs.waiting)
        self.runs = RunQueue(sandbox, int(getattr(sandbox, "size", 2)))
        self.work_pool = ThreadPoolExecutor(8, thread_name_prefix="codeeval-work")
        self.default_limits: Limits = sandbox.default_limits()
        # A request may lower the compile limit, never raise it past the sandbox's own setting
        # (None: a sandbox without one, which then keeps its own).
        compile_cap = getattr(getattr(sandbox, "settings", None), "compile_wall_time_s", None)
        self.max_limits = Limits(wall_time_s=settings.max_wall_time_s, memory_mb=settings.max_memory_mb,
                                 max_processes=max(self.default_limits.max_processes, 512),
                                 output_bytes=max(self.default_limits.output_bytes, 16 << 20),
                                 file_size_bytes=max(self.default_limits.file_size_bytes, 256 << 20),
                                 compile_time_s=float(compile_cap) if compile_cap else None)
        self.runner = JobRunner(self.store, self.evaluator, self.catalog, chunk=settings.job_chunk)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the sandbox (so the first request is fast), fail jobs whose upload a crash
        interrupted, and start the job runner."""
        begin = getattr(self.sandbox, "start", None)
        if callable(begin):
            begin()
        failed = self.store.fail_unaccepted()
        if failed:
            log.warning("%d job(s) whose upload was interrupted were marked failed", failed)
        self.runner.start()

    def close(self) -> None:
        """Graceful stop: the runner finishes its chunk, every audit record is written, the
        pools drain, then the sandbox stops (if this service started it)."""
        self.runner.stop()
        self.runs.close()
        self.work_pool.shutdown(wait=True)
        self.audit.close()
        if self._owns_sandbox:
            self.evaluator.close()
            self.sandbox.close()
        self.store.close()

    def job_counts(self) -> dict[str, int]:
        return self.store.job_counts()

    # ------------------------------------------------------------------ runs
    def limits(self, given: Mapping[str, Any] | None) -> Limits:
        """The server's default limits overridden by ``given`` (fields of :class:`Limits`),
        each capped at the server's maximum."""
        lim = self.default_limits
        if given:
            lim = replace(lim, **{k: v for k, v in given.items() if v is not None})
        cap = self.max_limits
        compile_s = lim.compile_time_s
        if compile_s is not None:
            compile_s = None if cap.compile_time_s is None else min(compile_s, cap.compile_time_s)
        return Limits(wall_time_s=min(lim.wall_time_s, cap.wall_time_s),
                      cpu_time_s=None if lim.cpu_time_s is None else min(lim.cpu_time_s, cap.wall_time_s),
                      memory_mb=min(lim.memory_mb, cap.memory_mb),
                      max_processes=min(lim.max_processes, cap.max_processes),
                      output_bytes=min(lim.output_bytes, cap.output_bytes),
                      file_size_bytes=min(lim.file_size_bytes, cap.file_size_bytes),
                      compile_time_s=compile_s)

    def check_runtime(self, language: str, runtime: str) -> None:
        """:class:`InputError` when ``runtime`` (a program's runtime profile; empty: the
        default) is unknown, serves another language, or is not built on this server. The
        message names the profiles, never a path of the server. A sandbox on other machines
        (Ray) checks what is built there itself."""
        if not runtime:
            return
        from codeeval_rl.sandbox import profiles
        from codeeval_rl.sandbox.languages import get_language

        spec = profiles.PROFILES.get(runtime)
        if spec is None:
            raise InputError(f"unknown runtime profile {runtime!r}; profiles: {', '.join(profiles.PROFILES)}")
        try:
            lang = get_language(language)
        except InputError:
            return  # the run reports the language itself
        if spec.language != lang.name:
            raise InputError(f"runtime profile {runtime!r} is for {spec.language} programs; this program is "
                             f"{lang.name}")
        root = getattr(self.sandbox, "profiles_dir", None)
        if root is None:
            return
        try:
            profiles.load_profile(runtime, root)
        except InputError:
            built = [row["name"] for row in profiles.list_profiles(root) if row["built"]]
            raise InputError(f"runtime profile {runtime!r} is not built on this server (built: {', '.join(built)}); "
                             f"its operator builds it with: codeeval-rl sandbox build-env {runtime}") from None

    async def _on_pool(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, fn, *args)

    async def run(self, program: Program, limits: Limits) -> ExecutionResult:
        """Run one program; :class:`InputError` for unusable input (unknown language, empty
        source, a bad file name)."""
        self.metrics.running.inc()
        try:
            result = await asyncio.wrap_future(self.runs.submit(program, limits))
        finally:
            self.metrics.running.dec()
        self.metrics.runs.labels(result.status.value).inc()
        return result

    def _run_many(self, programs: Sequence[Program], limits: Limits) -> list[ExecutionResult]:
        self.metrics.running.inc()
        try:
            results = self.sandbox.run_many(programs, limits)
        finally:
            self.metrics.running.dec()
        for r in results:
            self.metrics.runs.labels(r.status.value).inc()
        return results

    async def run_many(self, programs: Sequence[Program], limits: Limits) -> list[ExecutionResult]:
        """Run a batch (a bad item is that item's ``sandbox_error``)."""
        if len(programs) > self.settings.max_programs:
            raise InputError(f"programs holds {len(programs)} programs; this server takes at most "
                             f"{self.settings.max_programs} per request")
        return await self._on_pool(self.work_pool, self._run_many, programs, limits)

    # ------------------------------------------------------------------ rewards
    def _reward(self, items: Sequence[Mapping[str, Any]], tasks: Sequence[Mapping[str, Any]] | None,
                tests: str, language: str) -> list[dict[str, Any]]:
        from codeeval_rl.evaluation import completion_to_code
        from codeeval_rl.integrations._tasks import RowTasks, completion_text
        from codeeval_rl.integrations.verl import _parse, last_python_block

        given = {t.id: t for t in tasks_from_dicts(tasks)} if tasks else {}
        rows = RowTasks(given, tests=tests, language=language, source="service")
        resolved: list[tuple[Task, str, str]] = []
        for i, item in enumerate(items):
            text = completion_text(item["completion"])
            gt = item.get("ground_truth")
            try:
                if gt is not None:  # veRL: the row is the ground truth; the code its last python block
                    task, which = rows(_parse(gt))
                    text = last_python_block(text)
                else:
                    task, which = rows({k: v for k, v in item.items() if k != "completion"})
            except InputError as exc:
                raise InputError(f"items[{i}]: {exc}") from None
            resolved.append((task, which, text))
        out: list[dict[str, Any]] = [{} for _ in resolved]
        groups: dict[str, list[int]] = {}
        for i, (_, which, _) in enumerate(resolved):
            groups.setdefault(which, []).append(i)
        for which, idx in groups.items():
            pairs = [(resolved[i][0], completion_to_code(resolved[i][0], resolved[i][2])) for i in idx]
            for i, r in zip(idx, self.evaluator.evaluate_many(pairs, tests=which)):  # type: ignore[arg-type]
                out[i] = r.to_dict()
        return out

    async def reward(self, items: Sequence[Mapping[str, Any]], tasks: Sequence[Mapping[str, Any]] | None,
                     tests: str, language: str) -> list[dict[str, Any]]:
        """One evaluation result (reward, components, verdict) per item, in order."""
        if len(items) > self.settings.max_reward_items:
            raise InputError(f"items holds {len(items)} completions; this server takes at most "
                             f"{self.settings.max_reward_items} per request")
        return await self._on_pool(self.work_pool, self._reward, items, tasks, tests, language)

    # ------------------------------------------------------------------ jobs
    def new_job_id(self) -> str:
        return uuid.uuid4().hex[:16]

    async def in_store(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking store call off the event loop."""
        return await self._on_pool(self.work_pool, fn, *args)

    def task_ids(self, dataset: str | None, tasks: Sequence[Mapping[str, Any]] | None) -> set[str]:
        """The task ids a job's samples may name; :class:`InputError` for a bad dataset or tasks."""
        if (dataset is None) == (tasks is None):
            raise InputError("give exactly one of dataset (a name) or tasks (Task-format objects)")
        if dataset is not None:
            return {t.id for t in self.catalog.tasks(dataset)}
        return {t.id for t in tasks_from_dicts(tasks or [])}

    @staticmethod
    def check_ks(ks: Sequence[int]) -> list[int]:
        if any(k < 1 for k in ks):
            raise InputError(f"k = {list(ks)}: every k must be >= 1")
        return sorted(set(ks))

