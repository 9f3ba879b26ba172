"""What a server is told at start (``codeeval-rl serve``'s options), as one frozen value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from codeeval_rl.config import check_ranges

__all__ = ["ServiceSettings"]


@dataclass(frozen=True)
class ServiceSettings:
    """Server settings. Limits per key (``default_rate``, ``default_max_concurrent``) apply to
    keys created without their own; ``max_wall_time_s`` and ``max_memory_mb`` cap what any
    request may ask for; ``max_body_bytes`` bounds a request body, except a JSONL sample upload
    to ``/v1/evaluate`` (streamed into the store, bounded by ``max_upload_bytes``).

    ``store``: run store path or SQLAlchemy URL (jobs and the audit log live there).
    ``redis``: a Redis URL for rate limits shared by several server processes (``None``: in
    memory). ``workers``: sandbox workers (0: one per core). ``config``: a YAML file with
    ``sandbox:`` and ``evaluation:`` sections. ``datasets``: extra dataset names -> task files
    a job may name (besides ``humaneval`` and ``library``; clients never name paths).
    ``ray``: run the programs on a Ray cluster (``auto`` or ``HOST:PORT``; the config's ``ray:``
    section gives the other settings) instead of this machine's sandbox, whose ``workers`` it
    then ignores.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    keys_file: str | None = None
    policy_file: str | None = None
    store: str = ""
    redis: str | None = None
    workers: int = 0
    config: str | None = None
    datasets: Mapping[str, str] = field(default_factory=dict)
    default_rate: float = 1000.0
    default_burst_s: float = 1.0
    default_max_concurrent: int = 256
    max_body_bytes: int = 16 << 20
    max_upload_bytes: int = 1 << 30
    max_wall_time_s: float = 60.0
    max_memory_mb: int = 4096
    max_programs: int = 512
    max_reward_items: int = 2048
    max_samples: int = 1_000_000
    job_chunk: int = 64
    access_log: bool = False
    ray: str | None = None

    def __post_init__(self) -> None:
        checks = (
            ("port", 0 <= self.port <= 65535),
            ("workers", 0 <= self.workers <= 256),
            ("default_rate", self.default_rate > 0),
            ("default_burst_s", self.default_burst_s > 0),
            ("default_max_concurrent", self.default_max_concurrent >= 1),
            ("max_body_bytes", self.max_body_bytes >= 1024),
            ("max_upload_bytes", self.max_upload_bytes >= 1024),
            ("max_wall_time_s", self.max_wall_time_s > 0),
            ("max_memory_mb", self.max_memory_mb >= 16),
            ("max_programs", self.max_programs >= 1),
            ("max_reward_items", self.max_reward_items >= 1),
            ("max_samples", self.max_samples >= 1),
            ("job_chunk", self.job_chunk >= 1),
        )
        check_ranges("service setting", self, dict(checks))
