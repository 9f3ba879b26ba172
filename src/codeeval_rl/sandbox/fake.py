"""A scripted stand-in for :class:`~codeeval_rl.sandbox.Sandbox`, for unit tests of the layers
above it (evaluation, training) that must not need real isolation.

It never runs anything: ``responder(program, limits)`` decides each result. The default
responder answers OK with empty output. It keeps every call in ``calls``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from codeeval_rl.types import ExecutionResult, Limits, Program, Status

__all__ = ["FakeSandbox"]

Responder = Callable[[Program, Limits], ExecutionResult]


class FakeSandbox:
    """Same surface as ``Sandbox`` (``run``, ``run_many``, context manager, ``close``)."""

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder: Responder = responder or (lambda p, l: ExecutionResult(status=Status.OK, exit_code=0))
        self.calls: list[tuple[Program, Limits]] = []

    def default_limits(self) -> Limits:
        return Limits()

    def run(self, program: Program, limits: Limits | None = None) -> ExecutionResult:
        limits = limits or Limits()
        self.calls.append((program, limits))
        return self.responder(program, limits)

    def run_many(self, programs: Sequence[Program] | Iterable[Program], limits: Limits | None = None,
                 on_result: Callable[[int, ExecutionResult], None] | None = None) -> list[ExecutionResult]:
        out = []
        for i, p in enumerate(programs):
            r = self.run(p, limits)
            if on_result:
                on_result(i, r)
            out.append(r)
        return out

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
