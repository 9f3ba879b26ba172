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


def test_model_option_generates_then_evaluates(tmp_path):
    """``--model`` with a tiny local model: generation, then the same evaluation and results file."""
    import torch

    from codeeval_rl.rl.tiny import build_tiny_model, train_tokenizer

    torch.manual_seed(0)
    tok = train_tokenizer([f"def f{i}(x):\n    return x + {i}\n" for i in range(40)], vocab_size=300)
    model = build_tiny_model(len(tok), hidden=32, layers=1, heads=2, intermediate=64, seed=0,
                             pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    model_dir = tmp_path / "tiny"
    model.save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    out = tmp_path / "r.json"
    proc = _run("evaluate", "--dataset", "library:python:easy", "--limit", "2", "--model", str(model_dir),
                "--n", "2", "--max-new-tokens", "16", "--output", str(out), "--k", "1,2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["summary"]["num_samples"] == 4 and len(data["samples"]) == 4
    assert {"pass@1", "pass@2"} <= set(data["summary"]["pass_at_k"])


def test_model_option_with_a_missing_model_is_a_clear_error(tmp_path):
    env = dict(__import__("os").environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", "evaluate",
                           "--dataset", "humaneval", "--limit", "1", "--model", str(tmp_path / "nowhere"),
                           "--output", str(tmp_path / "r.json")], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode != 0
    assert "nowhere" in proc.stderr and "Traceback" not in proc.stderr


def test_summary_leaves_out_k_above_samples_per_task():
    recs = [{"task_id": "a", "passed": True, "reward": 1.0, "outcome": "passed", "status": "ok",
             "components": dict.fromkeys(("syntax", "execution", "tests", "quality", "efficiency"), 1.0)}]
    assert summarise(recs, [1, 10])["pass_at_k"] == {"pass@1": 1.0}
