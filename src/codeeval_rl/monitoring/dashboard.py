"""A live dashboard for running trainings: the report page, refreshed, on localhost.

Standard library only (``http.server``): no extra to install. Binds ``127.0.0.1`` by
default; there is no authentication, so do not bind a public interface. Every request
reads the store afresh (SQLite WAL: never blocks the trainer that writes it)::

    /                        the runs in the store, newest first (refreshes itself)
    /run/<ref>               the report of one run (id, id prefix or name), refreshing every few seconds
    /run/<ref>/body          the report's content alone (what the page polls)
    /api/runs                the runs as JSON
    /api/runs/<ref>          one run's summary as JSON (overall, by category/language/tier, last metrics)
    /healthz                 "ok"
"""

from __future__ import annotations

import json
import math
import threading
import time
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import quote, unquote, urlsplit

from codeeval_rl.errors import ConfigError, StoreError
from codeeval_rl.monitoring import analysis
from codeeval_rl.monitoring.report import _CSS, _LIVE_JS, load_report_data, render_body, render_report
from codeeval_rl.monitoring.store import RunStore
from codeeval_rl.monitoring.tracker import RunStatus

__all__ = ["DashboardServer", "run_summary"]

_STATUS_CLASS = {RunStatus.RUNNING: "st-run", RunStatus.FINISHED: "st-ok", RunStatus.FAILED: "st-bad"}
"""The CSS class of each run status in the run list."""


def run_summary(store: RunStore, ref: str) -> dict[str, Any]:
    """One run's numbers as JSON-ready data (NaN becomes ``None``)."""
    data = load_report_data(store, ref)
    recs = list(data.rollouts)
    last = {name: _clean(series[-1][1]) for name, series in data.metrics.items() if series}
    return {
        "run": data.run.to_dict(),
        "note": data.run.note(),
        "overall": analysis.summarize(recs).to_dict(),
        "by": {f: [g.to_dict() for g in analysis.group_stats(recs, f)] for f in ("category", "language", "tier")},
        "last_metrics": last,
    }


def _clean(v: float) -> float | None:
    return v if math.isfinite(v) else None


class DashboardServer:
    """Serve the dashboard of the store at ``target`` (path, directory or URL).

    ``port=0`` picks a free port (see :attr:`url`). :meth:`start` serves from a daemon
    thread; :meth:`serve_forever` blocks. The store must exist: the dashboard never
    creates one (start it after the trainer has started, or point it at an existing store).
    """

    def __init__(self, target: Any, host: str = "127.0.0.1", port: int = 8765, refresh_s: float = 5.0) -> None:
        if refresh_s <= 0:
            raise ConfigError(f"refresh_s ({refresh_s}) must be > 0")
        self.store = target if isinstance(target, RunStore) else RunStore(target, create=False)
        self.refresh_s = refresh_s
        handler = type("Handler", (_Handler,), {"dashboard": self})
        try:
            self.httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise StoreError(f"cannot serve the dashboard on {host}:{port}: {exc.strerror}") from None
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host}:{port}/"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="codeeval-dashboard", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever()
        finally:
            self.httpd.server_close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- pages
    def index_body(self) -> str:
        runs = list(reversed(self.store.list_runs()))
        if not runs:
            return ('<header><h1>CodeEval RL dashboard</h1></header><p class="empty-run">'
                    f"No runs in {escape(self.store.location)} yet. This page refreshes itself.</p>")
        rows = []
        for r in runs:
            cls = _STATUS_CLASS.get(r.status, "")
            rows.append(
                f'<tr><td><a href="/run/{quote(r.id)}">{escape(r.name)}</a></td><td><code>{escape(r.id)}</code></td>'
                f'<td>{escape(r.kind)}</td><td><span class="status {cls}">{escape(r.status)}</span></td>'
                f"<td>{r.n_rollouts}</td><td>{'' if r.last_step is None else r.last_step}</td>"
                f"<td>{time.strftime('%Y-%m-%d %H:%M', time.localtime(r.started_at))}</td></tr>")
        return ('<header><h1>CodeEval RL dashboard</h1><div class="meta">'
                f"{escape(self.store.location)} · {len(runs)} runs</div></header>"
                '<section><table class="patterns"><thead><tr><th>run</th><th>id</th><th>kind</th>'
                "<th>status</th><th>rollouts</th><th>last step</th><th>started</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table></section>")

    def index_page(self) -> str:
        return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
                f"<title>CodeEval RL dashboard</title><style>{_CSS}</style></head><body>"
                f'<div id="live">live</div><main><div id="report" data-src="/index/body" '
                f'data-refresh="{self.refresh_s:g}">{self.index_body()}</div></main>'
                f"<script>{_LIVE_JS}</script></body></html>")


class _Handler(BaseHTTPRequestHandler):
    dashboard: DashboardServer
    server_version = "codeeval-rl-dashboard"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: a browser polls every few seconds
        pass

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path).rstrip("/") or "/"
        d = self.dashboard
        try:
            if path == "/":
                self._send(200, d.index_page())
            elif path == "/index/body":
                self._send(200, d.index_body())
            elif path == "/healthz":
                self._send(200, "ok", "text/plain")
            elif path == "/api/runs":
                self._send(200, json.dumps([r.to_dict() for r in reversed(d.store.list_runs())]),
                           "application/json")
            elif path.startswith("/api/runs/"):
                self._send(200, json.dumps(run_summary(d.store, path[len("/api/runs/"):])), "application/json")
            elif path.startswith("/run/") and path.endswith("/body"):
                ref = path[len("/run/"):-len("/body")]
                self._send(200, render_body(load_report_data(d.store, ref)))
            elif path.startswith("/run/"):
                data = load_report_data(d.store, path[len("/run/"):])
                self._send(200, render_report(data, live_src=f"/run/{quote(data.run.id)}/body",
                                              refresh_s=d.refresh_s))
            else:
                self._send(404, _error_page("not found", f"no page {path}"))
        except StoreError as exc:
            code = 404 if "no run" in str(exc) or "ambiguous" in str(exc) else 503
            if path.startswith("/api/"):
                self._send(code, json.dumps({"error": str(exc)}), "application/json")
            else:
                self._send(code, _error_page("run store", str(exc)))

    def _send(self, code: int, body: str, ctype: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away mid-refresh


def _error_page(title: str, message: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main><h1>{escape(title)}</h1>"
            f'<div class="note">{escape(message)}</div><p><a href="/">all runs</a></p></main></body></html>')
