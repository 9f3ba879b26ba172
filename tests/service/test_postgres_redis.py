"""The service on the real PostgreSQL (jobs, audit, the run store) and Redis (rate limits shared
by several server processes) of these machines and CI; and /metrics."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import httpx
import pytest

from codeeval_rl.data import load_dataset
from codeeval_rl.service.limits import RedisRateLimiter
from codeeval_rl.service.store import AuditRecord, ServiceStore

from .conftest import start_live, stop_live

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


needs_pg = pytest.mark.skipif(not _reachable(5432), reason="no PostgreSQL server at 127.0.0.1:5432 (CI has one)")
needs_redis = pytest.mark.skipif(not _reachable(6379), reason="no Redis server at 127.0.0.1:6379 (CI has one)")


@pytest.fixture(scope="module")
def pg_url():
    """A schema of its own in the `test` database, dropped afterwards."""
    if not _reachable(5432):
        pytest.skip("no PostgreSQL server at 127.0.0.1:5432 (CI has one)")
    from sqlalchemy import create_engine, text

    schema = f"svc_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{PG}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="module")
def team(sandbox, tmp_path_factory, pg_url):
    if not _reachable(6379):
        pytest.skip("no Redis server at 127.0.0.1:6379 (CI has one)")
    srv = start_live(tmp_path_factory.mktemp("team"), sandbox, store=pg_url, redis=REDIS, job_chunk=4)
    yield srv
    stop_live(srv)


@needs_pg
def test_jobs_and_audit_rows_are_committed_once_in_postgresql(pg_url):
    store = ServiceStore(pg_url)
    job = uuid.uuid4().hex[:16]
    store.begin_job(job, "k", dataset="d", tasks=[{"id": "x"}], ks=[1, 10])
    store.add_samples(job, 0, [{"task_id": "t", "completion": "é" * 3, "i": i} for i in range(6)])
    store.accept_job(job, 6)
    assert store.record_results(job, [(0, {"v": 1}), (1, {"v": 1})]) == 2
    assert store.record_results(job, [(1, {"v": 2}), (5, {"v": 1})]) == 1
    info = store.get_job(job)
    assert (info.state, info.done, info.total, info.ks) == ("queued", 3, 6, (1, 10))
    assert [i for i, _ in store.pending_samples(job, 10)] == [2, 3, 4]
    assert store.job_tasks(job) == [{"id": "x"}]
    now = time.time()
    store.append_audit([AuditRecord(now, "k", "POST", "/v1/run", 200, 10, 20, 1.5, job, "127.0.0.1")])
    assert store.audit(key_name="k", since=now - 1)[0].job_id == job
    run = store.runs.start_run("eval", "pg", {})  # the run store shares the database
    assert store.runs.get_run(run).name == "pg"
    store.close()


def test_a_server_on_postgresql_and_redis_runs_jobs_and_keeps_its_audit(team):
    tasks = load_dataset("library:python:easy")[:2]
    samples = [{"task_id": t.id, "completion": f"```python\n{t.reference_solution}\n```"} for t in tasks]
    h = team.headers("evaluator")
    with httpx.Client(base_url=team.url, timeout=60) as http:
        r = http.post("/v1/evaluate", headers=h, json={"dataset": "library:python:easy", "samples": samples, "k": [1]})
        assert r.status_code == 202, r.text
        deadline = time.time() + 120
        while (job := http.get(f"/v1/jobs/{r.json()['id']}", headers=h).json())["state"] not in ("done", "failed"):
            assert time.time() < deadline
            time.sleep(0.2)
        assert job["state"] == "done" and [s["passed"] for s in job["result"]["samples"]] == [True, True]
        audit = http.get("/v1/audit", params={"route": "/v1/evaluate"}, headers=team.headers()).json()["records"]
        assert [a["status"] for a in audit] == [202] and audit[0]["job_id"] == job["id"]
        assert http.get("/v1/health").json()["checks"]["rate_limiter"] == "ok"


@needs_redis
def test_two_server_processes_share_one_redis_budget_per_key():
    prefix = f"test:{uuid.uuid4().hex}:"

    async def go():
        a, b = RedisRateLimiter(REDIS, prefix=prefix), RedisRateLimiter(REDIS, prefix=prefix)
        try:
            waits = [await (a if i % 2 else b).wait_time("alice", rate=4, burst=4) for i in range(6)]
            other = await a.wait_time("bob", rate=4, burst=4)
            await asyncio.sleep(0.3)  # a token refills at 4 per second
            again = await b.wait_time("alice", rate=4, burst=4)
            return waits, other, again
        finally:
            await a.close()
            await b.close()

    waits, other, again = asyncio.run(go())
    assert waits[:4] == [0.0] * 4 and all(w > 0 for w in waits[4:])
    assert waits[4] <= 0.25 + 1e-6
    assert other == 0.0 and again == 0.0


def test_a_servers_redis_rate_limit_refuses_with_retry_after(team):
    from codeeval_rl.service.keys import create_key

    key, _ = create_key(team.keys_file, f"r{uuid.uuid4().hex[:6]}", "reader", rate=1)
    with httpx.Client(base_url=team.url, timeout=30) as http:
        deadline = time.time() + 5
        while (r := http.get("/v1/datasets", headers={"X-API-Key": key})).status_code == 401:
            assert time.time() < deadline
            time.sleep(0.3)
        replies = [http.get("/v1/datasets", headers={"X-API-Key": key}) for _ in range(3)]
    refused = [x for x in replies if x.status_code == 429]
    assert r.status_code in (200, 429) and len(refused) >= 2
    assert refused[0].headers["retry-after"] == "1" and "1 requests per second" in refused[0].json()["message"]


@needs_redis
def test_an_unreachable_redis_lets_requests_through_and_health_says_so():
    async def go():
        lim = RedisRateLimiter("redis://127.0.0.1:1/0")
        wait = await lim.wait_time("k", 1, 1)
        await lim.close()
        return wait, lim.error

    wait, error = asyncio.run(go())
    assert wait == 0.0 and "127.0.0.1:1" in error


def test_metrics_count_requests_runs_and_the_queue(live, http):
    for _ in range(3):
        http.post("/run_code", headers=live.headers(), json={"code": "print(1)", "language": "python"})
    http.post("/run_code", json={"code": "print(1)", "language": "python"})  # refused, counted too
    r = http.get("/metrics", headers=live.headers())
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    lines = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
             if line and not line.startswith("#")}
    assert lines['codeeval_requests_total{method="POST",route="/run_code",status="200"}'] >= 3
    assert lines['codeeval_requests_total{method="POST",route="/run_code",status="401"}'] >= 1
    assert lines['codeeval_runs_total{status="ok"}'] >= 3
    assert "codeeval_sandbox_queue" in lines and "codeeval_audit_pending" in lines
    assert 'codeeval_request_seconds_bucket{le="0.25",route="/run_code"}' in lines
    assert 'codeeval_jobs{state="done"}' in lines
