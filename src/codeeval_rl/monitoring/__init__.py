"""Analysis and monitoring: the run store, error taxonomy, A/B statistics, reports, dashboard.

The tracking protocol is imported eagerly (trainers need it); everything else loads on first
use, so ``from codeeval_rl.monitoring import RunStore`` does not pull in the dashboard or numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from codeeval_rl.monitoring.tracker import NullTracker, RecordingTracker, RolloutRecord, RunStatus, Tracker

if TYPE_CHECKING:
    from codeeval_rl.monitoring.ab import ABResult, PairedTest, compare_runs
    from codeeval_rl.monitoring.analysis import (
        GroupStats,
        group_stats,
        over_time,
        reward_distribution,
        summarize,
    )
    from codeeval_rl.monitoring.dashboard import DashboardServer
    from codeeval_rl.monitoring.report import render_report, write_report
    from codeeval_rl.monitoring.sinks import MLflowSink, MultiTracker, ScalarSink, TensorBoardSink, WandbSink
    from codeeval_rl.monitoring.store import (
        DEFAULT_STORE,
        STORE_FILENAME,
        RunInfo,
        RunStore,
        default_store,
        open_run,
    )
    from codeeval_rl.monitoring.taxonomy import (
        KINDS,
        ErrorClass,
        ErrorPattern,
        classify_error,
        classify_record,
        classify_result,
        error_mix,
        error_patterns,
        failure_text,
    )

_LAZY = {
    "ABResult": "ab",
    "PairedTest": "ab",
    "compare_runs": "ab",
    "GroupStats": "analysis",
    "group_stats": "analysis",
    "over_time": "analysis",
    "reward_distribution": "analysis",
    "summarize": "analysis",
    "DashboardServer": "dashboard",
    "render_report": "report",
    "write_report": "report",
    "MLflowSink": "sinks",
    "MultiTracker": "sinks",
    "ScalarSink": "sinks",
    "TensorBoardSink": "sinks",
    "WandbSink": "sinks",
    "DEFAULT_STORE": "store",
    "STORE_FILENAME": "store",
    "RunInfo": "store",
    "RunStore": "store",
    "default_store": "store",
    "open_run": "store",
    "KINDS": "taxonomy",
    "ErrorClass": "taxonomy",
    "ErrorPattern": "taxonomy",
    "classify_error": "taxonomy",
    "classify_record": "taxonomy",
    "classify_result": "taxonomy",
    "error_mix": "taxonomy",
    "error_patterns": "taxonomy",
    "failure_text": "taxonomy",
}

__all__ = [
    "DEFAULT_STORE",
    "KINDS",
    "STORE_FILENAME",
    "ABResult",
    "DashboardServer",
    "ErrorClass",
    "ErrorPattern",
    "GroupStats",
    "MLflowSink",
    "MultiTracker",
    "NullTracker",
    "PairedTest",
    "RecordingTracker",
    "RolloutRecord",
    "RunInfo",
    "RunStatus",
    "RunStore",
    "ScalarSink",
    "TensorBoardSink",
    "Tracker",
    "WandbSink",
    "classify_error",
    "classify_record",
    "classify_result",
    "compare_runs",
    "default_store",
    "error_mix",
    "error_patterns",
    "failure_text",
    "group_stats",
    "open_run",
    "over_time",
    "render_report",
    "reward_distribution",
    "summarize",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
