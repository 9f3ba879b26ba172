"""/run_code answers SandboxFusion's own client and veRL's request shape, field for field, with
the verdicts our sandbox gives in-process."""

from __future__ import annotations

import base64
import json

import pytest

from codeeval_rl.types import Limits, Program

sandbox_fusion = pytest.importorskip("sandbox_fusion")

CPP_OK = "#include <iostream>\nint main(){int a,b; std::cin>>a>>b; std::cout<<a+b<<std::endl; return 0;}\n"
CPP_BAD = "int main( { return 0; }\n"


def _client_run(live, request, **kw):
    sandbox_fusion.set_endpoint(f"{live.url}/k/{live.keys['evaluator']}")
    return sandbox_fusion.run_code(request, max_attempts=1, **kw)


def test_the_pypi_client_runs_python_with_stdin_and_gets_its_fields(live):
    resp = _client_run(live, sandbox_fusion.RunCodeRequest(code="print(int(input()) * 2)", language="python",
                                                           stdin="21\n"))
    assert resp.status == sandbox_fusion.RunStatus.Success
    assert resp.compile_result is None
    assert resp.run_result.status == sandbox_fusion.CommandRunStatus.Finished
    assert resp.run_result.return_code == 0
    assert resp.run_result.stdout == "42\n"
    assert resp.run_result.stderr == ""
    assert 0 < resp.run_result.execution_time < 5


def test_the_pypi_client_sees_a_compiled_program_and_a_compile_error(live):
    ok = _client_run(live, sandbox_fusion.RunCodeRequest(code=CPP_OK, language="cpp", stdin="2 3\n"))
    assert ok.status == sandbox_fusion.RunStatus.Success
    assert ok.compile_result.status == sandbox_fusion.CommandRunStatus.Finished
    assert ok.compile_result.return_code == 0
    assert ok.run_result.stdout == "5\n"
    bad = _client_run(live, sandbox_fusion.RunCodeRequest(code=CPP_BAD, language="cpp"))
    assert bad.status == sandbox_fusion.RunStatus.Failed
    assert bad.run_result is None
    assert bad.compile_result.return_code == 1 and "error" in bad.compile_result.stderr
    assert sandbox_fusion.summary_run_code_result(bad, sandbox_fusion.SummaryMapping(CompileFailed="CE")) == "CE"


def test_the_pypi_client_sees_timeouts_and_runtime_errors(live):
    slow = _client_run(live, sandbox_fusion.RunCodeRequest(code="while True: pass", language="python",
                                                           run_timeout=0.5))
    assert slow.status == sandbox_fusion.RunStatus.Failed
    assert slow.run_result.status == sandbox_fusion.CommandRunStatus.TimeLimitExceeded
    crash = _client_run(live, sandbox_fusion.RunCodeRequest(code="import sys; print('x'); sys.exit(3)",
                                                            language="python"))
    assert crash.status == sandbox_fusion.RunStatus.Failed
    assert (crash.run_result.status, crash.run_result.return_code, crash.run_result.stdout) == ("Finished", 3, "x\n")
    mapping = sandbox_fusion.SummaryMapping(RunTimeout="TLE", RunFailed="RE")
    assert sandbox_fusion.summary_run_code_result(slow, mapping) == "TLE"
    assert sandbox_fusion.summary_run_code_result(crash, mapping) == "RE"


def test_nodejs_java_and_rust_under_sandboxfusion_names(live):
    cases = [("nodejs", "console.log(6*7)"),
             ("java", "public class Main { public static void main(String[] a) { System.out.println(6*7); } }"),
             ("rust", "fn main() { println!(\"{}\", 6*7); }")]
    for language, code in cases:
        resp = _client_run(live, sandbox_fusion.RunCodeRequest(code=code, language=language, run_timeout=10))
        assert resp.status == sandbox_fusion.RunStatus.Success, (language, resp)
        assert resp.run_result.stdout == "42\n"
        assert (resp.compile_result is not None) == (language in ("java", "rust"))


def test_a_verl_shaped_request_is_answered_as_verl_reads_it(live):
    """The payload and headers of veRL's sandbox_fusion call_sandbox_api, posted with requests."""
    import requests

    payload = json.dumps({"compile_timeout": 10, "run_timeout": 10, "code": "a, b = map(int, input().split())\nprint(a + b)",
                          "stdin": "3 4", "language": "python", "files": {}, "fetch_files": [], "memory_limit_MB": 1024})
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    url = f"{live.url}/k/{live.keys['evaluator']}/run_code"
    response = requests.post(url, headers=headers, data=payload, timeout=30)
    response.raise_for_status()
    body = response.json()
    assert set(body) == {"status", "message", "compile_result", "run_result", "executor_pod_name", "files"}
    assert set(body["run_result"]) == {"status", "execution_time", "return_code", "stdout", "stderr"}
    assert body["status"] == "Success" and body["run_result"]["status"] == "Finished"
    assert body["run_result"]["stdout"].rstrip("\n") == "7"  # veRL's comparison


def test_a_language_we_do_not_run_gets_sandboxfusions_error_shape_naming_ours(live, http):
    r = http.post("/run_code", headers=live.headers(), json={"code": "package main", "language": "go"})
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "SandboxError" and body["run_result"] is None
    for name in ("'go'", "python", "cpp", "nodejs", "java", "rust"):
        assert name in body["message"]
    with pytest.raises(Exception, match="400"):
        _client_run(live, sandbox_fusion.RunCodeRequest(code="echo 1", language="bash"))


def test_files_arrive_base64_decoded_and_fetch_files_come_back_base64(live, http):
    files = {"data.txt": base64.b64encode("héllo\n".encode()).decode()}
    r = http.post("/run_code", headers=live.headers(), json={"code": "print(open('data.txt').read().upper(), end='')",
                                                             "language": "python", "files": files})
    assert r.json()["run_result"]["stdout"] == "HÉLLO\n"
    code = "open('out.txt', 'w').write(open('data.txt').read() * 2)\nopen('raw.bin', 'wb').write(bytes([0, 255]))"
    r = http.post("/run_code", headers=live.headers(), json={"code": code, "language": "python", "files": files,
                                                             "fetch_files": ["out.txt", "raw.bin", "absent.txt"]})
    body = r.json()
    assert body["status"] == "Success", body
    assert {k: base64.b64decode(v) for k, v in body["files"].items()} == \
        {"out.txt": "héllo\nhéllo\n".encode(), "raw.bin": b"\x00\xff"}
    for bad in ("../out.txt", "/etc/passwd"):
        r = http.post("/run_code", headers=live.headers(), json={"code": "print(1)", "language": "python",
                                                                 "fetch_files": [bad]})
        assert r.status_code == 400 and r.json()["status"] == "SandboxError" and "fetch_files" in r.json()["message"]
    r = http.post("/run_code", headers=live.headers(), json={"code": "print(1)", "language": "python",
                                                             "files": {"a.txt": "%%%not base64"}})
    assert r.status_code == 400 and "files['a.txt']" in r.json()["message"]


def test_the_servers_caps_bound_what_a_request_asks(live, http):
    r = http.post("/run_code", headers=live.headers(),
                  json={"code": "import time; time.sleep(30)", "language": "python", "run_timeout": 1000})
    run = r.json()["run_result"]
    assert run["status"] == "TimeLimitExceeded"
    assert run["execution_time"] < 4  # the server's cap in this fixture is 2 s
    r = http.post("/run_code", headers=live.headers(), json={
        "code": "x = bytearray(600 * 1024 * 1024)\nprint(len(x))", "language": "python", "memory_limit_MB": 100000})
    assert r.json()["status"] == "Failed" and "memory" in r.json()["message"]  # capped at 256 MiB


PARITY = [
    Program("python", "print(sum(range(10)))"),
    Program("python", "raise ValueError('boom')"),
    Program("python", "import sys; sys.stdout.write(sys.stdin.read()[::-1])", stdin="abc"),
    Program("python", "while True: pass"),
    Program("javascript", "console.log([1,2,3].map(x => x * 2).join(' '))"),
    Program("cpp", CPP_OK, stdin="40 2"),
    Program("cpp", CPP_BAD),
    Program("c", "#include <stdio.h>\nint main(void){ printf(\"%d\\n\", 7); return 1; }"),
]


def test_the_same_programs_give_the_same_verdicts_over_http_as_in_process(live, http, sandbox):
    limits = Limits(wall_time_s=1.0, memory_mb=256)
    local = [sandbox.run(p, limits) for p in PARITY]
    for program, mine in zip(PARITY, local):
        body = {"program": {"language": program.language, "source": program.source, "stdin": program.stdin},
                "limits": {"wall_time_s": 1.0, "memory_mb": 256}}
        remote = http.post("/v1/run", headers=live.headers(), json=body).json()
        assert (remote["status"], remote["stdout"]) == (mine.status.value, mine.stdout)
        if mine.status.value != "timeout":  # a timeout ends by the CPU or the wall limit, whichever is first
            assert remote["exit_code"] == mine.exit_code
        sf = http.post("/run_code", headers=live.headers(), json={
            "code": program.source, "language": program.language, "stdin": program.stdin, "run_timeout": 1.0,
            "memory_limit_MB": 256}).json()
        assert (sf["status"] == "Success") == (mine.ok and mine.exit_code == 0)
        if mine.status.value == "compile_error":
            assert sf["run_result"] is None and sf["compile_result"]["return_code"] == 1
        elif mine.status.value == "timeout":
            assert sf["run_result"]["status"] == "TimeLimitExceeded"
        else:
            assert (sf["run_result"]["return_code"], sf["run_result"]["stdout"]) == (mine.exit_code, mine.stdout)


def test_run_many_keeps_order_and_a_bad_item_fails_alone(live, http):
    body = {"programs": [{"language": "python", "source": "print('a')"},
                         {"language": "cobol", "source": "x"},
                         {"language": "python", "source": "print('c')"}]}
    results = http.post("/v1/run_many", headers=live.headers(), json=body).json()["results"]
    assert [r["status"] for r in results] == ["ok", "sandbox_error", "ok"]
    assert results[0]["stdout"] == "a\n" and results[2]["stdout"] == "c\n"
    assert "cobol" in results[1]["reason"]
    too_many = {"programs": [{"language": "python", "source": "1"}] * 17}
    r = http.post("/v1/run_many", headers=live.headers(), json=too_many)
    assert r.status_code == 400 and "at most 16" in r.json()["message"]
