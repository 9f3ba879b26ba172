"""codeeval-rl evaluate: RESULTS.json shape, pass@k only for k <= samples per task, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from codeeval_rl.cli.evaluate import summarise


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=300)


def test_evaluate_writes_results_in_input_order(tmp_path):
    from codeeval_rl.data import load_humaneval, write_samples

    tasks = load_humaneval(limit=2)
    samples = []
    for t in tasks:
        samples.append({"task_id": t.id, "completion": t.reference_solution[len(t.prompt):], "tag": "ref"})
        samples.append({"task_id": t.id, "completion": "    return None\n", "tag": "none"})
    path = tmp_path / "s.jsonl"
    write_samples(path, samples)
    out = tmp_path / "r.json"
    proc = _run("evaluate", "--dataset", "humaneval", "--limit", "2", "--samples", str(path), "--output", str(out),
                "--k", "1,2,10", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    summary = data["summary"]
    assert summary["pass_at_k"] == {"pass@1": 0.5, "pass@2": 1.0}
    assert summary["num_samples"] == 4 and summary["num_tasks"] == 2
    assert summary["outcomes"]["passed"] == 2
    assert set(summary["components"]) == {"syntax", "execution", "tests", "quality", "efficiency"}
    assert [s["tag"] for s in data["samples"]] == ["ref", "none", "ref", "none"]
    assert [s["passed"] for s in data["samples"]] == [True, False, True, False]
    assert "expected" in data["samples"][1]["feedback"]
    assert json.loads(proc.stdout)["num_samples"] == 4


def test_unknown_task_ids_are_named(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"task_id": "Nope/1", "completion": "x"}\n')
    proc = _run("evaluate", "--dataset", "humaneval", "--samples", str(path), "--output", str(tmp_path / "r.json"))
    assert proc.returncode == 2
    assert "Nope/1" in proc.stderr


def test_model_option_without_generation_module_is_a_clear_error(tmp_path):
    proc = _run("evaluate", "--dataset", "humaneval", "--limit", "1", "--model", "nowhere",
                "--output", str(tmp_path / "r.json"))
    try:
        import codeeval_rl.rl.generation  # noqa: F401
    except ImportError:
        assert proc.returncode != 0
        assert "generate_samples" in proc.stderr or "missing" in proc.stderr
    else:
        pytest.skip("generation module present: --model runs a real model")


def test_summary_leaves_out_k_above_samples_per_task():
    recs = [{"task_id": "a", "passed": True, "reward": 1.0, "outcome": "passed", "status": "ok",
             "components": dict.fromkeys(("syntax", "execution", "tests", "quality", "efficiency"), 1.0)}]
    assert summarise(recs, [1, 10])["pass_at_k"] == {"pass@1": 1.0}
