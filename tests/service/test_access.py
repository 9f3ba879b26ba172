"""Access control: every route but ping and health refuses without a valid key, the three ways
of sending one work, roles map to scopes, a revoked key stops working, and no key ever lands
in the store or the keys file."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from codeeval_rl.service.app import ROUTE_SCOPES
from codeeval_rl.service.keys import create_key, load_keys, revoke_key

PUBLIC = {"/v1/ping", "/v1/health"}


def _every_operation(live, http):
    schema = http.get("/openapi.json", headers=live.headers()).json()
    ops = [(method.upper(), path) for path, item in schema["paths"].items() for method in item]
    assert {p for _, p in ops} | {"/openapi.json"} == set(ROUTE_SCOPES)  # the gate knows every route
    return ops + [("GET", "/openapi.json")]


def test_every_route_but_ping_and_health_refuses_a_request_without_a_key(live, http):
    ops = _every_operation(live, http)
    assert len(ops) >= 13
    for method, path in ops:
        url = path.replace("{job_id}", "abc")
        r = http.request(method, url, json={})
        if path in PUBLIC:
            assert r.status_code == 200, (method, path)
            continue
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["error"] == "unauthorized" and "API key" in r.json()["message"]
        assert r.headers["www-authenticate"] == "Bearer"
        bad = http.request(method, url, json={}, headers={"Authorization": "Bearer cek_000000000000_" + "0" * 64})
        assert bad.status_code == 401 and "not valid" in bad.json()["message"], (method, path)
    assert http.get("/v1/ping").json() == "pong"
    assert http.get("/no/such/route").status_code == 401  # unknown paths need a key too
    assert http.get("/no/such/route", headers=live.headers()).status_code == 404


def test_a_key_is_accepted_as_bearer_as_x_api_key_and_as_a_path_prefix(live, http):
    body = {"code": "print('hi')", "language": "python"}
    key = live.keys["evaluator"]
    for r in (http.post("/run_code", json=body, headers={"Authorization": f"Bearer {key}"}),
              http.post("/run_code", json=body, headers={"X-API-Key": key}),
              http.post(f"/k/{key}/run_code", json=body)):
        assert r.status_code == 200 and r.json()["run_result"]["stdout"] == "hi\n"
    assert http.get(f"/k/{key}/v1/ping").json() == "pong"
    assert http.post(f"/k/{key[:-1]}0/run_code", json=body).status_code == 401


def test_roles_grant_their_scopes_and_no_more(live, http):
    run = {"code": "print(1)", "language": "python"}
    expect = {
        "reader": {"run": 403, "datasets": 200, "audit": 403, "metrics": 403, "jobs": 200},
        "evaluator": {"run": 200, "datasets": 200, "audit": 403, "metrics": 403, "jobs": 200},
        "admin": {"run": 200, "datasets": 200, "audit": 200, "metrics": 200, "jobs": 200},
    }
    for role, codes in expect.items():
        h = live.headers(role)
        got = {"run": http.post("/run_code", json=run, headers=h).status_code,
               "datasets": http.get("/v1/datasets", headers=h).status_code,
               "audit": http.get("/v1/audit", headers=h).status_code,
               "metrics": http.get("/metrics", headers=h).status_code,
               "jobs": http.get("/v1/jobs", headers=h).status_code}
        assert got == codes, role
    r = http.post("/v1/reward", headers=live.headers("reader"), json={"items": [{"completion": "x"}]})
    assert r.status_code == 403 and "'reward'" in r.json()["message"] and "'reader'" in r.json()["message"]


def test_a_revoked_key_is_refused_by_the_running_server_within_seconds(live, http):
    key, _ = create_key(live.keys_file, "temp-user", "evaluator")
    deadline = time.time() + 5
    while http.get("/v1/datasets", headers={"X-API-Key": key}).status_code != 200:
        assert time.time() < deadline, "a new key was not picked up"
        time.sleep(0.2)
    revoke_key(live.keys_file, "temp-user")
    deadline = time.time() + 5
    while http.get("/v1/datasets", headers={"X-API-Key": key}).status_code != 401:
        assert time.time() < deadline, "a revoked key still works"
        time.sleep(0.2)


def test_no_key_reaches_the_store_the_keys_file_or_the_audit_log(live, http):
    keys = list(live.keys.values())
    for key in keys:
        http.post(f"/k/{key}/run_code", json={"code": "print(2)", "language": "python"})
        http.get(f"/k/{key}/v1/nothing-here")
    live.service.audit.flush()
    store_bytes = Path(live.store).read_bytes()
    for extra in Path(live.store).parent.glob(Path(live.store).name + "-*"):  # the WAL holds recent writes
        store_bytes += extra.read_bytes()
    keys_text = live.keys_file.read_text()
    for key in keys:
        secret = key.rsplit("_", 1)[1]
        assert secret.encode() not in store_bytes and secret not in keys_text
    audit = http.get("/v1/audit", params={"limit": 50}, headers=live.headers()).json()["records"]
    assert not [r for r in audit if "/k/" in r["route"] or "cek_" in r["route"]]
    assert {"/run_code", "/v1/nothing-here"} <= {r["route"] for r in audit}
    assert {r["key_name"] for r in audit} >= {"admin", "evaluator", "reader"}


def test_keys_are_salted_hashes_and_names_are_checked(tmp_path):
    from codeeval_rl.errors import InputError
    from codeeval_rl.service.keys import KeyRing

    path = tmp_path / "k.json"
    k1, r1 = create_key(path, "same-secret-test", "admin")
    with pytest.raises(InputError, match="active key named"):
        create_key(path, "same-secret-test", "admin")
    with pytest.raises(InputError, match="unknown role"):
        create_key(path, "other", "superuser", roles=["admin", "reader"])
    with pytest.raises(InputError, match="key name"):
        create_key(path, "bad name/with slash", "admin")
    k2, r2 = create_key(path, "second", "reader", rate=5, max_concurrent=2)
    assert r1.salt != r2.salt and r1.hash != r2.hash and re.fullmatch(r"cek_[0-9a-f]{12}_[0-9a-f]{64}", k1)
    assert (path.stat().st_mode & 0o777) == 0o600
    ring = KeyRing(path)
    assert ring.lookup(k1).name == "same-secret-test" and ring.lookup(k2).rate == 5
    forged = k1[:-4] + ("0000" if not k1.endswith("0000") else "1111")
    assert ring.lookup(forged) is None and ring.lookup("") is None and ring.lookup(k1 + "0") is None
    revoke_key(path, "same-secret-test")
    assert [r.name for r in load_keys(path) if r.active] == ["second"]
    assert KeyRing(path).lookup(k1) is None
    with pytest.raises(InputError, match="no active key"):
        revoke_key(path, "same-secret-test")
    create_key(path, "same-secret-test", "admin")  # the name is free again after revocation
    assert json.loads(path.read_text())["version"] == 1


def test_keys_cli_prints_the_key_once_and_lists_without_it(tmp_path):
    from typer.testing import CliRunner

    from codeeval_rl.cli import app

    runner = CliRunner()
    path = tmp_path / "keys.json"
    out = runner.invoke(app, ["keys", "create", "ci-bot", "--role", "evaluator", "--keys-file", str(path),
                              "--rate", "50", "--max-concurrent", "4"])
    assert out.exit_code == 0, out.output
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("cek_") and key.rsplit("_", 1)[1] not in path.read_text()
    listed = runner.invoke(app, ["keys", "list", "--keys-file", str(path), "--json"])
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["role"], r["rate"], r["max_concurrent"]) for r in rows] == [("ci-bot", "evaluator", 50.0, 4)]
    assert key not in listed.stdout and "hash" not in rows[0]
    bad = runner.invoke(app, ["keys", "create", "x", "--role", "root", "--keys-file", str(path)])
    assert bad.exit_code != 0
    assert runner.invoke(app, ["keys", "revoke", "ci-bot", "--keys-file", str(path)]).exit_code == 0
    assert json.loads(runner.invoke(app, ["keys", "list", "--keys-file", str(path), "--json"]).stdout) == []
