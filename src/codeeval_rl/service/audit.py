"""The audit writer: requests are recorded off the request path, in batches.

``record`` only appends to a queue (microseconds); a background thread writes what has
queued up in one transaction every ``interval_s`` (or sooner once ``batch`` records wait).
``close`` writes everything still queued before it returns, so a graceful shutdown loses no
record. When the store refuses a write the records are kept and retried on the next round;
beyond ``max_pending`` waiting records the oldest are dropped and counted in ``dropped``
(a store that is down for long must not exhaust memory), and the error is kept in ``error``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Protocol

from codeeval_rl.errors import StoreError
from codeeval_rl.service.store import AuditRecord

__all__ = ["AuditWriter"]

log = logging.getLogger("codeeval_rl.service")


class _Sink(Protocol):
    def append_audit(self, records: list[AuditRecord]) -> None: ...


class AuditWriter:
    """Batches :class:`AuditRecord` into ``sink.append_audit`` on a thread of its own."""

    def __init__(self, sink: _Sink, *, interval_s: float = 0.25, batch: int = 2000,
                 max_pending: int = 1_000_000) -> None:
        self.sink = sink
        self.interval_s = interval_s
        self.batch = batch
        self.max_pending = max_pending
        self.dropped = 0
        self.written = 0
        self.error = ""
        self._pending: deque[AuditRecord] = deque()
        self._wake = threading.Event()
        self._stop = False
        self._lock = threading.Lock()  # serialises writes: the thread's and close()'s
        self._thread = threading.Thread(target=self._loop, name="codeeval-audit", daemon=True)
        self._thread.start()

    def record(self, rec: AuditRecord) -> None:
        """Queue one record (never blocks on the store)."""
        self._pending.append(rec)
        if len(self._pending) > self.max_pending:
            self._pending.popleft()
            self.dropped += 1
        if len(self._pending) >= self.batch:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _drain(self) -> None:
        with self._lock:
            while self._pending:
                n = min(len(self._pending), self.batch)
                chunk = [self._pending[i] for i in range(n)]
                try:
                    self.sink.append_audit(chunk)
                except StoreError as exc:
                    if self.error != str(exc):
                        log.error("audit log write failed; will retry: %s", exc)
                    self.error = str(exc)
                    return
                for _ in range(n):
                    self._pending.popleft()
                self.written += n
                self.error = ""

    def _loop(self) -> None:
        while not self._stop:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            self._drain()

    def flush(self) -> None:
        """Write what is queued now (from the calling thread)."""
        self._drain()

    def close(self) -> None:
        """Stop the thread after writing every queued record (retried for a few seconds if the
        store refuses)."""
        self._stop = True
        self._wake.set()
        self._thread.join()
        for _ in range(20):
            self._drain()
            if not self._pending:
                return
            threading.Event().wait(0.25)
        log.error("audit log: %d records could not be written at shutdown: %s", len(self._pending), self.error)
