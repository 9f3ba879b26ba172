"""The bookkeeping of one batch spread over Ray actors: which runs wait, which are in flight,
which are done, and how often each was lost with its actor. Pure: no Ray, no threads.

A batch is cut into chunks of consecutive indices (the caller's dispatch order, such as the
evaluator's runaways-first order, is kept). A chunk comes back whole, as one result per index,
or is *lost* when its actor dies before answering: which of its runs, if any, killed the actor
is unknown, so each of them goes back to the front of the queue as a chunk of its own, a
*retry*, with one loss counted. The dispatcher sends a retry only to an actor with nothing else
of the batch in flight, and nothing else to that actor until it answers, so that a second loss
has one suspect: that run has now been lost ``max_losses`` times and gets ``sandbox_error``
instead of another try. A program that kills whichever worker runs it ends the batch with a
verdict, never a loop of retries, and an innocent run that shared a chunk or an actor with it
is retried alone and gets its own result.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from codeeval_rl.errors import SandboxError
from codeeval_rl.types import ExecutionResult, Status

__all__ = ["Chunk", "Ledger"]


@dataclass(frozen=True)
class Chunk:
    """Indices of a batch sent to an actor in one call. ``retry``: a single run sent again after
    a loss, which must run alone on its actor."""

    indices: tuple[int, ...]
    retry: bool = False


class Ledger:
    """The state of a batch of ``size`` runs cut into chunks of at most ``chunk_size``."""

    def __init__(self, size: int, chunk_size: int, max_losses: int = 2) -> None:
        if size < 0 or chunk_size < 1 or max_losses < 1:
            raise ValueError(f"size={size}, chunk_size={chunk_size}, max_losses={max_losses}")
        self.max_losses = max_losses
        self._queue: deque[Chunk] = deque(
            Chunk(tuple(range(start, min(size, start + chunk_size)))) for start in range(0, size, chunk_size))
        self._results: list[ExecutionResult | None] = [None] * size
        self._losses = [0] * size
        self._open = size

    @property
    def finished(self) -> bool:
        """Every run has its result."""
        return self._open == 0

    @property
    def waiting(self) -> int:
        """Chunks not sent yet (retries included)."""
        return len(self._queue)

    def losses(self, index: int) -> int:
        return self._losses[index]

    def peek(self) -> Chunk | None:
        """The chunk :meth:`take` would return, left in the queue."""
        return self._queue[0] if self._queue else None

    def take(self) -> Chunk | None:
        """The next chunk to send (retries first), or ``None`` when none waits."""
        return self._queue.popleft() if self._queue else None

    def settle(self, chunk: Chunk, results: Sequence[ExecutionResult]) -> list[tuple[int, ExecutionResult]]:
        """Record the results of a chunk that came back; returns ``(index, result)`` pairs.
        A reply of the wrong length is our fault: :class:`SandboxError`."""
        if len(results) != len(chunk.indices):
            raise SandboxError(f"a Ray sandbox actor answered {len(results)} results for {len(chunk.indices)} runs")
        return [self._record(i, r) for i, r in zip(chunk.indices, results)]

    def lose(self, chunk: Chunk, reason: str) -> list[tuple[int, ExecutionResult]]:
        """The chunk's actor died before answering: each run goes back alone, retries first,
        except those lost ``max_losses`` times, which are returned as ``sandbox_error``."""
        final = []
        retry = []
        for i in chunk.indices:
            self._losses[i] += 1
            if self._losses[i] >= self.max_losses:
                why = (f"the run was lost with its Ray sandbox worker {self._losses[i]} times "
                       f"(the program may be what kills it): {reason}")
                final.append(self._record(i, ExecutionResult(status=Status.SANDBOX_ERROR, reason=why)))
            else:
                retry.append(Chunk((i,), retry=True))
        self._queue.extendleft(reversed(retry))
        return final

    def results(self) -> list[ExecutionResult]:
        """Every result, in input order; only once :attr:`finished`."""
        if not self.finished:
            raise SandboxError(f"{self._open} runs of the batch have no result yet")
        return [r for r in self._results if r is not None]

    def _record(self, index: int, result: ExecutionResult) -> tuple[int, ExecutionResult]:
        if self._results[index] is None:
            self._open -= 1
        self._results[index] = result
        return index, result
