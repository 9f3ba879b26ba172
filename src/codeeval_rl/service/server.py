"""Run the service on uvicorn: uvloop and httptools when installed, no access log of
uvicorn's (its lines would carry ``/k/KEY`` paths; the gate logs requests without the key
when asked), structured JSON logs, and a graceful stop on SIGTERM or Ctrl-C: the listener
closes, requests in flight finish (up to ``graceful_s``), the job runner ends its chunk,
every audit record is written, and accepted jobs stay in the store for the next start.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from codeeval_rl.service.settings import ServiceSettings

__all__ = ["JsonFormatter", "configure_logging", "serve"]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        out: dict[str, object] = {"time": round(record.created, 3), "level": record.levelname.lower(),
                                  "logger": record.name}
        try:
            parsed = json.loads(msg) if msg.startswith("{") else None
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            out.update(parsed)
        else:
            out["message"] = msg
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("codeeval_rl.service", "uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level)
        lg.propagate = False


def _best(module: str, fallback: str) -> str:
    try:
        __import__(module)
    except ImportError:
        return fallback
    return module


def serve(settings: ServiceSettings, *, graceful_s: int = 30) -> None:
    """Serve until stopped (see the module docstring)."""
    import uvicorn

    from codeeval_rl.service.app import create_app

    configure_logging()
    app = create_app(settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, access_log=False, log_config=None,
                            loop=_best("uvloop", "asyncio"),
                            http=_best("httptools", "h11"),
                            timeout_graceful_shutdown=graceful_s, backlog=2048)
    server = uvicorn.Server(config)
    started = time.time()
    logging.getLogger("codeeval_rl.service").info(json.dumps(
        {"event": "listening", "url": f"http://{settings.host}:{settings.port}", "loop": config.loop,
         "http": config.http}))
    server.run()
    logging.getLogger("codeeval_rl.service").info(json.dumps({"event": "exit", "uptime_s": round(time.time() - started, 1)}))
