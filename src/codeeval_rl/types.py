"""The data model the sandbox and the evaluation engine share: frozen dataclasses, no logic
beyond small derived properties.

How one sample becomes a reward (docs/architecture.md follows it through every layer)::

    Task --policy--> completion (str) --completion_to_code--> submission (Task, code)
         --Evaluator--> Program --Sandbox--> ExecutionResult --judge--> TestResult
         --levels + shaping--> Reward, inside an EvaluationResult

The evaluation engine's result (:class:`~codeeval_rl.evaluation.EvaluationResult`) and the
trainers' own records (``rl.policy.Sample``, ``rl.scoring.Score``, ``rl.loop.Batch``,
``monitoring.RolloutRecord``) live beside the code that makes them.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ExecutionResult",
    "Limits",
    "Program",
    "Reward",
    "Status",
    "Task",
    "TestCase",
    "TestResult",
]


class Status(str, enum.Enum):
    """What happened to one program run. Everything the program does maps to one of these."""

    OK = "ok"
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    SANDBOX_ERROR = "sandbox_error"
    MISSING_DEPENDENCY = "missing_dependency"
    """The program needs a package its runtime profile lacks (``ExecutionResult.missing``
    names them): a fact about the profile, not a fault of the program."""

    def __str__(self) -> str:  # "ok", not "Status.OK", in tables and JSON
        return self.value


@dataclass(frozen=True)
class Program:
    """Source code to run.

    ``files`` are extra files written next to the source in the working directory
    (name -> text); names must be plain relative paths. ``runtime`` names the runtime
    profile whose packages the program may import (``python-datascience``, ``node``...);
    empty means the sandbox's default profile (see :mod:`codeeval_rl.sandbox.profiles`).
    ``fetch_files`` names files (plain relative paths in the working directory) to read back
    after the run into ``ExecutionResult.files``.
    """

    language: str
    source: str
    stdin: str = ""
    files: Mapping[str, str] = field(default_factory=dict)
    runtime: str = ""
    fetch_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    """Hard limits for one run. ``cpu_time_s`` defaults to the wall time when ``None``.
    ``compile_time_s``: the wall-clock and CPU limit of compiling the program (compiled
    languages), ``None`` for the sandbox's ``compile_wall_time_s``; a compile already in the
    cache costs nothing and is never timed out. ``output_bytes`` also bounds the total size
    of the files a run returns (``Program.fetch_files``)."""

    wall_time_s: float = 10.0
    cpu_time_s: float | None = None
    memory_mb: int = 512
    max_processes: int = 64
    output_bytes: int = 1 << 20
    file_size_bytes: int = 16 << 20
    compile_time_s: float | None = None

    @property
    def effective_cpu_time_s(self) -> float:
        return self.cpu_time_s if self.cpu_time_s is not None else self.wall_time_s


@dataclass(frozen=True)
class ExecutionResult:
    """Exactly what happened when a program ran.

    ``stdout``/``stderr`` are decoded as UTF-8 with invalid bytes replaced (U+FFFD);
    ``stdout_truncated``/``stderr_truncated`` say the output limit cut them.
    ``exit_code`` is the process exit status, or ``-signal`` when a signal ended it, or
    ``None`` when it never ran (compile error, sandbox error). ``reason`` explains any
    status other than OK in one line. ``compile_time_s`` is 0 for interpreted languages
    and for compile-cache hits (``cached`` is then True). ``yielded``: the run was still
    going after the sandbox's ``yield_after_s`` and went on at the lowest CPU priority, so
    its times reflect the load beside it. ``missing``: for ``missing_dependency``, the
    packages the program needs and its runtime profile lacks (distribution names:
    ``scikit-learn`` for ``import sklearn``); empty otherwise. ``files``: the files named in
    ``Program.fetch_files`` as the run left them (path -> content); a name that is missing,
    not a regular file inside the working directory (a symbolic link, a directory) or over
    the output limit (``Limits.output_bytes``, for all files together) is absent.
    """

    status: Status
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0
    peak_memory_bytes: int = 0
    reason: str = ""
    stderr_truncated: bool = False
    compile_output: str = ""
    compile_time_s: float = 0.0
    cached: bool = False
    yielded: bool = False
    missing: tuple[str, ...] = ()
    files: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields; ``files`` (base64 content) only when the run returned some."""
        out: dict[str, object] = {
            "status": self.status.value,
            "exit_code": self.exit_code,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "stdout_truncated": self.stdout_truncated,
            "stderr_truncated": self.stderr_truncated,
            "wall_time_s": self.wall_time_s,
            "cpu_time_s": self.cpu_time_s,
            "peak_memory_bytes": self.peak_memory_bytes,
            "reason": self.reason,
            "compile_output": self.compile_output,
            "compile_time_s": self.compile_time_s,
            "cached": self.cached,
            "yielded": self.yielded,
            "missing": list(self.missing),
        }
        if self.files:
            out["files"] = {name: base64.b64encode(data).decode("ascii") for name, data in self.files.items()}
        return out


CompareMode = Literal["exact", "tokens", "float"]


@dataclass(frozen=True)
class TestCase:
    """One test. ``kind="assert"``: ``code`` is run after the solution (function-call
    asserts). ``kind="io"``: ``stdin`` is fed and stdout compared to ``expected_stdout``
    with ``compare``."""

    __test__ = False  # not a pytest class

    kind: Literal["assert", "io"]
    code: str = ""
    stdin: str = ""
    expected_stdout: str = ""
    compare: CompareMode = "exact"
    weight: float = 1.0
    id: str = ""


@dataclass(frozen=True)
class Task:
    """A programming task. ``tests`` hold all tests; ``public_test_ids`` name those shown
    to the model as feedback, the rest are hidden and scored. ``runtime``: the runtime
    profile its programs run in (empty: the one the command or sandbox chose)."""

    id: str
    language: str
    prompt: str
    entry_point: str = ""
    tests: tuple[TestCase, ...] = ()
    public_test_ids: tuple[str, ...] = ()
    reference_solution: str = ""
    tier: str = "medium"
    category: str = ""
    context: str = ""
    provenance: Mapping[str, str] = field(default_factory=dict)
    runtime: str = ""

    @property
    def public_tests(self) -> tuple[TestCase, ...]:
        ids = set(self.public_test_ids)
        return tuple(t for t in self.tests if t.id in ids)

    @property
    def hidden_tests(self) -> tuple[TestCase, ...]:
        ids = set(self.public_test_ids)
        return tuple(t for t in self.tests if t.id not in ids)


@dataclass(frozen=True)
class TestResult:
    """The verdict of one test, with the run behind it and feedback a model can read."""

    __test__ = False

    test_id: str
    passed: bool
    execution: ExecutionResult
    feedback: str = ""


@dataclass(frozen=True)
class Reward:
    """A scalar reward and the named components it was made of (names reach the logs)."""

    total: float
    components: Mapping[str, float] = field(default_factory=dict)
