"""Analysis and monitoring: the run store, error taxonomy, A/B statistics, reports, dashboard."""

from codeeval_rl.monitoring.store import DEFAULT_STORE, STORE_FILENAME, RunInfo, RunStore
from codeeval_rl.monitoring.tracker import NullTracker, RecordingTracker, RolloutRecord, Tracker

__all__ = [
    "DEFAULT_STORE",
    "STORE_FILENAME",
    "NullTracker",
    "RecordingTracker",
    "RolloutRecord",
    "RunInfo",
    "RunStore",
    "Tracker",
]
