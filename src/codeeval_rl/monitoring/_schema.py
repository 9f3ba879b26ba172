"""The run store's tables (SQLAlchemy Core; portable to SQLite and PostgreSQL).

::

    runs      id, kind (train|eval), name, config (JSON text), status (running|finished|failed),
              started_at, finished_at, updated_at  (Unix seconds)
    rollouts  id, run_id, step, task_id, language, category, tier, completion, reward,
              components (JSON text: name -> value), status, passed, first_error, turn, sample_index
    metrics   id, run_id, step, name, value, logged_at
    store_meta key, value  (schema_version)

Floats that are NaN or infinite are stored as NULL (PostgreSQL and JSON reject them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Tables", "tables"]


@dataclass(frozen=True)
class Tables:
    metadata: Any
    runs: Any
    rollouts: Any
    metrics: Any
    meta: Any

    @property
    def all(self) -> tuple[Any, ...]:
        return (self.runs, self.rollouts, self.metrics, self.meta)


@lru_cache(maxsize=1)
def tables() -> Tables:
    """Build the table objects once (SQLAlchemy is imported on first use)."""
    from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

    md = MetaData()
    runs = Table(
        "runs", md,
        Column("id", String(32), primary_key=True),
        Column("kind", String(16), nullable=False),
        Column("name", String(200), nullable=False),
        Column("config", Text, nullable=False, default="{}"),
        Column("status", String(16), nullable=False),
        Column("started_at", Float, nullable=False),
        Column("finished_at", Float, nullable=True),
        Column("updated_at", Float, nullable=False),
    )
    rollouts = Table(
        "rollouts", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
        Column("step", Integer, nullable=False, default=0),
        Column("task_id", String(300), nullable=False),
        Column("language", String(32), nullable=False, default=""),
        Column("category", String(100), nullable=False, default=""),
        Column("tier", String(32), nullable=False, default=""),
        Column("completion", Text, nullable=False, default=""),
        Column("reward", Float, nullable=True),
        Column("components", Text, nullable=False, default="{}"),
        Column("status", String(32), nullable=False, default=""),
        Column("passed", Boolean, nullable=False, default=False),
        Column("first_error", Text, nullable=False, default=""),
        Column("turn", Integer, nullable=False, default=0),
        Column("sample_index", Integer, nullable=False, default=0),
        Index("ix_rollouts_run_step", "run_id", "step"),
    )
    metrics = Table(
        "metrics", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
        Column("step", Integer, nullable=False),
        Column("name", String(200), nullable=False),
        Column("value", Float, nullable=True),
        Column("logged_at", Float, nullable=False),
        Index("ix_metrics_run_name", "run_id", "name", "step"),
    )
    meta = Table(
        "store_meta", md,
        Column("key", String(64), primary_key=True),
        Column("value", String(200), nullable=False),
    )
    return Tables(metadata=md, runs=runs, rollouts=rollouts, metrics=metrics, meta=meta)
