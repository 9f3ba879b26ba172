"""``codeeval-rl run`` and ``doctor``: exit 0 whatever the program did, 2 for bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path



def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_run_json_for_ok_and_failing_programs(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text("print(input()[::-1])")
    stdin = tmp_path / "in.txt"
    stdin.write_text("abc\n")
    r = cli("run", str(good), "--stdin", str(stdin), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["status"] == "ok" and data["stdout"] == "cba\n"
    loop = tmp_path / "loop.c"
    loop.write_text("int main(){ for(;;); }")
    r = cli("run", str(loop), "--timeout", "0.5", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "timeout"
    r = cli("run", str(good), "--language", "python")  # the rich table
    assert r.returncode == 0 and "status" in r.stdout


def test_run_bad_arguments_exit_2(tmp_path: Path) -> None:
    src = tmp_path / "x.unknown"
    src.write_text("x")
    r = cli("run", str(src))
    assert r.returncode == 2 and "pass --language" in r.stderr
    r = cli("run", str(tmp_path / "missing.py"))
    assert r.returncode == 2 and "cannot read" in r.stderr
    binary = tmp_path / "bin.py"
    binary.write_bytes(b"\xff\xfe\x00")
    r = cli("run", str(binary))
    assert r.returncode == 2 and "not UTF-8" in r.stderr
    r = cli("run", str(src), "--language", "cobol")
    assert r.returncode == 2 and "unknown language" in r.stderr
    good = tmp_path / "g.py"
    good.write_text("print(1)")
    r = cli("run", str(good), "--timeout", "-1")
    assert r.returncode == 2 and "--timeout" in r.stderr


def test_doctor_reports_every_language() -> None:
    r = cli("doctor", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["ok"]
    assert {row["language"] for row in report["languages"]} >= {"python", "javascript", "java", "cpp", "c", "rust"}


def test_run_several_files_in_parallel(tmp_path: Path) -> None:
    files = []
    for i, (name, src) in enumerate([("a.py", "print(1)"), ("b.c", "int main(){return 2;}"),
                                     ("c.js", "console.log('three')")]):
        p = tmp_path / name
        p.write_text(src)
        files.append(str(p))
    r = cli("run", *files, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [d["file"] for d in data] == files
    assert [d["status"] for d in data] == ["ok", "runtime_error", "ok"]
    assert data[2]["stdout"] == "three\n"
    table = cli("run", *files)
    assert table.returncode == 0 and "runtime_error" in table.stdout


def test_error_messages_are_not_wrapped(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-directory-name-" * 4)
    deep.mkdir()
    binary = deep / "bin.py"
    binary.write_bytes(b"\xff\xfe\x00")
    r = cli("run", str(binary))
    assert r.returncode == 2
    assert f"{binary} is not UTF-8" in r.stderr and r.stderr.count("\n") == 1, r.stderr
