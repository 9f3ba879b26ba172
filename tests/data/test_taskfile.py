"""The Task JSONL format: round trips, strict validation naming line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeeval_rl.data import (
    builtin_library,
    read_tasks,
    read_wrong_solutions,
    task_to_dict,
    validate_task_file,
    write_tasks,
)
from codeeval_rl.errors import DatasetError
from codeeval_rl.types import Task, TestCase

GOOD = {
    "id": "demo/add", "language": "python", "prompt": "Write add(a, b).", "entry_point": "add",
    "tests": [{"id": "t1", "kind": "assert", "code": "assert add(2, 3) == 5"},
              {"id": "t2", "kind": "io", "stdin": "", "expected_stdout": "5\n", "compare": "tokens", "weight": 2}],
    "public_test_ids": ["t1"], "reference_solution": "def add(a, b):\n    return a + b\n",
    "tier": "easy", "category": "math", "context": "", "provenance": {"source": "me", "licence": "MIT"},
}


def _file(tmp_path: Path, lines: list, name: str = "t.jsonl") -> Path:
    p = tmp_path / name
    p.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return p


def test_read_good_line(tmp_path: Path) -> None:
    (task,) = read_tasks(_file(tmp_path, [GOOD]))
    assert task.id == "demo/add" and task.entry_point == "add" and task.tier == "easy"
    assert task.tests[1] == TestCase(kind="io", stdin="", expected_stdout="5\n", compare="tokens", weight=2.0, id="t2")
    assert [t.id for t in task.public_tests] == ["t1"] and [t.id for t in task.hidden_tests] == ["t2"]


def test_defaults_for_optional_fields(tmp_path: Path) -> None:
    minimal = {"id": "x", "language": "cpp", "prompt": "p", "tests": [{"id": "a", "kind": "io", "expected_stdout": ""}]}
    (task,) = read_tasks(_file(tmp_path, [minimal]))
    assert task.tier == "medium" and task.tests[0].compare == "exact" and task.public_test_ids == ()


@pytest.mark.parametrize("name", ["lib.jsonl", "lib.jsonl.gz"])
def test_roundtrip_library(tmp_path: Path, name: str) -> None:
    tasks = builtin_library()
    wrong = {t.id: ["print(0)"] for t in tasks[:3]}
    assert write_tasks(tmp_path / name, tasks, wrong) == len(tasks)
    assert read_tasks(tmp_path / name) == tasks
    assert read_wrong_solutions(tmp_path / name) == wrong


def test_every_error_is_named(tmp_path: Path) -> None:
    bad_tests = {**GOOD, "tests": [{"id": "t1", "kind": "assert", "code": ""},
                                   {"id": "t1", "kind": "io", "expected_output": "1"},
                                   {"id": "t3", "kind": "shell"},
                                   {"id": "t4", "kind": "io", "expected_stdout": "1", "compare": "fuzzy", "weight": -1},
                                   {"id": "t5", "kind": "assert", "code": "assert 1", "stdin": "x"},
                                   "t6"]}
    lines = [
        GOOD,
        {**GOOD, "id": "", "language": "cobol", "tier": "expert"},
        bad_tests,
        {**GOOD, "id": "p", "public_test_ids": ["t9", "t1", "t1"], "provenance": {"source": 1}, "extra": 1,
         "entry_point": "not ok"},
        {k: v for k, v in GOOD.items() if k not in ("prompt", "tests")},
        {**GOOD, "id": "q", "tests": []},
        "{oops",
        "[1, 2]",
        GOOD,
    ]
    f = _file(tmp_path, lines)
    with pytest.raises(DatasetError) as info:
        read_tasks(f)
    msg = str(info.value)
    expected = [
        f"{f}: ",
        "line 2: id: must not be empty",
        "line 2: language: 'cobol' is not one of c, cpp, java, javascript, python, rust",
        "line 2: tier: 'expert' is not one of easy, medium, hard",
        "line 3: tests[0].code: must not be empty",
        "line 3: tests[1].expected_output: unknown field",
        "line 3: tests[1].expected_stdout: missing",
        "line 3: tests[2].kind: 'shell' is not one of assert, io",
        "line 3: tests[3].compare: 'fuzzy' is not one of exact, tokens, float",
        "line 3: tests[3].weight: must be a positive number, got -1",
        "line 3: tests[4].stdin: not allowed for an assert test",
        "line 3: tests[5]: must be an object, got str",
        "line 4: extra: unknown field",
        "line 4: entry_point: 'not ok' is not a Python identifier",
        "line 4: public_test_ids[0]: 't9' names no test of this task",
        "line 4: public_test_ids[2]: duplicate 't1'",
        "line 4: provenance.source: must be a string, got int",
        "line 5: prompt: missing",
        "line 5: tests: missing",
        "line 6: tests: must hold at least one test",
        "line 7: invalid JSON",
        "line 8: expected a JSON object, got list",
        "line 9: id: duplicate 'demo/add' (first at line 1)",
    ]
    for e in expected:
        assert e in msg, f"missing {e!r} in:\n{msg}"
    assert msg.index("line 2:") < msg.index("line 7:") < msg.index("line 9:")  # in file order
    count, errors = validate_task_file(f)
    assert count == 0 and len(errors) == len(info.value.errors)  # type: ignore[attr-defined]


def test_error_list_is_capped(tmp_path: Path) -> None:
    f = _file(tmp_path, ["{bad"] * 80)
    with pytest.raises(DatasetError, match=r"80 errors(.|\n)*and 30 more"):
        read_tasks(f)


def test_write_validates_before_writing(tmp_path: Path) -> None:
    bad = Task(id="x", language="python", prompt="p", tests=(TestCase(kind="assert", code="", id="a"),))
    good = Task(id="y", language="python", prompt="p", tests=(TestCase(kind="assert", code="assert 1", id="a"),))
    with pytest.raises(DatasetError, match=r"task 0 \('x'\): tests\[0\].code: must not be empty"):
        write_tasks(tmp_path / "o.jsonl", [bad, good])
    with pytest.raises(DatasetError, match="task 1: id: duplicate 'y'"):
        write_tasks(tmp_path / "o.jsonl", [good, good])
    assert not (tmp_path / "o.jsonl").exists()
    assert task_to_dict(good)["tests"] == [{"id": "a", "kind": "assert", "code": "assert 1"}]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        read_tasks(tmp_path / "missing.jsonl")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"id": "\xe9"}\n')
    with pytest.raises(DatasetError, match="not UTF-8"):
        read_tasks(tmp_path / "latin1.jsonl")
    with pytest.raises(DatasetError, match="is a directory"):
        read_tasks(tmp_path)
