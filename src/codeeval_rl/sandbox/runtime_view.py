"""A view of a sandbox that runs programs in one runtime profile.

``RuntimeView(sandbox, "python-datascience")`` is a sandbox for everything that takes one (the
evaluator, the trainers' scorers): its programs of that profile's language that name no
``runtime`` of their own get it, and everything runs on the shared pool (or any object with
``run_many``, such as the Ray sandbox). Closing a view closes nothing: the pool belongs to
whoever made it. The evaluator applies a task's ``runtime`` (and its settings' ``profile``)
itself; a view serves other code that hands programs to a sandbox and wants one profile for
all of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from codeeval_rl.sandbox.languages import get_language
from codeeval_rl.sandbox.profiles import get_profile
from codeeval_rl.types import ExecutionResult, Limits, Program

__all__ = ["RuntimeView"]


class RuntimeView:
    """``sandbox`` with ``runtime`` as the default profile of its language's programs."""

    def __init__(self, sandbox: Any, runtime: str) -> None:
        self.inner = sandbox
        self.runtime = runtime
        self.language = get_profile(runtime).language  # unknown profile: InputError now

    def _tag(self, program: Program) -> Program:
        if program.runtime or not isinstance(program, Program):
            return program
        try:
            if get_language(program.language).name != self.language:
                return program
        except Exception:  # noqa: BLE001 - an unknown language: the sandbox reports it as usual
            return program
        return dataclasses.replace(program, runtime=self.runtime)

    def run(self, program: Program, limits: Limits | None = None) -> ExecutionResult:
        return self.inner.run(self._tag(program), limits)

    def run_many(self, programs: Sequence[Program] | Iterable[Program], limits: Limits | None = None,
                 on_result: Callable[[int, ExecutionResult], None] | None = None) -> list[ExecutionResult]:
        return self.inner.run_many([self._tag(p) for p in programs], limits, on_result=on_result)

    def __getattr__(self, name: str) -> Any:  # preload, start, capabilities, default_limits...
        return getattr(self.inner, name)

    def close(self) -> None:
        """Nothing: the shared sandbox is closed by its owner."""
