"""``RaySandbox``: the sandbox's ``run`` / ``run_many`` interface, spread over a Ray cluster.

Each Ray actor (:class:`~codeeval_rl.distributed.actor.SandboxActor`) holds a local
:class:`~codeeval_rl.sandbox.Sandbox`, a fork-server pool of ``cpus_per_actor`` workers with
the same isolation and limits as on one machine: what a program may do does not change, only
where it runs. The evaluator, the TRL reward function, the trainers and the service take a
``RaySandbox`` wherever they take a ``Sandbox``.

Contract of :meth:`RaySandbox.run_many`:

* Results come back in input order, one per program; ``on_result(index, result)`` is called
  as each chunk returns (from the calling thread).
* A batch is cut into chunks of consecutive programs (``ray.chunk_size``); each ready actor
  holds up to ``ray.in_flight`` chunks of a batch, and the next chunk goes to whichever actor
  answers first, so a slow node takes fewer.
* Losing an actor loses no result: the runs of its unanswered chunks are sent again, each
  alone on an actor with nothing else of the batch in flight, to the actors that are ready;
  Ray restarts the lost actor (on any node with room) and it takes work again once its sandbox
  is up. A run in flight on ``ray.max_losses`` (2) lost actors gets ``sandbox_error``: a
  program that kills its worker gets a verdict, not a loop of retries, and the runs beside it
  get their own results (:mod:`codeeval_rl.distributed.ledger`). Runs of *other* batches sent
  to the same actor at the same time are not held back, so one of them can be lost beside a
  retried killer and count a loss it did not cause.
* Never a hang: a chunk that has not answered within ``start_timeout_s`` plus, per program,
  its wall limit, the compile limit and 30 s, counts as lost and its actor is restarted; a
  batch whose work waits while no actor has been ready for ``start_timeout_s`` fails with
  :class:`~codeeval_rl.errors.SandboxError`.
* Faults are one tree: no ray installed is :class:`~codeeval_rl.errors.MissingDependency`
  (with the pip command), a bad or unreachable address :class:`~codeeval_rl.errors.InputError`,
  an actor whose host cannot isolate :class:`~codeeval_rl.errors.SandboxUnavailable` (when no
  actor can start). Bad input inside a batch is that item's ``sandbox_error``, as locally.

Limits: every node needs the same package version (results are pickled dataclasses) and the
sandbox's requirements (bubblewrap, cgroups, the toolchains: the image under ``deploy/``).
Programs and results travel through Ray's object store, so a batch costs one round trip per
chunk beside the runs themselves (docs/benchmarks.md, "Ray"). The evaluator's own work (the
judge, the quality analysers) stays on the calling machine.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from codeeval_rl.config import RaySettings, SandboxSettings, load_sandbox_settings, parse_settings
from codeeval_rl.distributed.actor import Preloads, SandboxActor, local_sandbox
from codeeval_rl.distributed.cluster import Cluster, _first_line, connect, disconnect, ray_module
from codeeval_rl.distributed.ledger import Chunk, Ledger
from codeeval_rl.errors import CodeEvalError, InputError, SandboxError, SandboxUnavailable
from codeeval_rl.types import ExecutionResult, Limits, Program

__all__ = ["RaySandbox", "open_sandbox"]

_SLACK_S = 30.0  # per program, beyond its limits, before a silent chunk counts as lost
_JOIN_GRACE_S = 5.0  # start(): once one actor is ready, how long to wait for the others


def _lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    """Ray's exceptions that mean "the actor or its node went away", not "the call failed"."""
    ex = ray.exceptions
    names = ("RayActorError", "WorkerCrashedError", "ObjectLostError", "NodeDiedError", "OutOfMemoryError")
    return tuple(getattr(ex, n) for n in names if hasattr(ex, n))


@dataclass
class _Actor:
    """One actor and what its callers know of it (guarded by the sandbox's lock)."""

    handle: Any
    workers: int
    generation: int = 0  # bumped at each loss, so one loss is handled once
    ready: bool = False
    probe: Any = None  # the ready() call in flight, while starting or restarting
    info: dict[str, Any] = field(default_factory=dict)
    dead: str = ""  # why it can take no work (its host cannot isolate)


@dataclass
class _Flight:
    actor: _Actor
    generation: int
    chunk: Chunk
    deadline: float


class RaySandbox:
    """A sandbox whose workers are Ray actors (see the module docstring for the contract).

    ``settings``, ``allow_no_cgroups`` and keyword overrides are those of
    :class:`~codeeval_rl.sandbox.Sandbox` and configure every actor's local sandbox
    (``workers`` is set per actor from ``cpus_per_actor``). ``cluster``: a
    :class:`~codeeval_rl.config.RaySettings`, a mapping of its fields, or an address
    (``auto``, ``local``, ``HOST:PORT``, ``ray://HOST:PORT``). ``factory(workers)`` replaces the
    local sandbox each actor holds (it must pickle; for tests and other engines).

    Nothing connects or starts until :meth:`connect`, :meth:`start` or the first run.
    """

    def __init__(self, settings: SandboxSettings | str | os.PathLike[str] | None = None, *,
                 cluster: RaySettings | Mapping[str, Any] | str | None = None,
                 factory: Callable[[int], Any] | None = None, allow_no_cgroups: bool = False,
                 **overrides: Any) -> None:
        if settings is None or isinstance(settings, (str, os.PathLike)):
            settings = load_sandbox_settings(settings)
        if overrides:
            settings = parse_settings(SandboxSettings, {**settings.model_dump(), **overrides}, section="sandbox")
        self.settings: SandboxSettings = settings
        if cluster is None or isinstance(cluster, str):
            cluster = RaySettings(address=cluster or "auto")
        elif not isinstance(cluster, RaySettings):
            cluster = parse_settings(RaySettings, dict(cluster), section="ray")
        self.ray: RaySettings = cluster
        self._factory = factory or functools.partial(local_sandbox, settings, allow_no_cgroups)
        self._cluster: Cluster | None = None
        self._actors: list[_Actor] = []
        self._per_actor = 0
        self._lock = threading.RLock()
        self._preloads: dict[str, str] = {}
        self._preload_arg: Preloads | None = None
        self._closed = False
        self.lost_chunks = 0
        """Chunks lost with their actor so far (each one's runs were sent again or got their verdict)."""

    # ---- lifecycle -------------------------------------------------------------------------
    def connect(self) -> Cluster:
        """Join (or start) the Ray cluster now; idempotent. Raises what the first run would for
        a bad address or a missing ray."""
        with self._lock:
            if self._closed:
                raise SandboxError("this RaySandbox is closed")
            if self._cluster is None:
                self._cluster = connect(self.ray.address)
            return self._cluster

    def _plan(self) -> tuple[int, int]:
        """``(actors, workers per actor)`` for the connected cluster."""
        cpus = self.connect().cpus
        per = self.ray.cpus_per_actor
        if self.ray.actors:
            return self.ray.actors, per
        if cpus >= per:
            return int(cpus // per), per
        return 1, max(1, int(cpus)) if cpus >= 1 else per

    @property
    def size(self) -> int:
        """Runs at normal priority at once across the cluster: actors x workers (connects)."""
        actors, per = self._plan() if not self._actors else (len(self._actors), self._per_actor)
        return actors * per

    def start(self) -> Self:
        """Connect, start the actors and wait until they are ready (all of them, or, once one
        is, at most a few more seconds for the rest, which join later); returns ``self``.
        :class:`SandboxUnavailable` when no actor's sandbox can start."""
        ray = ray_module()
        with self._lock:
            if self._closed:
                raise SandboxError("this RaySandbox is closed")
            if self._actors:
                return self
            count, per = self._plan()
            remote = ray.remote(SandboxActor).options(
                num_cpus=per, resources=dict(self.ray.resources) or None, max_restarts=-1, max_task_retries=0,
                max_concurrency=64, scheduling_strategy="SPREAD")
            self._per_actor = per
            for _ in range(count):
                handle = remote.remote(self._factory, per)
                self._actors.append(_Actor(handle=handle, workers=per, probe=handle.ready.remote()))
        began = time.monotonic()
        first_ready: float | None = None
        while True:
            probes = self._probes()
            if not probes:
                break
            now = time.monotonic()
            if first_ready is None and any(a.ready for a in self._actors):
                first_ready = now
            if first_ready is not None:
                wait = first_ready + _JOIN_GRACE_S - now
            else:
                wait = began + self.ray.start_timeout_s - now
            if wait <= 0:
                break
            done, _ = ray.wait(probes, num_returns=1, timeout=wait)
            for ref in done:
                self._settle_probe(ref)
        self._check_alive(waited=time.monotonic() - began)
        return self

    def close(self) -> None:
        """Stop the actors and leave the cluster if this sandbox joined it. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            actors, self._actors = self._actors, []
            cluster, self._cluster = self._cluster, None
        if actors or cluster is not None:
            ray = ray_module()
            for a in actors:
                try:
                    ray.kill(a.handle, no_restart=True)
                except Exception:  # noqa: BLE001, S110 - already gone
                    pass
        if cluster is not None:
            disconnect(cluster)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- what callers of a Sandbox use -----------------------------------------------------
    def default_limits(self) -> Limits:
        s = self.settings
        return Limits(wall_time_s=s.wall_time_s, cpu_time_s=s.cpu_time_s, memory_mb=s.memory_mb,
                      max_processes=s.max_processes, output_bytes=s.output_bytes,
                      file_size_bytes=s.file_size_bytes)

    def preload(self, name: str, source: str) -> None:
        """As :meth:`Sandbox.preload <codeeval_rl.sandbox.Sandbox.preload>`: trusted Python
        imported once in every actor's workers (actors fetch it once, restarted ones again)."""
        if not name.isidentifier():
            raise InputError(f"preload module name {name!r} is not a Python identifier")
        try:
            compile(source, name + ".py", "exec")
        except SyntaxError as exc:
            raise InputError(f"preload module {name!r} does not compile: {exc}") from None
        with self._lock:
            self._preloads[name] = source
            self._preload_arg = None

    def capabilities(self) -> dict[str, Any]:
        """The cluster (address, nodes, CPUs), the actors ready now and what the first one's
        sandbox reports."""
        self.start()
        with self._lock:
            ready = [a.info for a in self._actors if a.ready]
        cluster = self.connect()
        info: dict[str, Any] = dict(ready[0].get("capabilities", {})) if ready else {}
        info.update(backend="ray", address=cluster.address, nodes=cluster.nodes, cluster_cpus=cluster.cpus,
                    actors=len(ready), workers=sum(a.get("workers", 0) for a in ready),
                    actor_hosts=sorted({a.get("host", "") for a in ready}))
        return info

    def actor_pids(self) -> list[int]:
        """Process ids of the ready actors (for operators and tests)."""
        with self._lock:
            return [int(a.info["pid"]) for a in self._actors if a.ready and "pid" in a.info]

    def run(self, program: Program, limits: Limits | None = None) -> ExecutionResult:
        """Run one program on the cluster; unusable input raises :class:`InputError`."""
        return self._dispatch([program], limits, None, single=True)[0]

    def run_many(self, programs: Sequence[Program] | Iterable[Program], limits: Limits | None = None,
                 on_result: Callable[[int, ExecutionResult], None] | None = None) -> list[ExecutionResult]:
        """Run a batch on the cluster; results in input order (see the module docstring)."""
        items = list(programs)
        if not items:
            return []
        return self._dispatch(items, limits, on_result, single=False)

    # ---- dispatch --------------------------------------------------------------------------
    def _dispatch(self, items: list[Program], limits: Limits | None,
                  on_result: Callable[[int, ExecutionResult], None] | None, single: bool) -> list[ExecutionResult]:
        ray = ray_module()
        self.start()
        limits = limits or self.default_limits()
        lost = _lost_errors(ray)
        ledger = Ledger(len(items), self._chunk_size(len(items)), self.ray.max_losses)
        flights: dict[Any, _Flight] = {}
        load: Counter[int] = Counter()
        alone: set[int] = set()  # actors running a retry, which must run alone
        preloads = self._preloads_arg(ray)
        idle_since: float | None = None
        while not ledger.finished:
            if self._closed:
                raise SandboxError("this RaySandbox was closed while a batch was running")
            for actor in self._ready_actors():
                while load[id(actor)] < self.ray.in_flight and id(actor) not in alone:
                    chunk = ledger.peek()
                    if chunk is None or (chunk.retry and load[id(actor)]):
                        break  # a retry waits for an actor with nothing else of this batch
                    ledger.take()
                    ref = actor.handle.run_chunk.remote([items[i] for i in chunk.indices], limits, preloads, single)
                    flights[ref] = _Flight(actor, actor.generation, chunk,
                                           time.monotonic() + self._budget(len(chunk.indices), limits))
                    load[id(actor)] += 1
                    if chunk.retry:
                        alone.add(id(actor))
            probes = self._probes()
            if not flights:
                self._check_alive(waited=0.0)
                now = time.monotonic()
                idle_since = idle_since or now
                if now - idle_since > self.ray.start_timeout_s:
                    raise SandboxError(f"no Ray sandbox actor has been ready for {self.ray.start_timeout_s:g} s "
                                       f"while {ledger.waiting} chunks of runs wait")
                if probes:
                    done, _ = ray.wait(probes, num_returns=1, timeout=idle_since + self.ray.start_timeout_s - now)
                    for ref in done:
                        self._settle_probe(ref)
                else:
                    time.sleep(0.05)  # another batch's thread is settling the actors' states
                continue
            idle_since = None
            timeout = max(0.0, min(f.deadline for f in flights.values()) - time.monotonic())
            done, _ = ray.wait([*flights, *probes], num_returns=1, timeout=timeout)
            for ref in done:
                flight = flights.pop(ref, None)
                if flight is None:
                    self._settle_probe(ref)
                    continue
                load[id(flight.actor)] -= 1
                alone.discard(id(flight.actor))
                try:
                    results = ray.get(ref)
                except lost as exc:
                    reason = _first_line(exc)
                    self.lost_chunks += 1
                    self._mark_lost(flight, reason)
                    pairs = ledger.lose(flight.chunk, reason)
                except Exception as exc:  # noqa: BLE001 - the call itself failed on the actor
                    raise _cause(exc) from None
                else:
                    pairs = ledger.settle(flight.chunk, results)
                if on_result is not None:
                    for i, r in pairs:
                        on_result(i, r)
            now = time.monotonic()
            for ref, flight in list(flights.items()):
                if flight.deadline <= now:
                    del flights[ref]
                    load[id(flight.actor)] -= 1
                    alone.discard(id(flight.actor))
                    reason = f"no answer from the actor within {self._budget(len(flight.chunk.indices), limits):g} s"
                    self.lost_chunks += 1
                    self._restart(flight, reason)
                    pairs = ledger.lose(flight.chunk, reason)
                    if on_result is not None:
                        for i, r in pairs:
                            on_result(i, r)
        return ledger.results()

    def _chunk_size(self, n: int) -> int:
        if self.ray.chunk_size:
            return self.ray.chunk_size
        with self._lock:
            actors = max(1, sum(1 for a in self._actors if not a.dead))
        return max(1, min(2 * self._per_actor, math.ceil(n / (actors * self.ray.in_flight))))

    def _budget(self, programs: int, limits: Limits) -> float:
        per = limits.wall_time_s + self.settings.compile_wall_time_s + _SLACK_S
        return self.ray.start_timeout_s + programs * per

    def _preloads_arg(self, ray: Any) -> Preloads | None:
        with self._lock:
            if not self._preloads:
                return None
            if self._preload_arg is None:
                digest = hashlib.sha256()
                for name in sorted(self._preloads):
                    digest.update(name.encode() + b"\0" + self._preloads[name].encode() + b"\0")
                self._preload_arg = (digest.hexdigest(), [ray.put(dict(self._preloads))])
            return self._preload_arg

    # ---- actor states ----------------------------------------------------------------------
    def _ready_actors(self) -> list[_Actor]:
        with self._lock:
            return [a for a in self._actors if a.ready and not a.dead]

    def _probes(self) -> list[Any]:
        with self._lock:
            return [a.probe for a in self._actors if a.probe is not None and not a.dead]

    def _settle_probe(self, ref: Any) -> None:
        """A ready() call returned: the actor is (back) up, or cannot isolate, or died again."""
        ray = ray_module()
        with self._lock:
            # by value: Ray Client's wait() returns new reference objects for the same ids
            actor = next((a for a in self._actors if a.probe is not None and a.probe == ref), None)
            if actor is None or self._closed:
                return  # another batch's thread handled it
            try:
                info = ray.get(ref)
            except _lost_errors(ray):
                actor.probe = actor.handle.ready.remote()  # Ray restarts it; ask again
                return
            except Exception as exc:  # noqa: BLE001 - its sandbox could not start
                actor.probe = None
                actor.dead = _first_line(_cause(exc))
                return
            actor.probe = None
            actor.ready = True
            actor.info = info

    def _mark_lost(self, flight: _Flight, reason: str) -> None:
        """The flight's actor died; unless a caller already did, wait for Ray's restart."""
        with self._lock:
            actor = flight.actor
            if actor.generation != flight.generation or self._closed:
                return
            actor.generation += 1
            actor.ready = False
            actor.probe = actor.handle.ready.remote()

    def _restart(self, flight: _Flight, reason: str) -> None:
        """A silent actor: kill it so that Ray starts a fresh one."""
        with self._lock:
            stale = flight.actor.generation != flight.generation
        if not stale:
            try:
                ray_module().kill(flight.actor.handle, no_restart=False)
            except Exception:  # noqa: BLE001, S110 - already gone: Ray restarts it anyway
                pass
        self._mark_lost(flight, reason)

    def _check_alive(self, waited: float) -> None:
        with self._lock:
            if self._actors and all(a.dead for a in self._actors):
                reasons = sorted({a.dead for a in self._actors})
                raise SandboxUnavailable(f"no Ray sandbox actor could start its sandbox: {'; '.join(reasons)}")
            if not any(a.ready for a in self._actors) and waited >= self.ray.start_timeout_s:
                raise SandboxError(f"no Ray sandbox actor became ready within {self.ray.start_timeout_s:g} s "
                                   f"({len(self._actors)} asked for, {self._per_actor} CPUs each): "
                                   "the cluster may lack the CPUs or resources they need")


def _cause(exc: BaseException) -> BaseException:
    """Our own exception raised inside an actor call, as it was raised there (its message
    without Ray's traceback); anything else as a :class:`SandboxError`."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, CodeEvalError):
        return cause
    if isinstance(exc, CodeEvalError) and not hasattr(exc, "cause"):
        return exc
    return SandboxError(f"a Ray sandbox actor failed: {_first_line(cause or exc)}")


def open_sandbox(settings: SandboxSettings | str | os.PathLike[str] | None = None,
                 ray: RaySettings | Mapping[str, Any] | str | None = None, **overrides: Any) -> Any:
    """A :class:`~codeeval_rl.sandbox.Sandbox` on this machine, or a :class:`RaySandbox` when
    ``ray`` is given (settings, a mapping of them, or an address); both are context managers."""
    if ray is None:
        from codeeval_rl.sandbox import Sandbox

        return Sandbox(settings, **overrides)
    return RaySandbox(settings, cluster=ray, **overrides)
