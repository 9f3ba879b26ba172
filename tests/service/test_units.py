"""The service's pure pieces without a server: the SandboxFusion mapping, the token bucket,
the audit writer's batching and shutdown, the policy file."""

from __future__ import annotations

import threading

import pytest

from codeeval_rl.errors import ConfigError, InputError, StoreError
from codeeval_rl.service.audit import AuditWriter
from codeeval_rl.service.limits import InFlight, MemoryRateLimiter, retry_after_header
from codeeval_rl.service.policy import SCOPES, load_policy
from codeeval_rl.service.sandboxfusion import resolve_language, to_program, to_response
from codeeval_rl.service.store import AuditRecord
from codeeval_rl.types import ExecutionResult, Limits, Status

DEFAULT = Limits(wall_time_s=10, memory_mb=512)
CAP = Limits(wall_time_s=30, memory_mb=1024)


def test_sandboxfusion_language_names_map_to_ours_and_others_are_refused_by_name():
    assert [resolve_language(n).name for n in ("python", "cpp", "nodejs", "java", "rust", "js", "C")] == \
        ["python", "cpp", "javascript", "java", "rust", "javascript", "c"]
    for name in ("go", "pytest", "bash", "", "python_gpu"):
        with pytest.raises(InputError, match="supported: python, cpp, nodejs, java, rust"):
            resolve_language(name)


def test_request_fields_become_program_and_capped_limits():
    prog, lim = to_program({"code": "x", "language": "nodejs", "run_timeout": 100, "memory_limit_MB": -1,
                            "stdin": None, "files": {"a/b.txt": "aGk=", "skip": None}}, DEFAULT, CAP)
    assert (prog.language, prog.stdin, dict(prog.files)) == ("javascript", "", {"a/b.txt": "hi"})
    assert (lim.wall_time_s, lim.memory_mb, lim.cpu_time_s) == (30, 512, None)
    _, lim = to_program({"code": "x", "language": "python", "run_timeout": 2.5, "memory_limit_MB": 64}, DEFAULT, CAP)
    assert (lim.wall_time_s, lim.memory_mb) == (2.5, 64)
    _, lim = to_program({"code": "x", "language": "python", "memory_limit_MB": 10**6}, DEFAULT, CAP)
    assert lim.memory_mb == 1024
    with pytest.raises(InputError, match="not UTF-8"):
        to_program({"code": "x", "language": "python", "files": {"b": "//79"}}, DEFAULT, CAP)
    prog, _ = to_program({"code": "x", "language": "python", "fetch_files": ["o", "d/p.bin"]}, DEFAULT, CAP)
    assert prog.fetch_files == ("o", "d/p.bin")


def test_compile_timeout_is_the_compile_limit_capped_by_the_servers():
    cap = Limits(wall_time_s=30, memory_mb=1024, compile_time_s=20)
    _, lim = to_program({"code": "x", "language": "cpp", "compile_timeout": 5}, DEFAULT, cap)
    assert lim.compile_time_s == 5
    _, lim = to_program({"code": "x", "language": "cpp", "compile_timeout": 500}, DEFAULT, cap)
    assert lim.compile_time_s == 20
    _, lim = to_program({"code": "x", "language": "cpp"}, DEFAULT, cap)
    assert lim.compile_time_s == 10  # SandboxFusion's default
    _, lim = to_program({"code": "x", "language": "cpp", "compile_timeout": 5}, DEFAULT, CAP)
    assert lim.compile_time_s is None  # a server with no compile cap keeps the sandbox's own limit


def test_fetched_files_are_returned_base64_as_sandboxfusion_does():
    result = ExecutionResult(Status.OK, exit_code=0, files={"out.bin": b"\x00\xffhi", "a/b.txt": b""})
    resp = to_response(result, "python")
    assert resp["files"] == {"out.bin": "AP9oaQ==", "a/b.txt": ""}
    assert to_response(ExecutionResult(Status.OK, exit_code=0), "python")["files"] == {}


@pytest.mark.parametrize("result,language,status,run,compile_", [
    (ExecutionResult(Status.OK, exit_code=0, stdout="1\n", wall_time_s=0.01), "python", "Success",
     ("Finished", 0), None),
    (ExecutionResult(Status.RUNTIME_ERROR, exit_code=1, stderr="Traceback", reason="exit code 1"), "python",
     "Failed", ("Finished", 1), None),
    (ExecutionResult(Status.RUNTIME_ERROR, exit_code=-11, reason="killed by SIGSEGV"), "cpp", "Failed",
     ("Finished", -11), ("Finished", 0)),
    (ExecutionResult(Status.TIMEOUT, exit_code=-9, reason="wall"), "python", "Failed", ("TimeLimitExceeded", None), None),
    (ExecutionResult(Status.MEMORY_LIMIT, exit_code=-9, reason="memory"), "java", "Failed", ("Finished", -9),
     ("Finished", 0)),
    (ExecutionResult(Status.OUTPUT_LIMIT, exit_code=-9, reason="output"), "python", "Failed", ("Finished", -9), None),
    (ExecutionResult(Status.COMPILE_ERROR, compile_output="main.cpp:1: error: x", reason="error: x"), "cpp",
     "Failed", None, ("Finished", 1)),
    (ExecutionResult(Status.COMPILE_ERROR, compile_output="...\ncompilation timed out"), "rust", "Failed", None,
     ("TimeLimitExceeded", None)),
])
def test_each_of_our_statuses_maps_to_sandboxfusions_fields(result, language, status, run, compile_):
    resp = to_response(result, language)
    assert resp["status"] == status
    assert (resp["run_result"]["status"], resp["run_result"]["return_code"]) == run if run else resp["run_result"] is None
    if compile_:
        assert (resp["compile_result"]["status"], resp["compile_result"]["return_code"]) == compile_
    else:
        assert resp["compile_result"] is None
    assert resp["message"] == ("" if status == "Success" else result.reason)
    assert set(resp) == {"status", "message", "compile_result", "run_result", "executor_pod_name", "files"}


def test_a_sandbox_error_is_sandboxfusions_error():
    resp = to_response(ExecutionResult(Status.SANDBOX_ERROR, reason="worker died"), "python")
    assert (resp["status"], resp["message"], resp["run_result"]) == ("SandboxError", "worker died", None)


def test_the_token_bucket_allows_a_burst_then_the_rate_and_says_how_long_to_wait():
    lim = MemoryRateLimiter()
    t = 100.0
    assert [lim.take("k", rate=2, burst=3, now=t) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = lim.take("k", rate=2, burst=3, now=t)
    assert wait == pytest.approx(0.5)
    assert lim.take("k", rate=2, burst=3, now=t + 0.5) == 0.0  # one token refilled
    assert lim.take("other", rate=2, burst=3, now=t) == 0.0  # buckets are per key
    assert lim.take("k", rate=2, burst=3, now=t + 100) == 0.0  # never more than the burst
    assert [lim.take("k", rate=2, burst=3, now=t + 100) for _ in range(3)][-1] > 0
    assert retry_after_header(0.01) == "1" and retry_after_header(2.2) == "3"


def test_in_flight_counts_per_key():
    f = InFlight()
    assert f.enter("a", 2) and f.enter("a", 2) and not f.enter("a", 2) and f.enter("b", 2)
    f.leave("a")
    assert f.count("a") == 1 and f.enter("a", 2)


class FlakySink:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.rows: list[AuditRecord] = []
        self.calls = 0

    def append_audit(self, records):
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise StoreError("database is locked")
        self.rows.extend(records)


def _rec(i: int) -> AuditRecord:
    return AuditRecord(at=float(i), key_name="k", method="GET", route="/x", status=200, bytes_in=0, bytes_out=i,
                       duration_ms=1.0)


def test_the_audit_writer_batches_retries_and_loses_nothing_at_close():
    sink = FlakySink(failures=2)
    writer = AuditWriter(sink, interval_s=0.05, batch=100)
    threads = [threading.Thread(target=lambda b=b: [writer.record(_rec(b * 1000 + i)) for i in range(500)])
               for b in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert sorted(r.bytes_out for r in sink.rows) == sorted(b * 1000 + i for b in range(4) for i in range(500))
    assert sink.calls < 2000 / 10  # batched, not one write per record
    assert writer.pending == 0 and writer.error == ""


def test_the_shipped_policy_and_a_wrong_one(tmp_path):
    policy = load_policy()
    assert policy.roles["admin"] == frozenset(SCOPES)
    assert policy.roles["evaluator"] == {"run", "reward", "evaluate", "jobs", "datasets"}
    assert policy.roles["reader"] == {"datasets", "jobs"}
    bad = tmp_path / "p.yaml"
    bad.write_text("roles:\n  ops: [run, audti]\n")
    with pytest.raises(ConfigError, match="audti"):
        load_policy(bad)
