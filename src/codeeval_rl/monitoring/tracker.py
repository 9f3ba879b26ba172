"""The tracking boundary: what trainers and evaluators tell the run store.

:class:`Tracker` is the small protocol every sink implements (the SQL run store, TensorBoard,
MLflow, W&B, the fake); :class:`RolloutRecord` is one scored sample as it reaches the logs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["NullTracker", "RecordingTracker", "RolloutRecord", "RunStatus", "Tracker"]


class RunStatus(str, enum.Enum):
    """Where a run stands. A run starts ``running`` and a tracker's ``finish_run`` ends it
    ``finished`` (it did its job) or ``failed`` (it raised or was interrupted). The values are
    the strings run stores hold, so a member compares equal to its string and stores written
    before this enum read back unchanged."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"

    def __str__(self) -> str:  # "finished", not "RunStatus.FINISHED", in tables and JSON
        return self.value


@dataclass(frozen=True)
class RolloutRecord:
    """One scored completion: what it was for, what it earned and what went wrong first."""

    task_id: str
    completion: str
    reward: float
    status: str
    passed: bool
    step: int = 0
    sample_index: int = 0
    language: str = ""
    category: str = ""
    tier: str = ""
    components: Mapping[str, float] = field(default_factory=dict)
    first_error: str = ""
    turn: int = 0


@runtime_checkable
class Tracker(Protocol):
    """Where runs go. ``start_run`` returns the run id the other calls take."""

    def start_run(self, kind: str, name: str, config: Mapping[str, Any]) -> str: ...

    def log_rollouts(self, run_id: str, records: Sequence[RolloutRecord]) -> None: ...

    def log_metrics(self, run_id: str, step: int, values: Mapping[str, float]) -> None: ...

    def finish_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> None: ...


class NullTracker:
    """Records nothing."""

    def start_run(self, kind: str, name: str, config: Mapping[str, Any]) -> str:
        return "null"

    def log_rollouts(self, run_id: str, records: Sequence[RolloutRecord]) -> None:
        pass

    def log_metrics(self, run_id: str, step: int, values: Mapping[str, float]) -> None:
        pass

    def finish_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> None:
        pass


class RecordingTracker:
    """Keeps everything in memory: the fake for unit tests of trainers and evaluators."""

    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}

    def start_run(self, kind: str, name: str, config: Mapping[str, Any]) -> str:
        run_id = f"run-{len(self.runs) + 1}"
        self.runs[run_id] = {"kind": kind, "name": name, "config": dict(config),
                             "rollouts": [], "metrics": [], "status": RunStatus.RUNNING}
        return run_id

    def log_rollouts(self, run_id: str, records: Sequence[RolloutRecord]) -> None:
        self.runs[run_id]["rollouts"].extend(records)

    def log_metrics(self, run_id: str, step: int, values: Mapping[str, float]) -> None:
        self.runs[run_id]["metrics"].append((step, dict(values)))

    def finish_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> None:
        self.runs[run_id]["status"] = RunStatus(status)
