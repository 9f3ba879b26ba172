"""The Ray actor that runs programs: one local sandbox (a fork-server pool) per actor.

:class:`SandboxActor` is a plain class; :class:`~codeeval_rl.distributed.sandbox.RaySandbox`
makes it a Ray actor (threaded, so several chunks of one or more batches share the local
pool, whose permits bound the runs at normal priority). It imports nothing from Ray, so it can
be tested and used without it.

The sandbox starts in :meth:`ready`, the first call, so a host that cannot isolate
(:class:`~codeeval_rl.errors.SandboxUnavailable`) fails that call with its own message. Ray
restarts a lost actor with the same constructor arguments; the harness modules the evaluator
preloads travel with every chunk as a key and a reference, and a fresh actor fetches them once.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

from codeeval_rl.types import ExecutionResult, Limits, Program

__all__ = ["SandboxActor", "local_sandbox"]

Preloads = tuple[str, list[Any]]
"""``(key, [ref])``: a key naming the preload set, and the Ray reference of its
``{name: source}`` dict inside a list (so that Ray does not fetch it for every call)."""


def local_sandbox(settings: Any, allow_no_cgroups: bool, workers: int) -> Any:
    """The default factory: a :class:`~codeeval_rl.sandbox.Sandbox` with ``workers`` workers."""
    from codeeval_rl.sandbox import Sandbox

    return Sandbox(settings, allow_no_cgroups=allow_no_cgroups, workers=workers)


class SandboxActor:
    """Holds ``factory(workers)`` (anything with ``run_many``; by default a real sandbox)."""

    def __init__(self, factory: Callable[[int], Any], workers: int) -> None:
        self._factory = factory
        self._workers = workers
        self._sandbox: Any = None
        self._preload_key = ""
        self._lock = threading.Lock()

    def _box(self) -> Any:
        with self._lock:
            if self._sandbox is None:
                sandbox = self._factory(self._workers)
                start = getattr(sandbox, "start", None)
                if callable(start):
                    start()
                self._sandbox = sandbox
            return self._sandbox

    def ready(self) -> dict[str, Any]:
        """Start the sandbox; what this actor is: ``pid``, ``host``, ``workers`` and the
        sandbox's capabilities where it reports them."""
        box = self._box()
        info: dict[str, Any] = {"pid": os.getpid(), "host": socket.gethostname(), "workers": self._workers}
        caps = getattr(box, "capabilities", None)
        if callable(caps):
            info["capabilities"] = caps()
        return info

    def run_chunk(self, programs: Sequence[Program], limits: Limits | None, preloads: Preloads | None,
                  single: bool = False) -> list[ExecutionResult]:
        """Run ``programs`` on the local sandbox; results in order. ``single``: one program
        through ``run``, whose unusable input raises :class:`~codeeval_rl.errors.InputError`
        (``run_many`` turns it into that item's ``sandbox_error``)."""
        box = self._box()
        if preloads is not None:
            self._apply_preloads(box, preloads)
        if single:
            return [box.run(programs[0], limits)]
        return list(box.run_many(programs, limits))

    def _apply_preloads(self, box: Any, preloads: Preloads) -> None:
        key, holder = preloads
        with self._lock:
            if key == self._preload_key:
                return
            import ray

            sources: dict[str, str] = dict(ray.get(holder[0]))  # type: ignore[call-overload]
            for name, source in sources.items():
                box.preload(name, source)
            self._preload_key = key

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None
