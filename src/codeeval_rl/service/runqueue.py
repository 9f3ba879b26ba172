"""Single runs from many requests, served first come, first served.

Handing each request's ``Sandbox.run`` to a thread of a large pool lets the threads race for
the sandbox's permits (a semaphore, not a queue): measured with 32 concurrent callers on 2
workers, a few requests waited for the whole benchmark (p99 5.7 s while the median run took
3 ms). Here ``slots`` feeding threads (the sandbox's ``workers``) take requests from one FIFO
queue, so at most ``slots`` runs hold normal priority and none overtakes another. When a run
yields (it outlived ``yield_after_s``), a new feeding thread takes over its slot and the old
one ends with that run, as ``Sandbox.run_many`` does, so a runaway never holds up the queue.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from codeeval_rl.types import ExecutionResult, Limits, Program

__all__ = ["RunQueue"]


class RunQueue:
    """FIFO dispatch of runs to ``sandbox`` on ``slots`` normal-priority feeding threads."""

    def __init__(self, sandbox: Any, slots: int) -> None:
        self.sandbox = sandbox
        self.slots = max(1, slots)
        # Sandbox._run takes an on_yield callback (run_many uses it the same way); a sandbox
        # without it (FakeSandbox) never yields.
        self._run_with_yield = getattr(sandbox, "_run", None)
        self._queue: queue.SimpleQueue[tuple[Future[ExecutionResult], Program, Limits] | None] = queue.SimpleQueue()
        self._closed = False
        for _ in range(self.slots):
            self._spawn()

    @property
    def waiting(self) -> int:
        """Runs queued, not started yet."""
        return self._queue.qsize()

    def submit(self, program: Program, limits: Limits) -> Future[ExecutionResult]:
        if self._closed:
            raise RuntimeError("the run queue is closed")
        fut: Future[ExecutionResult] = Future()
        self._queue.put((fut, program, limits))
        return fut

    def close(self) -> None:
        """Let the runs queued so far finish, then stop the feeding threads."""
        self._closed = True
        for _ in range(self.slots):
            self._queue.put(None)

    def _spawn(self) -> None:
        threading.Thread(target=self._feed, name="codeeval-run-feed", daemon=True).start()

    def _feed(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, program, limits = item
            if not fut.set_running_or_notify_cancel():
                continue
            handed_over = False

            def hand_over() -> None:
                nonlocal handed_over
                handed_over = True
                self._spawn()

            try:
                if self._run_with_yield is not None:
                    result = self._run_with_yield(program, limits, on_yield=hand_over)
                else:
                    result = self.sandbox.run(program, limits)
                fut.set_result(result)
            except BaseException as exc:  # noqa: BLE001 - delivered to the waiting request
                fut.set_exception(exc)
            if handed_over:
                return
