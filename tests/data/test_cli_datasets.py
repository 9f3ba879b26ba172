"""``codeeval-rl datasets``: list, show, validate with their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIX = Path(__file__).with_name("fixtures")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from codeeval_rl.cli import main; sys.argv[0] = 'codeeval-rl'; main()"
    return subprocess.run([sys.executable, "-c", code, "datasets", *args], check=False, capture_output=True, text=True,
                          timeout=120)


def test_list_json_counts() -> None:
    r = cli("list", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    grid = data["library"]["by_language_tier"]
    assert set(grid) == {"python", "javascript", "java", "cpp", "rust"}
    assert sum(sum(v.values()) for v in grid.values()) == data["library"]["tasks"] >= 60
    assert "humaneval" in data["known"]


def test_show_task_and_errors() -> None:
    r = cli("show", "lib/python/clamp", "--reference")
    assert r.returncode == 0, r.stderr
    assert "clamp(x: int, lo: int, hi: int)" in r.stdout and "public" in r.stdout and "hidden" in r.stdout
    assert "return max(lo, min(x, hi))" in r.stdout
    r = cli("show", "HumanEval/3", "--json")
    assert json.loads(r.stdout)["entry_point"] == "below_zero"
    r = cli("show", "nope")
    assert r.returncode == 2 and "no task 'nope'" in r.stderr


def test_validate_exit_codes(tmp_path: Path) -> None:
    ok = cli("validate", str(FIX / "codecontests.jsonl"), "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout) == {
        "file": str(FIX / "codecontests.jsonl"), "valid": True, "tasks": 2, "errors": []}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "language": "python", "prompt": "p", "tests": [], "tier": "mega"}\n{oops\n')
    r = cli("validate", str(bad), "--json")
    assert r.returncode == 2
    verdict = json.loads(r.stdout)
    assert not verdict["valid"] and verdict["errors"][0] == "line 1: tier: 'mega' is not one of easy, medium, hard"
    assert any(e.startswith("line 2: invalid JSON") for e in verdict["errors"])
    r = cli("validate", str(bad))
    assert r.returncode == 2 and "line 1: tests: must hold at least one test" in r.stdout
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"foo": 1}\n')
    r = cli("validate", str(odd), "--json")
    assert r.returncode == 2 and "cannot tell the dataset format" in json.loads(r.stdout)["errors"][0]
    r = cli("validate", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "no such file" in r.stderr
