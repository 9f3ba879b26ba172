"""The dashboard's HTTP endpoints (no browser)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from codeeval_rl.errors import StoreError
from codeeval_rl.monitoring import DashboardServer, RunStore

from .synthetic import make_run


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_endpoints(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.db")
    run = make_run(store, name="api-run", steps=2, tasks=6, samples=2)
    empty = store.start_run("eval", "just-started", {})
    with DashboardServer(store, port=0) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert _get(server.url + "healthz") == (200, "ok")
        code, body = _get(server.url + "api/runs")
        assert code == 200 and [r["name"] for r in json.loads(body)] == ["just-started", "api-run"]
        code, body = _get(server.url + f"api/runs/{run[:5]}")
        data = json.loads(body)
        assert code == 200 and data["run"]["id"] == run and data["overall"]["n"] == 24
        assert {g["key"] for g in data["by"]["language"]} <= {"python", "javascript", "java", "cpp", "c", "rust"}
        assert set(data["last_metrics"]) == {"loss", "kl", "reward_mean", "grad_norm"}
        code, body = _get(server.url + "run/api-run")
        assert code == 200 and "<svg" in body and f'data-src="/run/{run}/body"' in body
        code, body = _get(server.url + f"run/{empty}")
        assert code == 200 and "Nothing logged yet" in body and "still running" in body
        code, body = _get(server.url + "run/nope")
        assert code == 404 and "no run &#x27;nope&#x27;" in body and "api-run" in body
        code, body = _get(server.url + "api/runs/nope")
        assert code == 404 and "api-run" in json.loads(body)["error"]
        assert _get(server.url + "elsewhere")[0] == 404


def test_dashboard_never_creates_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        DashboardServer(tmp_path / "missing.db", port=0)
    assert not (tmp_path / "missing.db").exists()
