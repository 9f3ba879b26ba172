"""/v1/reward gives the in-process rewards; /v1/evaluate jobs give the records `codeeval-rl
evaluate` writes, stream JSONL uploads, show each key only its own jobs, and take turns per key."""

from __future__ import annotations

import json
import time

import pytest

from codeeval_rl.cli.evaluate import evaluate_samples, summarise
from codeeval_rl.data import load_dataset
from codeeval_rl.data.taskfile import task_to_dict
from codeeval_rl.service.jobs import JobRunner
from codeeval_rl.service.store import JobInfo

WRONG = "def reverse_words(s):\n    return s\n"


def _fence(code: str) -> str:
    return f"Here it is:\n```python\n{code}\n```\n"


@pytest.fixture(scope="module")
def library():
    return load_dataset("library:python:easy")


def _samples(tasks):
    out = []
    for t in tasks:
        out.append({"task_id": t.id, "completion": _fence(t.reference_solution)})
        out.append({"task_id": t.id, "completion": _fence("def nope(:\n  pass"), "mine": 7})
    return out


def _wait(http, headers, job_id, timeout=120):
    deadline = time.time() + timeout
    while True:
        job = http.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("done", "failed") or time.time() > deadline:
            return job
        time.sleep(0.2)


def test_reward_matches_the_in_process_trl_reward_and_reports_components(live, http, sandbox, library):
    from codeeval_rl.integrations.trl import reward_function

    task = library[0]
    items = [
        {"completion": _fence(task.reference_solution), "task_id": task.id},
        {"completion": _fence(WRONG), "task_id": task.id},
        {"completion": "def add(a, b):\n    return a + b\n", "tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]},
        {"completion": [{"role": "assistant", "content": "def add(a, b):\n    return a - b\n"}],
         "tests": "assert add(1, 2) == 3"},
    ]
    r = http.post("/v1/reward", headers=live.headers("evaluator"), json={"items": items})
    assert r.status_code == 200, r.text
    got = r.json()["rewards"]
    assert [g["passed"] for g in got] == [True, False, True, False]
    assert [g["num_tests"] for g in got[2:]] == [2, 1]
    assert set(got[0]["components"]) == {"syntax", "execution", "tests", "quality", "efficiency"}
    local = reward_function(tasks=[task], sandbox=sandbox)
    expected = local(prompts=[""] * 4, completions=[i["completion"] for i in items],
                     task_id=[i.get("task_id") for i in items], tests=[i.get("tests") for i in items])
    assert [g["reward"] for g in got] == pytest.approx(expected, abs=0.05)  # efficiency timing varies a little


def test_reward_scores_a_verl_ground_truth_and_names_a_bad_item(live, http):
    gt = {"inputs": ["1 2\n", "5 5\n"], "outputs": ["3\n", "10\n"]}
    good = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    bad = "```python\nprint(3)\n```"
    r = http.post("/v1/reward", headers=live.headers(), json={"items": [
        {"completion": good, "ground_truth": gt}, {"completion": bad, "ground_truth": json.dumps(gt)}]})
    got = r.json()["rewards"]
    assert [(g["passed"], g["num_passed"], g["num_tests"]) for g in got] == [(True, 2, 2), (False, 1, 2)]
    r = http.post("/v1/reward", headers=live.headers(), json={"items": [
        {"completion": "x", "task_id": "HumanEval/0"}, {"completion": "x", "task_id": "no/such/task"}]})
    assert r.status_code == 400 and r.json()["message"].startswith("items[1]:") and "no/such/task" in r.json()["message"]
    r = http.post("/v1/reward", headers=live.headers(), json={"items": [{"completion": "x"}], "tests": "sideways"})
    assert r.status_code == 422 and "tests" in r.json()["message"]


def test_a_json_job_gives_the_records_and_summary_of_codeeval_rl_evaluate(live, http, sandbox, library):
    from codeeval_rl.evaluation import Evaluator

    samples = _samples(library[:3])
    r = http.post("/v1/evaluate", headers=live.headers("evaluator"),
                  json={"dataset": "library:python:easy", "samples": samples, "k": [1, 2]})
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["state"] in ("queued", "running") and accepted["progress"]["total"] == 6
    job = _wait(http, live.headers("evaluator"), accepted["id"])
    assert job["state"] == "done" and job["progress"] == {"done": 6, "total": 6}
    result = job["result"]
    local = evaluate_samples(library, samples, Evaluator(sandbox=sandbox))
    assert [(s["task_id"], s["passed"], s["status"], s["outcome"]) for s in result["samples"]] == \
        [(s["task_id"], s["passed"], s["status"], s["outcome"]) for s in local]
    assert result["samples"][1]["mine"] == 7  # a sample's own keys are kept
    expected = summarise(local, [1, 2])
    assert result["summary"]["pass_at_k"] == expected["pass_at_k"] == {"pass@1": 0.5, "pass@2": 1.0}
    assert result["summary"]["outcomes"] == expected["outcomes"]
    assert result["summary"]["dataset"] == "library:python:easy"
    file = http.get(f"/v1/jobs/{accepted['id']}/result", headers=live.headers("evaluator"))
    assert json.loads(file.text) == result
    assert file.text.startswith('{\n  "summary": {\n')  # indented as the command writes it


def test_a_jsonl_upload_is_streamed_and_bad_lines_are_named(live, http, library):
    samples = _samples(library)
    body = "".join(json.dumps(s) + "\n" for s in samples).encode()

    def chunks():
        for i in range(0, len(body), 97):  # lines split across chunks
            yield body[i:i + 97]

    headers = {**live.headers("evaluator"), "Content-Type": "application/x-ndjson"}
    r = http.post("/v1/evaluate", params={"dataset": "library:python:easy", "k": "1"}, headers=headers, content=chunks())
    assert r.status_code == 202, r.text
    job = _wait(http, live.headers("evaluator"), r.json()["id"])
    assert job["state"] == "done" and job["progress"]["total"] == len(samples)
    assert [s["task_id"] for s in job["result"]["samples"]] == [s["task_id"] for s in samples]
    assert job["result"]["summary"]["pass_at_k"] == {"pass@1": 0.5}
    bad = b'{"task_id": "lib/python/reverse_words", "completion": "x"}\n{"task_id": 3}\n'
    r = http.post("/v1/evaluate", params={"dataset": "library:python:easy"}, headers=headers, content=bad)
    assert r.status_code == 400 and r.json()["message"].startswith("line 2:")
    r = http.post("/v1/evaluate", params={"dataset": "/etc/passwd"}, headers=headers, content=bad)
    assert r.status_code == 400 and "unknown dataset" in r.json()["message"]
    listed = http.get("/v1/jobs", headers=live.headers("evaluator")).json()["jobs"]
    assert all(j["state"] != "receiving" for j in listed)  # refused uploads leave no job behind


def test_a_job_with_its_own_tasks_and_refusals_of_bad_jobs(live, http, library):
    task = task_to_dict(library[1])
    task["id"] = "mine/1"
    r = http.post("/v1/evaluate", headers=live.headers("evaluator"), json={
        "tasks": [task], "samples": [{"task_id": "mine/1", "completion": _fence(library[1].reference_solution)}]})
    assert r.status_code == 202, r.text
    job = _wait(http, live.headers("evaluator"), r.json()["id"])
    assert job["state"] == "done" and job["result"]["samples"][0]["passed"] is True
    for body, status, words in [
        ({"dataset": "humaneval", "samples": [{"task_id": "Nope/1", "completion": "x"}]}, 400, "Nope/1"),
        ({"dataset": "humaneval", "tasks": [task], "samples": [{"task_id": "mine/1", "completion": "x"}]}, 400, "exactly one"),
        ({"dataset": "humaneval", "samples": []}, 422, "samples"),
        ({"dataset": "humaneval", "samples": [{"task_id": "HumanEval/0"}]}, 422, "completion"),
        ({"dataset": "humaneval", "samples": [{"task_id": "HumanEval/0", "completion": "x"}], "k": [0]}, 400, "k"),
        ({"tasks": [{"id": "t"}], "samples": [{"task_id": "t", "completion": "x"}]}, 400, "tasks[0]"),
    ]:
        r = http.post("/v1/evaluate", headers=live.headers("evaluator"), json=body)
        assert r.status_code == status and words in r.json()["message"], (body, r.text)


def test_a_key_sees_only_its_own_jobs(live, http, library):
    r = http.post("/v1/evaluate", headers=live.headers("evaluator"), json={
        "dataset": "library:python:easy", "samples": _samples(library[:1])})
    job_id = r.json()["id"]
    assert http.get(f"/v1/jobs/{job_id}", headers=live.headers("reader")).status_code == 404
    assert http.get(f"/v1/jobs/{job_id}/result", headers=live.headers("reader")).status_code == 404
    assert job_id not in {j["id"] for j in http.get("/v1/jobs", headers=live.headers("reader")).json()["jobs"]}
    assert http.get(f"/v1/jobs/{job_id}", headers=live.headers("admin")).status_code == 200  # jobs:all
    assert job_id in {j["id"] for j in http.get("/v1/jobs", headers=live.headers("evaluator")).json()["jobs"]}
    assert _wait(http, live.headers("evaluator"), job_id)["key_name"] == "evaluator"
    audit = http.get("/v1/audit", params={"route": "/v1/jobs/{job_id}"}, headers=live.headers()).json()["records"]
    assert job_id in {a["job_id"] for a in audit}


def _job(i: str, key: str, created: float) -> JobInfo:
    return JobInfo(id=i, key_name=key, state="queued", dataset="d", ks=(1,), total=10, done=0, created_at=created)


def test_keys_take_turns_and_a_keys_jobs_run_in_order_of_arrival():
    runner = JobRunner(store=None, evaluator=None, catalog=None)
    jobs = [_job("a1", "alice", 1), _job("a2", "alice", 2), _job("a3", "alice", 3), _job("b1", "bob", 4)]
    served = []
    for step in range(4):
        job = runner.pick(jobs)
        served.append(job.id)
        runner._served[job.key_name] = float(step + 1)
    assert served == ["a1", "b1", "a1", "b1"]  # bob's later job does not wait for alice's three
    runner._served.clear()
    assert runner.pick(jobs[1:]).id == "a2"


def test_results_are_committed_once_even_when_replayed(tmp_path):
    from codeeval_rl.service.store import ServiceStore

    store = ServiceStore(tmp_path / "s.db")
    store.begin_job("j1", "k", dataset="d", tasks=None, ks=[1])
    store.add_samples("j1", 0, [{"task_id": "t", "completion": str(i)} for i in range(5)])
    store.accept_job("j1", 5)
    assert store.record_results("j1", [(0, {"r": "first"}), (1, {"r": "first"})]) == 2
    assert store.record_results("j1", [(1, {"r": "again"}), (2, {"r": "first"})]) == 1
    assert [i for i, _ in store.pending_samples("j1", 10)] == [3, 4]
    assert store.get_job("j1").done == 3 == store.sample_counts("j1")[1]
    assert [r["r"] for r in store.results("j1", batch=2)] == ["first"] * 3
