"""The sandbox on a local 2-CPU Ray cluster: the same verdicts and rewards as on this machine,
results in input order, a worker killed mid-batch losing no result, a program that kills its
worker getting sandbox_error, and the evaluate CLI, the TRL reward and the service on Ray."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys

import pytest

from codeeval_rl.config import EvaluationSettings, RaySettings
from codeeval_rl.errors import InputError
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.sandbox import FakeSandbox
from codeeval_rl.types import ExecutionResult, Limits, Program, Status, Task, TestCase

ray = pytest.importorskip("ray")

OFFLINE = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
TWO_ACTORS = RaySettings(cpus_per_actor=1)  # two actors of one worker each on the 2-CPU cluster

ADD1 = Task(id="add1", language="python", prompt="def add1(x):\n", entry_point="add1",
            tests=(TestCase(kind="assert", code="assert add1(1) == 2", id="t0"),
                   TestCase(kind="assert", code="assert add1(-1) == 0", id="t1")), public_test_ids=("t0",))
DOUBLE = Task(id="double", language="python", prompt="Read n, print 2n.",
              tests=(TestCase(kind="io", stdin="2\n", expected_stdout="4\n", id="a"),
                     TestCase(kind="io", stdin="5\n", expected_stdout="10\n", id="b")))
ECHO_C = Task(id="echo", language="c", prompt="Echo an integer.",
              tests=(TestCase(kind="io", stdin="3\n", expected_stdout="3\n", id="a"),
                     TestCase(kind="io", stdin="-7\n", expected_stdout="-7\n", id="b")))
SUBMISSIONS = [
    (ADD1, "def add1(x):\n    return x + 1\n"),
    (ADD1, "def add1(x):\n    return x\n"),
    (ADD1, "def add1(x):\n    raise ValueError('no')\n"),
    (ADD1, "def add1(x):\n    print(x + 1)\n"),
    (ADD1, "def add1(x)\n    return x + 1\n"),
    (ADD1, "import os\ndef add1(x):\n    os._exit(0)\n"),
    (DOUBLE, "print(int(input()) * 2)\n"),
    (DOUBLE, "print(4)\n"),
    (DOUBLE, "while True:\n    pass\n"),
    (DOUBLE, "x = [0] * (1 << 31)\n"),
    (ECHO_C, "#include <stdio.h>\nint main(void) { int x; scanf(\"%d\", &x); printf(\"%d\\n\", x); return 0; }\n"),
    (ECHO_C, "#include <stdio.h>\nint main(void) { int x; scanf(\"%d\", &x) printf(\"%d\\n\", x); }\n"),
]
SETTINGS = EvaluationSettings(efficiency_weight=0.0, test_timeout=1.0, memory_limit=128)


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster for this module: 2 CPUs, no dashboard, a 100 MB object store,
    offline (no token file, no usage statistics). Yields the head's address."""
    saved = {k: os.environ.get(k) for k in OFFLINE}
    os.environ.update(OFFLINE)
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=100_000_000,
             log_to_driver=False, logging_level=logging.WARNING)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def client_address(cluster):
    """``ray://`` address of a Ray Client server on the module's cluster (the way a service or a
    trainer outside the cluster reaches it), stopped after the test."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "ray.util.client.server", "--address", cluster, "--host",
                             "127.0.0.1", "--port", str(port), "--mode", "legacy"], env={**os.environ, **OFFLINE},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the Ray Client server did not start") from None
                time.sleep(0.2)
        yield f"ray://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ray_sandbox(settings, **kwargs):
    """A RaySandbox on the module's cluster (joined, since this process is connected)."""
    from codeeval_rl.distributed import RaySandbox

    return RaySandbox(cluster=settings, **kwargs)


def verdicts(results):
    return [(r.task_id, r.passed, r.status, r.outcome, r.reward.total, dict(r.reward.components), r.num_passed,
             r.feedback) for r in results]


def test_same_verdicts_and_rewards_on_ray_as_here(cluster, sandbox):
    local = Evaluator(SETTINGS, sandbox=sandbox).evaluate_many(SUBMISSIONS, tests="all")
    with ray_sandbox(TWO_ACTORS) as rs:
        assert rs.size == 2
        remote = Evaluator(SETTINGS, sandbox=rs).evaluate_many(SUBMISSIONS, tests="all")
        assert len(set(rs.actor_pids())) == 2
    assert verdicts(remote) == verdicts(local)
    outcomes = [r.outcome for r in local]
    assert {"passed", "wrong_answer", "runtime_error", "timeout", "memory_limit", "compile_error"} <= set(outcomes)


def test_results_in_input_order_and_bad_items_are_their_own_errors(cluster):
    programs = [Program("python", f"print({i})") for i in range(9)]
    programs[4] = Program("cobol", "DISPLAY 'x'")
    seen = []
    with ray_sandbox(RaySettings(cpus_per_actor=1, chunk_size=2)) as rs:
        results = rs.run_many(programs, Limits(wall_time_s=5), on_result=lambda i, r: seen.append(i))
        with pytest.raises(InputError, match="unknown language 'cobol'"):
            rs.run(Program("cobol", "x"))
        assert rs.run(Program("python", "print('one')")).stdout == "one\n"
    assert sorted(seen) == list(range(9))
    assert [r.stdout.strip() for r in results[:4] + results[5:]] == ["0", "1", "2", "3", "5", "6", "7", "8"]
    assert results[4].status is Status.SANDBOX_ERROR and "cobol" in results[4].reason


def test_a_worker_killed_mid_batch_loses_no_result(cluster):
    programs = [Program("python", f"import time\ntime.sleep(0.2)\nprint({i})") for i in range(12)]
    killed = []

    def kill_one(index, result):
        if not killed:
            pid = rs.actor_pids()[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with ray_sandbox(TWO_ACTORS) as rs:
        results = rs.run_many(programs, Limits(wall_time_s=5), on_result=kill_one)
        assert killed and killed[0] not in rs.actor_pids() and rs.lost_chunks >= 1
        again = rs.run_many(programs[:4], Limits(wall_time_s=5))  # the pool goes on working
    assert [r.status for r in results] == [Status.OK] * 12, [r.reason for r in results]
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(12)]
    assert [r.stdout for r in again] == [f"{i}\n" for i in range(4)]


def fake_box(workers):
    """A stand-in sandbox for the actors: a program whose source says KILL ends the actor's
    process, as a program that takes its worker down would."""

    def respond(program, limits):
        if "KILL" in program.source:
            os._exit(1)
        if "SLOW" in program.source:
            import time

            time.sleep(0.3)
        return ExecutionResult(status=Status.OK, exit_code=0, stdout=program.source)

    return FakeSandbox(respond)


@pytest.mark.timeout(120)
def test_a_program_that_kills_its_worker_gets_sandbox_error_never_a_hang(cluster):
    sources = [f"print({i})" for i in range(10)]
    sources[3] = "KILL"
    with ray_sandbox(RaySettings(cpus_per_actor=1, chunk_size=4), factory=fake_box) as rs:
        results = rs.run_many([Program("python", s) for s in sources])
        assert rs.lost_chunks >= 2
    assert results[3].status is Status.SANDBOX_ERROR
    assert "lost with its Ray sandbox worker 2 times" in results[3].reason
    others = [r for i, r in enumerate(results) if i != 3]
    assert [r.stdout for r in others] == [s for i, s in enumerate(sources) if i != 3]  # chunk-mates retried alone
    assert all(r.status is Status.OK for r in others)


@pytest.mark.timeout(60)
def test_closing_the_sandbox_under_a_running_batch_ends_it_with_an_error(cluster):
    from codeeval_rl.errors import SandboxError

    rs = ray_sandbox(RaySettings(cpus_per_actor=1, chunk_size=1), factory=fake_box)
    with pytest.raises(SandboxError, match="closed while a batch was running"):
        rs.run_many([Program("python", f"SLOW {i}") for i in range(20)], on_result=lambda i, r: rs.close())
    with pytest.raises(SandboxError, match="closed"):
        rs.run(Program("python", "print(1)"))


def test_trl_reward_on_ray_equals_the_local_reward(cluster, sandbox):
    from codeeval_rl.integrations.trl import reward_function

    completions = ["    return x + 1\n", "    return x\n", "    return 1 / 0\n"]
    local = reward_function(SETTINGS, sandbox, tasks=[ADD1])
    remote = reward_function(SETTINGS, tasks=[ADD1], ray=TWO_ACTORS.model_copy(update={"address": cluster}))
    try:
        kw = {"prompts": [ADD1.prompt] * 3, "completions": completions, "task_id": ["add1"] * 3}
        assert remote(**kw) == local(**kw)
        assert remote.sandbox.ray.address == cluster
    finally:
        remote.close()
    with pytest.raises(InputError, match="not both"):
        reward_function(SETTINGS, sandbox, ray="auto")


def test_evaluate_cli_through_ray_client_matches_the_local_run(client_address, tmp_path):
    from codeeval_rl.data import write_samples

    samples = tmp_path / "s.jsonl"
    write_samples(samples, [{"task_id": "HumanEval/0", "completion": c} for c in (
        "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n",
        "    return False\n")])
    config = tmp_path / "c.yaml"
    config.write_text("evaluation:\n  efficiency_weight: 0.0\nray:\n  cpus_per_actor: 1\n")
    outs = {}
    for mode in ("local", "ray"):
        out = tmp_path / f"{mode}.json"
        args = ["evaluate", "--dataset", "humaneval", "--limit", "1", "--samples", str(samples), "--output", str(out),
                "--config", str(config), "--json", *(["--ray", client_address] if mode == "ray" else [])]
        proc = subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", *args],
                              check=False, capture_output=True, text=True, timeout=180,
                              env={**os.environ, **OFFLINE})
        assert proc.returncode == 0, proc.stderr
        outs[mode] = json.loads(out.read_text())
    strip = ("feedback",)
    rows = {m: [{k: v for k, v in s.items() if k not in strip} for s in d["samples"]] for m, d in outs.items()}
    assert rows["ray"] == rows["local"]
    assert [s["passed"] for s in rows["ray"]] == [True, False]


def test_the_service_sends_its_runs_to_ray(cluster, tmp_path):
    pytest.importorskip("fastapi")
    httpx = pytest.importorskip("httpx")
    from tests.service.conftest import start_live, stop_live

    live = start_live(tmp_path, None, ray=cluster, config=None)
    try:
        assert type(live.service.sandbox).__name__ == "RaySandbox"
        reply = httpx.post(f"{live.url}/run_code", headers=live.headers(),
                           json={"code": "print(6 * 7)", "language": "python"}, timeout=60)
        assert reply.status_code == 200, reply.text
        assert reply.json()["run_result"]["stdout"] == "42\n"
    finally:
        stop_live(live)
