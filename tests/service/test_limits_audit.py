"""Per-key limits (rate, requests in flight, body size, caps) and the audit log that records
every request, refused ones included."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from typer.testing import CliRunner

from codeeval_rl.service.keys import create_key


def _wait_for_key(http, key):
    deadline = time.time() + 5
    while http.get("/v1/ping", headers={"X-API-Key": key}).status_code != 200 or \
            http.get("/v1/datasets", headers={"X-API-Key": key}).status_code == 401:
        assert time.time() < deadline, "the server did not pick up the new key"
        time.sleep(0.2)


def test_a_keys_rate_is_enforced_with_retry_after(live, http):
    key, _ = create_key(live.keys_file, "slow-client", "evaluator", rate=2)
    _wait_for_key(http, key)
    time.sleep(1.1)  # the bucket refills to its burst (2)
    codes = [http.get("/v1/datasets", headers={"X-API-Key": key}) for _ in range(5)]
    assert [r.status_code for r in codes[:2]] == [200, 200]
    refused = [r for r in codes if r.status_code == 429]
    assert len(refused) >= 2
    assert refused[0].json()["error"] == "rate_limited" and "2 requests per second" in refused[0].json()["message"]
    assert int(refused[0].headers["retry-after"]) >= 1
    time.sleep(1.1)
    assert http.get("/v1/datasets", headers={"X-API-Key": key}).status_code == 200


async def _concurrent(url, key, n, code):
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=n)) as client:
        async def one(i):
            return await client.post("/run_code", headers={"X-API-Key": key},
                                     json={"code": code.format(i=i), "language": "python"})
        return await asyncio.gather(*(one(i) for i in range(n)))


def test_requests_in_flight_beyond_a_keys_limit_get_429(live, http):
    key, _ = create_key(live.keys_file, "narrow-client", "evaluator", max_concurrent=2)
    _wait_for_key(http, key)
    replies = asyncio.run(_concurrent(live.url, key, 6, "import time; time.sleep(0.6); print({i})"))
    codes = sorted(r.status_code for r in replies)
    assert codes.count(200) >= 2 and codes.count(429) >= 1 and set(codes) <= {200, 429}
    refused = next(r for r in replies if r.status_code == 429)
    assert refused.headers["retry-after"] == "1" and "in flight" in refused.json()["message"]


def test_the_defaults_let_64_concurrent_clients_of_one_key_through(live):
    replies = asyncio.run(_concurrent(live.url, live.keys["evaluator"], 64, "print({i})"))
    assert [r.status_code for r in replies] == [200] * 64
    assert sorted(r.json()["run_result"]["stdout"] for r in replies) == sorted(f"{i}\n" for i in range(64))


def test_a_body_over_the_limit_is_413_declared_or_streamed(live, http):
    big = {"code": "#" + "x" * (80 * 1024), "language": "python"}  # the fixture's limit is 64 KiB
    r = http.post("/run_code", headers=live.headers(), json=big)
    assert r.status_code == 413 and "65536" in r.json()["message"]

    def chunks():
        yield b'{"code": "#'
        for _ in range(100):
            yield b"x" * 1024
        yield b'", "language": "python"}'

    r = http.post("/v1/run", headers={**live.headers(), "Content-Type": "application/json"}, content=chunks())
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    ok = http.post("/run_code", headers=live.headers(), json={"code": "print(1)", "language": "python"})
    assert ok.status_code == 200


def test_every_request_refused_or_not_is_audited_and_admins_read_it(live, http):
    since = time.time()
    http.get("/v1/jobs")  # 401, no key
    http.get("/v1/audit", headers=live.headers("evaluator"))  # 403
    http.post("/v1/run", headers=live.headers("evaluator"), json={"program": {"language": "python", "source": "print(3)"}})
    http.post("/v1/run", headers=live.headers("evaluator"), json={"program": {}})  # 422
    r = http.get("/v1/audit", params={"since": since, "limit": 100}, headers=live.headers())
    rows = r.json()["records"]
    seen = {(row["key_name"], row["route"], row["status"]) for row in rows}
    assert {(None, "/v1/jobs", 401), ("evaluator", "/v1/audit", 403), ("evaluator", "/v1/run", 200),
            ("evaluator", "/v1/run", 422)} <= seen
    run = next(row for row in rows if row["route"] == "/v1/run" and row["status"] == 200)
    assert run["bytes_in"] > 20 and run["bytes_out"] > 100 and run["duration_ms"] > 0 and run["client"] == "127.0.0.1"
    assert "print(3)" not in json.dumps(rows)  # never the code
    only = http.get("/v1/audit", params={"key": "evaluator", "status": 403, "since": since},
                    headers=live.headers()).json()["records"]
    assert only and all(x["key_name"] == "evaluator" and x["status"] == 403 for x in only)
    bad = http.get("/v1/audit", params={"limit": 0}, headers=live.headers())
    assert bad.status_code == 422 and "limit" in bad.json()["message"]


def test_the_audit_command_reads_the_log_from_the_store(live, http, tmp_path):
    from codeeval_rl.cli import app

    http.get("/v1/datasets", headers=live.headers("reader"))
    live.service.audit.flush()
    out = CliRunner().invoke(app, ["audit", "--store", live.store, "--key", "reader", "--json", "--limit", "3"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows and all(r["key_name"] == "reader" for r in rows) and len(rows) <= 3
    text = CliRunner().invoke(app, ["audit", "--store", live.store, "--limit", "2"])
    assert text.exit_code == 0 and "/v1/" in text.stdout
    missing = CliRunner().invoke(app, ["audit", "--store", str(tmp_path / "none.db")])
    assert missing.exit_code != 0 and "none.db" in str(missing.exception or missing.output)
