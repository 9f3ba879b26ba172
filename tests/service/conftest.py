"""A live server for the service tests: uvicorn on a free loopback port in a thread of the test
process, over the session's shared sandbox, with keys of each role and a SQLite store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    url: str
    keys: dict[str, str]
    keys_file: Path
    store: str
    app: Any
    server: Any = None
    thread: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def service(self) -> Any:
        return self.app.svc

    def headers(self, who: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


def start_live(tmp: Path, sandbox: Any, **settings: Any) -> Live:
    import uvicorn

    from codeeval_rl.service.app import create_app
    from codeeval_rl.service.keys import create_key
    from codeeval_rl.service.settings import ServiceSettings

    keys_file = tmp / "keys.json"
    keys = {}
    for role in ("admin", "evaluator", "reader"):
        keys[role], _ = create_key(keys_file, role, role)
    store = settings.pop("store", str(tmp / "store.db"))
    cfg = ServiceSettings(keys_file=str(keys_file), store=store, **settings)
    app = create_app(cfg, sandbox=sandbox)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return Live(f"http://127.0.0.1:{port}", keys, keys_file, store, app, server, thread)


def stop_live(live: Live) -> None:
    live.server.should_exit = True
    live.thread.join(30)


@pytest.fixture(scope="module")
def live(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A server with small caps (2 s per run, 256 MiB) so tests of the caps stay quick."""
    srv = start_live(tmp_path_factory.mktemp("service"), sandbox, max_wall_time_s=2.0, max_memory_mb=256,
                     max_programs=16, max_body_bytes=64 * 1024, max_upload_bytes=4 << 20, job_chunk=8)
    yield srv
    stop_live(srv)


@pytest.fixture()
def http(live: Live) -> Iterator[Any]:
    import httpx

    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client
