"""``/metrics``: Prometheus text from a registry of the server's own (so two servers in one
process, as in tests, never share counters).

* ``codeeval_requests_total{route,method,status}`` and ``codeeval_request_seconds{route}``:
  every request, refused ones included (``route`` is the template, ``other`` for unknown paths);
* ``codeeval_sandbox_queue``: single runs waiting for a sandbox worker; ``codeeval_sandbox_running``:
  sandbox calls (single runs and batches) queued or running;
* ``codeeval_runs_total{status}``: programs run, by our status;
* ``codeeval_jobs{state}`` and ``codeeval_audit_pending``: read when scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["Metrics"]

_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The server's counters; ``jobs`` and ``audit_pending`` are read at scrape time."""

    def __init__(self, jobs: Callable[[], Mapping[str, int]], audit_pending: Callable[[], int],
                 queued: Callable[[], int]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("codeeval_requests_total", "HTTP requests, refused ones included",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("codeeval_request_seconds", "Time to answer a request", ["route"],
                                 buckets=_BUCKETS, registry=self.registry)
        queue = Gauge("codeeval_sandbox_queue", "Runs waiting for a sandbox worker", registry=self.registry)
        queue.set_function(lambda: float(queued()))
        self.running = Gauge("codeeval_sandbox_running", "Sandbox calls queued or running", registry=self.registry)
        self.runs = Counter("codeeval_runs_total", "Programs run, by status", ["status"], registry=self.registry)
        job_gauge = Gauge("codeeval_jobs", "Evaluation jobs by state", ["state"], registry=self.registry)
        pending = Gauge("codeeval_audit_pending", "Audit records not yet written", registry=self.registry)
        pending.set_function(lambda: float(audit_pending()))
        self._jobs = jobs
        self._job_gauge = job_gauge

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        try:
            counts = self._jobs()
        except Exception:  # noqa: BLE001 - a store fault must not break the scrape
            counts = {}
        for state in ("queued", "running", "done", "failed"):
            self._job_gauge.labels(state).set(counts.get(state, 0))
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
