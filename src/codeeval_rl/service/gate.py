"""The gate every request passes (a plain ASGI middleware, cheaper than a framework one):
key, scope, rate, concurrency and body size, then the audit record and the metrics.

In order:

1. A path ``/k/KEY/rest`` is rewritten to ``/rest`` with KEY taken as the key (for clients
   that can only be given a URL). The key never reaches a log, the audit log or the metrics.
2. The route's scope (``route_scopes``: template -> scope; ``None`` public, ``""`` any valid
   key; an unknown path needs a valid key before it gets its 404).
3. The key, from ``Authorization: Bearer KEY``, ``X-API-Key: KEY`` or the path: none or a
   wrong one is 401, a role without the scope 403.
4. The key's rate (429 with ``Retry-After``) and requests in flight (429, ``Retry-After: 1``).
5. The body: a declared ``Content-Length`` over the route's bound is 413 before anything is
   read; a body that grows past it while read raises :class:`BodyTooLarge` (413 too).
6. After the response: one :class:`~codeeval_rl.service.store.AuditRecord` (queued, written
   in batches), the request counters and latency, and with ``access_log`` a JSON log line.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from codeeval_rl.service.limits import retry_after_header
from codeeval_rl.service.store import AuditRecord

__all__ = ["BodyTooLarge", "Gate", "refusal"]

log = logging.getLogger("codeeval_rl.service")
access = logging.getLogger("codeeval_rl.service.access")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_UPLOAD_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines")


class BodyTooLarge(HTTPException):
    """A request body passed the route's bound while it was read (an HTTP exception, so the
    framework's body parsing passes it on as it is instead of turning it into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than this route's limit of {limit} bytes")
        self.limit = limit

    def __str__(self) -> str:
        return str(self.detail)


def refusal(error: str, message: str) -> bytes:
    return json.dumps({"error": error, "message": message}).encode()


class Gate:
    """Wraps the FastAPI app; ``service`` is the :class:`~codeeval_rl.service.core.Service`,
    ``route_scopes`` maps route templates to the scope they need."""

    def __init__(self, app: Any, service: Any, route_scopes: dict[str, str | None]) -> None:
        self.app = app
        self.svc = service
        self.scopes = route_scopes
        self._routes: list[tuple[re.Pattern[str], str]] = []

    def _compile(self) -> None:
        for template in self.scopes:
            pattern = re.sub(r"\{[^}/]+\}", r"[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
            self._routes.append((re.compile(f"^{pattern}$"), template))

    def route_of(self, path: str) -> tuple[str, str | None]:
        """``(template, scope)`` of a path; ``("other", "")`` for a path no route has."""
        if not self._routes:
            self._compile()
        for rx, template in self._routes:
            if rx.match(path):
                return template, self.scopes[template]
        return "other", ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        at = time.time()
        path = scope["path"]
        path_key = None
        if path.startswith("/k/"):
            path_key, _, tail = path[3:].partition("/")
            path = "/" + tail
            scope = dict(scope, path=path, raw_path=path.encode())
        template, needed = self.route_of(path)
        auth = api_key = ctype = ""
        declared = -1
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value.decode("latin-1")
            elif name == b"x-api-key":
                api_key = value.decode("latin-1")
            elif name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
            elif name == b"content-type":
                ctype = value.decode("latin-1").split(";", 1)[0].strip().lower()
        ctx: dict[str, Any] = {"key": None, "job_id": None}
        scope["codeeval"] = ctx
        state = {"status": 500, "out": 0, "in": 0}
        record = None
        counted = False
        svc = self.svc

        async def counted_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["out"] += len(message.get("body", b""))
            await send(message)

        async def refuse(status: int, error: str, message: str,
                         headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
            body = refusal(error, message)
            await counted_send({"type": "http.response.start", "status": status,
                                "headers": [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(body)).encode()), *headers]})
            await counted_send({"type": "http.response.body", "body": body})

        try:
            if needed is not None:
                token = path_key if path_key is not None else (
                    auth[7:].strip() if auth[:7].lower() == "bearer " else api_key.strip())
                if not token:
                    await refuse(401, "unauthorized", "this route needs an API key: send 'Authorization: Bearer KEY' "
                                 "or 'X-API-Key: KEY', or put /k/KEY in front of the path",
                                 ((b"www-authenticate", b"Bearer"),))
                    return
                record = svc.keys.lookup(token)
                if record is None:
                    await refuse(401, "unauthorized", "the API key is not valid (unknown, revoked or malformed)",
                                 ((b"www-authenticate", b"Bearer"),))
                    return
                ctx["key"] = record
                if needed and not svc.policy.allows(record.role, needed):
                    await refuse(403, "forbidden", f"key {record.name!r} has role {record.role!r}, which does not "
                                 f"grant the scope {needed!r} this route needs")
                    return
                settings = svc.settings
                rate = record.rate or settings.default_rate
                wait = await svc.limiter.wait_time(record.name, rate, max(1.0, rate * settings.default_burst_s))
                if wait > 0:
                    await refuse(429, "rate_limited", f"key {record.name!r} is limited to {rate:g} requests per "
                                 f"second; retry in {wait:.2f} s",
                                 ((b"retry-after", retry_after_header(wait).encode()),))
                    return
                limit = record.max_concurrent or settings.default_max_concurrent
                if not svc.in_flight.enter(record.name, limit):
                    await refuse(429, "too_many_concurrent", f"key {record.name!r} already has {limit} requests "
                                 "in flight, its limit", ((b"retry-after", b"1"),))
                    return
                counted = True
            bound = (svc.settings.max_upload_bytes if template == "/v1/evaluate" and ctype in _UPLOAD_TYPES
                     else svc.settings.max_body_bytes)
            if declared > bound:
                await refuse(413, "body_too_large", f"the request body ({declared} bytes) is larger than this "
                             f"route's limit of {bound} bytes")
                return

            async def counted_receive() -> MutableMapping[str, Any]:
                message = await receive()
                if message["type"] == "http.request":
                    state["in"] += len(message.get("body", b""))
                    if state["in"] > bound:
                        raise BodyTooLarge(bound)
                return message

            await self.app(scope, counted_receive, counted_send)
        finally:
            if counted and record is not None:
                svc.in_flight.leave(record.name)
            elapsed = time.perf_counter() - started
            status = state["status"]
            route = template if template != "other" else path[:200]
            key_name = record.name if record is not None else None
            bytes_in = state["in"] or max(declared, 0)
            svc.audit.record(AuditRecord(at=at, key_name=key_name, method=scope["method"], route=route,
                                         status=status, bytes_in=bytes_in, bytes_out=state["out"],
                                         duration_ms=round(elapsed * 1000, 3), job_id=ctx["job_id"],
                                         client=(scope.get("client") or ("",))[0][:64]))
            svc.metrics.observe(template, scope["method"], status, elapsed)
            if svc.settings.access_log:
                access.info(json.dumps({"event": "request", "method": scope["method"], "route": route,
                                        "status": status, "key": key_name, "ms": round(elapsed * 1000, 2),
                                        "in": bytes_in, "out": state["out"], "job": ctx["job_id"]}))
