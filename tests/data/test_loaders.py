"""MBPP, APPS, CodeContests and Hub loaders on fixtures in the published formats, and on
malformed input; the converted tests are checked by running the datasets' own solutions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeeval_rl.data import load_apps, load_codecontests, load_dataset, load_hf, load_mbpp
from codeeval_rl.errors import DatasetError, InputError
from codeeval_rl.sandbox import Limits
from tests.data.harness import passed, run_items

FIX = Path(__file__).with_name("fixtures")


def _write(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


# ---- MBPP ---------------------------------------------------------------------------------

def test_mbpp_fields() -> None:
    tasks = load_mbpp(FIX / "mbpp.jsonl")
    assert [t.id for t in tasks] == ["mbpp/11", "mbpp/12", "mbpp/14"]
    t = tasks[0]
    assert t.entry_point == "remove_Occ" and t.language == "python"
    assert len(t.tests) == 5 and t.public_test_ids == ("test0",)  # 3 tests + 2 challenge tests
    assert 'assert remove_Occ("hello","l") == "heo"' in t.prompt
    assert tasks[2].entry_point == "find_Volume"  # math.isclose(...) is skipped over
    assert tasks[2].tests[0].code.startswith("import math\n")
    assert t.provenance["source"] == "google-research/mbpp"


def test_mbpp_malformed(tmp_path: Path) -> None:
    good = json.loads((FIX / "mbpp.jsonl").read_text().splitlines()[0])
    f = _write(tmp_path / "m.jsonl", [good, {**good, "test_list": []}, {**good, "code": 5, "task_id": None},
                                      {**good, "test_list": ["assert 1 == 1"]}, {**good}])
    with pytest.raises(DatasetError) as info:
        load_mbpp(f)
    msg = str(info.value)
    assert "line 2: test_list: must hold at least one assert" in msg
    assert "line 3: task_id: missing" in msg and "line 3: code: must be a string, got int" in msg
    assert "line 4: test_list[0]: calls no function" in msg
    assert "line 5: id: duplicate 'mbpp/11' (first at line 1)" in msg


# ---- APPS ---------------------------------------------------------------------------------

def test_apps_jsonl_fields() -> None:
    io_task, call_task, lines_task = load_apps(FIX / "apps.jsonl")
    assert io_task.id == "apps/4001" and io_task.tier == "easy"
    assert all(t.kind == "io" and t.compare == "float" for t in io_task.tests)
    assert io_task.public_test_ids == ("test0",) and "Use Standard Input format" in io_task.prompt
    assert call_task.entry_point == "maxProduct" and call_task.tier == "medium"
    assert all(t.kind == "assert" for t in call_task.tests) and "Use Call-Based format" in call_task.prompt
    assert "class Solution" in call_task.prompt
    assert lines_task.tier == "hard" and lines_task.tests[0].stdin == "a\nb\nc"
    assert lines_task.tests[0].expected_stdout == "c\nb\na"


def test_apps_directories_match_jsonl() -> None:
    from_dirs = load_apps(FIX / "apps_dirs")
    from_jsonl = load_apps(FIX / "apps.jsonl")[:2]
    assert [t.id for t in from_dirs] == ["apps/0000", "apps/0001"]
    for a, b in zip(from_dirs, from_jsonl):
        assert a.tests == b.tests and a.reference_solution == b.reference_solution and a.tier == b.tier
    assert load_apps(FIX / "apps_dirs" / "0001")[0].entry_point == "maxProduct"
    with pytest.raises(DatasetError, match="no APPS problem directories"):
        load_apps(FIX)


def test_apps_malformed(tmp_path: Path) -> None:
    base = {"problem_id": 1, "question": "q", "solutions": "[]", "difficulty": "interview"}
    f = _write(tmp_path / "a.jsonl", [
        {**base, "input_output": "{not json"},
        {**base, "input_output": json.dumps({"inputs": ["1"], "outputs": []})},
        {**base, "input_output": json.dumps({"inputs": [], "outputs": []})},
        {**base, "input_output": json.dumps({"fn_name": "f", "inputs": [5], "outputs": [1]})},
        {**base, "difficulty": "legendary", "input_output": json.dumps({"inputs": ["1"], "outputs": ["1"]})},
        {**base, "solutions": "[1]", "input_output": ""},
        "[]",
    ])
    with pytest.raises(DatasetError) as info:
        load_apps(f)
    msg = str(info.value)
    for expected in ("line 1: input_output: invalid JSON inside the string",
                     "line 2: input_output: 1 inputs but 0 outputs",
                     "line 3: input_output: holds no tests",
                     "line 4: input_output.inputs[0]: must be a list of arguments",
                     "line 5: difficulty: 'legendary' is not one of introductory, interview, competition",
                     "line 6: solutions: must be a list of program strings",
                     "line 6: input_output: is empty",
                     "line 7: expected a JSON object, got list"):
        assert expected in msg


# ---- CodeContests -------------------------------------------------------------------------

def test_codecontests_fields() -> None:
    squares, parity = load_codecontests(FIX / "codecontests.jsonl")
    assert [t.id for t in squares.tests] == ["public0", "private0", "private1", "generated0"]
    assert squares.public_test_ids == ("public0",)
    assert all(t.kind == "io" and t.compare == "float" for t in squares.tests)
    assert squares.tier == "easy" and parity.tier == "hard"  # cf_rating 800 / 2400
    assert squares.provenance["time_limit_s"] == "2.5"
    assert squares.provenance["memory_limit_bytes"] == "256000000"
    assert "time_limit_s" not in parity.provenance
    assert squares.reference_solution.startswith("n = int(input())")
    assert parity.reference_solution == ""  # no Python 3 solution
    cpp = load_codecontests(FIX / "codecontests.jsonl", language="cpp", include_generated=False)
    assert cpp[0].language == "cpp" and "#include" in cpp[0].reference_solution
    assert [t.id for t in cpp[0].tests] == ["public0", "private0", "private1"]
    with pytest.raises(InputError, match="CodeContests has solutions in python, cpp, java"):
        load_codecontests(FIX / "codecontests.jsonl", language="rust")


def test_codecontests_malformed(tmp_path: Path) -> None:
    f = _write(tmp_path / "c.jsonl", [
        {"name": "a", "description": "d", "public_tests": {"input": ["1"], "output": []}},
        {"name": "b", "description": "d", "private_tests": [1, 2]},
        {"name": "c", "description": "d"},
        {"description": "d", "public_tests": {"input": ["1"], "output": ["1"]},
         "solutions": {"language": [3], "solution": []}},
    ])
    with pytest.raises(DatasetError) as info:
        load_codecontests(f)
    msg = str(info.value)
    assert "line 1: public_tests: 1 inputs but 0 outputs" in msg
    assert "line 2: private_tests: must be an object" in msg
    assert "line 3: public_tests: no tests" in msg
    assert "line 4: name: missing" in msg and "line 4: solutions: must be" in msg


def test_dataset_solutions_pass_their_converted_tests(sandbox) -> None:
    """The datasets' own solutions pass the tests we built from them; wrong ones fail."""
    tasks = load_mbpp(FIX / "mbpp.jsonl") + load_apps(FIX / "apps.jsonl")
    cc_py = load_codecontests(FIX / "codecontests.jsonl")[0]
    cc_java = load_codecontests(FIX / "codecontests.jsonl", language="java")[1]
    tasks += [cc_py, cc_java]
    items = [(t, t.reference_solution) for t in tasks]
    wrong = [(tasks[0], "def remove_Occ(s, ch):\n    return s.replace(ch, '')\n"),
             (tasks[4], "class Solution:\n    def maxProduct(self, nums):\n        return max(nums) ** 2\n"),
             (cc_py, "n = int(input())\nprint(n * n, n)\n")]
    results = run_items(sandbox, items + wrong, Limits(wall_time_s=10, memory_mb=512))
    for (task, _), pairs in zip(items, results[: len(items)]):
        for test, result in pairs:
            assert passed(test, result), f"{task.id} {test.id}: {result.status} {result.stderr[-300:]}"
    for (task, _), pairs in zip(wrong, results[len(items):]):
        assert not all(passed(t, r) for t, r in pairs), f"a wrong solution passes {task.id}"


# ---- load_dataset routing -----------------------------------------------------------------

def test_load_dataset_routes_by_keys_and_format(tmp_path: Path) -> None:
    assert [t.id for t in load_dataset(FIX / "mbpp.jsonl")] == ["mbpp/11", "mbpp/12", "mbpp/14"]
    assert load_dataset(str(FIX / "apps.jsonl"))[1].entry_point == "maxProduct"
    assert load_dataset(FIX / "codecontests.jsonl", language="java")[1].language == "java"
    assert len(load_dataset(FIX / "apps_dirs")) == 2
    assert len(load_dataset("humaneval", limit=3)) == 3
    lib = load_dataset("library:python:easy")
    assert lib and all(t.language == "python" and t.tier == "easy" for t in lib)
    assert all(t.category == "parsing" for t in load_dataset("library:rust:parsing"))
    assert len(load_dataset("library")) >= 60
    with pytest.raises(InputError, match="unknown library filter 'expert'"):
        load_dataset("library:expert")
    with pytest.raises(InputError, match="two tier filters"):
        load_dataset("library:easy:hard")
    with pytest.raises(InputError, match="unknown dataset 'nope'.*humaneval, library"):
        load_dataset("nope")
    with pytest.raises(InputError, match="unknown dataset format 'csv'"):
        load_dataset(FIX / "mbpp.jsonl", format="csv")
    with pytest.raises(DatasetError, match="line 1: id: missing"):  # forced format is honoured
        load_dataset(FIX / "mbpp.jsonl", format="tasks")
    samples = _write(tmp_path / "s.jsonl", [{"task_id": "a", "completion": "b"}])
    with pytest.raises(InputError, match="sample file"):
        load_dataset(samples)
    odd = _write(tmp_path / "o.jsonl", [{"foo": 1}])
    with pytest.raises(InputError, match=r"cannot tell the dataset format from the keys \(foo\)"):
        load_dataset(odd)
    with pytest.raises(InputError, match="limit"):
        load_dataset("library", limit=-1)


# ---- Hugging Face Hub ---------------------------------------------------------------------

def test_hf_converts_rows_with_the_same_converters(monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = pytest.importorskip("datasets")
    rows = [json.loads(line) for line in (FIX / "mbpp.jsonl").read_text().splitlines()]
    calls = []

    def fake_load(name, config=None, split=None, **kw):
        calls.append((name, config, split))
        return datasets.Dataset.from_list(rows)

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    tasks = load_dataset("hf:google-research-datasets/mbpp", split="train")
    assert calls == [("google-research-datasets/mbpp", None, "train")]
    assert tasks == load_mbpp(FIX / "mbpp.jsonl")
    assert len(load_hf("x/y", limit=1)) == 1


def test_hf_offline_is_a_clear_dataset_error(monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = pytest.importorskip("datasets")

    def offline(*a, **k):
        raise ConnectionError("Couldn't reach 'x/y' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DatasetError, match="cannot load Hugging Face dataset 'x/y'.*seems to be offline"):
        load_hf("hf:x/y")
    with pytest.raises(InputError, match="empty Hugging Face dataset name"):
        load_hf("hf:")


def test_hf_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from codeeval_rl.errors import MissingDependency

    monkeypatch.setitem(sys.modules, "datasets", None)  # import now fails
    with pytest.raises(MissingDependency, match=r"codeeval-rl\[hf\]"):
        load_hf("x/y")
