"""Per-key limits: requests per second (a token bucket) and requests in flight.

A key's bucket holds up to ``burst`` tokens (by default one second's worth, at least 1) and
refills at ``rate`` tokens per second; each request takes one, and a request finding none is
refused with the seconds until the next token (``Retry-After``, rounded up). The bucket lives
in this process (:class:`MemoryRateLimiter`), or in Redis (:class:`RedisRateLimiter`) when
several server processes must share one budget per key: one Lua script per request, timed by
Redis's own clock, so the processes' clocks need not agree. If Redis cannot be reached the
request is let through (rate limits protect fairness, not secrecy) and the error is kept in
``error`` for ``/v1/health``.

Requests in flight are counted per process (:class:`InFlight`).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Protocol

__all__ = ["InFlight", "MemoryRateLimiter", "RateLimiter", "RedisRateLimiter", "retry_after_header"]


class RateLimiter(Protocol):
    error: str

    async def wait_time(self, key: str, rate: float, burst: float) -> float:
        """Take a token for ``key``: 0.0 when there was one, else the seconds until there is."""
        ...

    async def close(self) -> None: ...


def retry_after_header(seconds: float) -> str:
    """HTTP's ``Retry-After``: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class MemoryRateLimiter:
    """Token buckets in this process's memory."""

    def __init__(self) -> None:
        self.error = ""
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    async def wait_time(self, key: str, rate: float, burst: float) -> float:
        return self.take(key, rate, burst)

    def take(self, key: str, rate: float, burst: float, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate

    async def close(self) -> None:
        pass


_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisRateLimiter:
    """Token buckets in Redis (``url``: ``redis://host:port/db``), shared by every server
    process that uses the same Redis and ``prefix``."""

    def __init__(self, url: str, *, prefix: str = "codeeval-rl:rate:") -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.prefix = prefix
        self.error = ""
        self._client: Any = aioredis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._script = self._client.register_script(_SCRIPT)

    async def wait_time(self, key: str, rate: float, burst: float) -> float:
        try:
            wait = float(await self._script(keys=[self.prefix + key], args=[repr(float(rate)), repr(float(burst))]))
        except Exception as exc:  # noqa: BLE001 - any Redis fault lets the request through
            self.error = f"redis rate limiter at {self.url}: {exc}"
            return 0.0
        self.error = ""
        return wait

    async def ping(self) -> None:
        """Raise when Redis cannot be reached (checked once at start-up)."""
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()


class InFlight:
    """Counts each key's requests in flight in this process."""

    def __init__(self) -> None:
        self._n: dict[str, int] = {}

    def enter(self, key: str, limit: int) -> bool:
        """Count one more unless ``limit`` are in flight already (then False). Called on the
        event loop thread only, so no lock is needed."""
        n = self._n.get(key, 0)
        if n >= limit:
            return False
        self._n[key] = n + 1
        return True

    def leave(self, key: str) -> None:
        n = self._n.get(key, 1) - 1
        if n:
            self._n[key] = n
        else:
            self._n.pop(key, None)

    def count(self, key: str) -> int:
        return self._n.get(key, 0)
