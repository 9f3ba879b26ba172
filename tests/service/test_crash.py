"""Accepted jobs survive a crash: `kill -9` of `codeeval-rl serve` mid-job, a restart on the same
store, and the job finishes with every sample scored exactly once. Also a graceful stop
(SIGTERM) keeps the job and writes every audit record. Real server processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from codeeval_rl.data import load_dataset
from codeeval_rl.service.keys import create_key
from codeeval_rl.service.store import ServiceStore

from .conftest import free_port

pytestmark = pytest.mark.slow

EXE = str(Path(sys.executable).with_name("codeeval-rl"))


class Server:
    def __init__(self, tmp: Path, key_file: Path, store: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / f"serve-{self.port}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [EXE, "serve", "--port", str(self.port), "--keys-file", str(key_file), "--store", str(store),
             "--workers", "2", "--job-chunk", "4"],
            stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server did not start: {Path(self.log.name).read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Whatever the server left of its process group (its sandbox workers) is ended too."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)
        self.log.close()


def _samples(n_per_task: int) -> list[dict]:
    tasks = load_dataset("library:python:easy")[:3]
    out = []
    for i in range(n_per_task):
        for t in tasks:
            slow = "import time\ntime.sleep(0.15)\n"
            code = t.reference_solution if i % 2 == 0 else "def nothing():\n    pass\n"
            out.append({"task_id": t.id, "completion": f"```python\n{slow}{code}\n```", "n": len(out)})
    return out


def _progress(url: str, key: str, job_id: str) -> dict:
    return httpx.get(f"{url}/v1/jobs/{job_id}", headers={"X-API-Key": key}, timeout=30).json()


def test_kill_9_mid_job_then_restart_scores_every_sample_exactly_once(tmp_path, full_run):
    keys = tmp_path / "keys.json"
    key, _ = create_key(keys, "trainer", "evaluator")
    store = tmp_path / "store.db"
    samples = _samples(16 if full_run else 8)
    first = Server(tmp_path, keys, store)
    try:
        r = httpx.post(first.url + "/v1/evaluate", headers={"X-API-Key": key}, timeout=30,
                       json={"dataset": "library:python:easy", "samples": samples, "k": [1]})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        deadline = time.time() + 120
        while (done := _progress(first.url, key, job_id)["progress"]["done"]) < 8:
            assert time.time() < deadline, "the job made no progress"
            time.sleep(0.05)
        assert done < len(samples), "the job finished before it could be interrupted; make samples slower"
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(30)
    finally:
        first.stop()
    interrupted = ServiceStore(store).get_job(job_id)
    assert interrupted.state == "running" and 8 <= interrupted.done < len(samples)

    second = Server(tmp_path, keys, store)
    try:
        deadline = time.time() + 180
        while (job := _progress(second.url, key, job_id))["state"] not in ("done", "failed"):
            assert time.time() < deadline, f"the job did not finish after the restart: {job}"
            time.sleep(0.2)
    finally:
        second.stop()
    assert job["state"] == "done", job
    assert job["progress"] == {"done": len(samples), "total": len(samples)}
    got = job["result"]["samples"]
    assert [s["n"] for s in got] == list(range(len(samples)))  # each sample once, in order
    assert [s["passed"] for s in got] == [s["n"] // 3 % 2 == 0 for s in samples]
    ss = ServiceStore(store)
    assert ss.sample_counts(job_id) == (len(samples), len(samples))
    assert ss.get_job(job_id).done == len(samples)  # the counter of committed results never double counts
    assert job["result"]["summary"]["num_samples"] == len(samples)


def test_sigterm_is_a_graceful_stop_that_keeps_the_job_and_the_audit(tmp_path):
    keys = tmp_path / "keys.json"
    key, _ = create_key(keys, "trainer", "evaluator")
    store = tmp_path / "store.db"
    server = Server(tmp_path, keys, store)
    try:
        for _ in range(20):
            httpx.get(server.url + "/v1/datasets", headers={"X-API-Key": key}, timeout=30)
        r = httpx.post(server.url + "/v1/evaluate", headers={"X-API-Key": key}, timeout=30,
                       json={"dataset": "library:python:easy", "samples": _samples(8), "k": [1]})
        job_id = r.json()["id"]
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once stopped
    finally:
        server.stop()
    ss = ServiceStore(store)
    job = ss.get_job(job_id)
    assert job is not None and job.state in ("queued", "running", "done")
    assert job.done == ss.sample_counts(job_id)[1]
    routes = [a.route for a in ss.audit(limit=100)]
    assert routes.count("/v1/datasets") == 20 and routes.count("/v1/evaluate") == 1
    log = Path(server.log.name).read_text()
    events = [json.loads(line).get("event") for line in log.splitlines() if line.startswith("{")]
    assert "stopping" in events and "stopped" in events
