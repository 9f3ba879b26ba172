"""Over HTTP: SandboxFusion's ``fetch_files`` with its own client, ``compile_timeout`` per
request (capped, and never cached as a verdict), and ``/v1/run``'s ``runtime`` and ``fetch_files``."""

from __future__ import annotations

import base64
import uuid
from types import SimpleNamespace

import pytest

from codeeval_rl.errors import InputError
from codeeval_rl.sandbox import profiles
from codeeval_rl.service.core import Service

WRITER = "import json\nopen('result.json', 'w').write(json.dumps({'sum': 1 + 2}))\nprint('wrote')"


def test_the_pypi_client_fetches_files_a_run_wrote(live):
    sandbox_fusion = pytest.importorskip("sandbox_fusion")
    sandbox_fusion.set_endpoint(f"{live.url}/k/{live.keys['evaluator']}")
    given = {"in.txt": base64.b64encode(b"7\n").decode()}
    code = "import os\nos.mkdir('out')\nn = int(open('in.txt').read())\nopen('out/sq.txt', 'w').write(str(n * n))"
    resp = sandbox_fusion.run_code(sandbox_fusion.RunCodeRequest(code=code, language="python", files=given,
                                                                 fetch_files=["out/sq.txt", "missing.txt"]),
                                   max_attempts=1)
    assert resp.status == sandbox_fusion.RunStatus.Success, resp
    assert resp.files == {"out/sq.txt": base64.b64encode(b"49").decode()}
    cpp = ('#include <fstream>\nint main(){ std::ofstream f("ans.txt"); f << 6 * 7; return 0; }\n')
    resp = sandbox_fusion.run_code(sandbox_fusion.RunCodeRequest(code=cpp, language="cpp", fetch_files=["ans.txt"]),
                                   max_attempts=1)
    assert resp.status == sandbox_fusion.RunStatus.Success, resp
    assert base64.b64decode(resp.files["ans.txt"]) == b"42"


def test_fetch_files_never_follows_a_link_out_of_the_working_directory(live, http):
    code = "import os\nos.symlink('/etc/passwd', 'p')\nos.symlink('/proc/self/environ', 'e')\nopen('ok', 'w').write('1')"
    body = http.post("/run_code", headers=live.headers(), json={"code": code, "language": "python",
                                                                "fetch_files": ["p", "e", "ok"]}).json()
    assert body["status"] == "Success" and body["files"] == {"ok": "MQ=="}


def test_an_oversized_file_is_left_out_and_the_rest_returned(live, http):
    code = "open('big', 'wb').write(b'x' * 5000)\nopen('small', 'wb').write(b'y' * 10)"
    body = http.post("/v1/run", headers=live.headers(), json={
        "program": {"language": "python", "source": code, "fetch_files": ["big", "small"]},
        "limits": {"output_bytes": 4096}}).json()
    assert body["status"] == "ok" and body["files"] == {"small": base64.b64encode(b"y" * 10).decode()}


def test_v1_run_returns_fetched_files_and_leaves_the_field_out_otherwise(live, http):
    prog = {"language": "python", "source": WRITER, "fetch_files": ["result.json"]}
    body = http.post("/v1/run", headers=live.headers(), json={"program": prog}).json()
    assert body["status"] == "ok" and base64.b64decode(body["files"]["result.json"]) == b'{"sum": 3}'
    body = http.post("/v1/run", headers=live.headers(), json={"program": {"language": "python", "source": WRITER}}).json()
    assert body["status"] == "ok" and "files" not in body
    r = http.post("/v1/run", headers=live.headers(), json={"program": {**prog, "fetch_files": ["../x"]}})
    assert r.status_code == 400 and "fetch_files" in r.json()["message"]


def _slow_cpp() -> str:
    # A new source each time (never in the compile cache) that takes g++ a while at -O2.
    body = "\n".join(f"template<int N> struct F{i} {{ enum {{ v = F{i}<N - 1>::v + {i} }}; }};\n"
                     f"template<> struct F{i}<0> {{ enum {{ v = 0 }}; }};" for i in range(40))
    uses = " + ".join(f"F{i}<300>::v" for i in range(40))
    return f"// {uuid.uuid4()}\n#include <cstdio>\n{body}\nint main(){{ std::printf(\"%d\\n\", (int)({uses}) > 0); }}\n"


def test_compile_timeout_limits_compiling_and_a_timed_out_compile_is_not_cached(live, http):
    code = _slow_cpp()
    req = {"code": code, "language": "cpp", "run_timeout": 2}
    short = http.post("/run_code", headers=live.headers(), json={**req, "compile_timeout": 0.05}).json()
    assert short["status"] == "Failed" and short["run_result"] is None, short
    assert short["compile_result"]["status"] == "TimeLimitExceeded"
    assert short["compile_result"]["execution_time"] < 5
    ok = http.post("/run_code", headers=live.headers(), json={**req, "compile_timeout": 60}).json()  # capped at 30
    assert ok["status"] == "Success" and ok["run_result"]["stdout"] == "1\n", ok
    # now cached: a compile that is not run again takes no time, whatever the timeout
    again = http.post("/run_code", headers=live.headers(), json={**req, "compile_timeout": 0.05}).json()
    assert again["status"] == "Success" and again["compile_result"]["execution_time"] == 0


def test_v1_run_takes_a_compile_limit_too(live, http):
    prog = {"language": "cpp", "source": _slow_cpp()}
    body = http.post("/v1/run", headers=live.headers(), json={"program": prog, "limits": {"compile_time_s": 0.05}}).json()
    assert body["status"] == "compile_error" and "compilation timed out" in body["compile_output"]


def test_service_caps_the_compile_limit_at_the_sandboxs_own(live):
    svc = live.service
    cap = svc.max_limits.compile_time_s
    assert cap == svc.sandbox.settings.compile_wall_time_s
    assert svc.limits({"compile_time_s": cap * 10}).compile_time_s == cap
    assert svc.limits({"compile_time_s": 1.5}).compile_time_s == 1.5
    assert svc.limits(None).compile_time_s is None


def test_v1_run_takes_a_runtime_profile_and_refuses_an_unknown_one_by_name(live, http):
    ok = http.post("/v1/run", headers=live.headers(), json={
        "program": {"language": "python", "source": "import json; print(1)", "runtime": "python-stdlib"}}).json()
    assert ok["status"] == "ok" and ok["stdout"] == "1\n"
    r = http.post("/v1/run", headers=live.headers(), json={
        "program": {"language": "python", "source": "print(1)", "runtime": "python-gpu"}})
    assert r.status_code == 400
    msg = r.json()["message"]
    assert "program.runtime" in msg and "'python-gpu'" in msg and "python-datascience" in msg
    r = http.post("/v1/run", headers=live.headers(), json={
        "program": {"language": "python", "source": "print(1)", "runtime": "node"}})
    assert r.status_code == 400 and "javascript" in r.json()["message"]
    r = http.post("/v1/run_many", headers=live.headers(), json={"programs": [
        {"language": "python", "source": "print(1)"}, {"language": "python", "source": "print(1)", "runtime": "x"}]})
    assert r.status_code == 400 and "programs[1].runtime" in r.json()["message"]


def test_a_profile_not_built_on_the_server_is_a_clear_refusal_without_its_path(tmp_path):
    fake = SimpleNamespace(sandbox=SimpleNamespace(profiles_dir=tmp_path / "profiles"))
    with pytest.raises(InputError) as err:
        Service.check_runtime(fake, "python", "python-datascience")  # type: ignore[arg-type]
    msg = str(err.value)
    assert "not built on this server" in msg and "build-env python-datascience" in msg
    assert "built: python-stdlib" in msg and str(tmp_path) not in msg
    Service.check_runtime(fake, "python", "python-stdlib")  # type: ignore[arg-type]
    Service.check_runtime(fake, "python", "")  # type: ignore[arg-type]
    remote = SimpleNamespace(sandbox=object())  # a sandbox on other machines checks for itself
    Service.check_runtime(remote, "java", "java")  # type: ignore[arg-type]


def test_a_built_profile_is_used_by_v1_run(live, http):
    root = live.service.sandbox.profiles_dir
    if not (root / "python-datascience" / profiles.MANIFEST).is_file():
        pytest.skip("python-datascience is not built here")
    body = http.post("/v1/run", headers=live.headers(), json={
        "program": {"language": "python", "source": "import numpy\nprint(int(numpy.arange(4).sum()))",
                    "runtime": "python-datascience"}, "limits": {"memory_mb": 256}}).json()
    assert body["status"] == "ok" and body["stdout"] == "6\n", body
    body = http.post("/v1/run", headers=live.headers(), json={
        "program": {"language": "python", "source": "import numpy"}}).json()
    assert body["status"] == "missing_dependency" and body["missing"] == ["numpy"]
