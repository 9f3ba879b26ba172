"""APPS (Hendrycks et al., 2021) from local files: the Hugging Face-style JSONL or the
original problem directories.

JSONL record: ``problem_id``, ``question``, ``solutions`` (a JSON *string* holding a list of
programs, or a list), ``input_output`` (a JSON string or object ``{"inputs": [...],
"outputs": [...], "fn_name"?: str}``), ``difficulty`` (introductory | interview |
competition), ``starter_code``, ``url``. A problem directory holds ``question.txt``,
``input_output.json``, optionally ``solutions.json``, ``metadata.json`` (difficulty, url)
and ``starter_code.py``; its name is the problem id.

Standard-input problems become ``io`` tests with ``compare="float"`` (APPS strips the
output and then accepts float closeness; an input or output given as a list of lines is
joined with newlines, as APPS's ``testing_util`` does). Call-based problems (``fn_name``)
become ``assert`` tests that call the function (or ``Solution().fn_name`` for LeetCode-style
starter code) with the decoded argument list and accept the output itself or, as APPS does,
its first element when the expected value is a list. The first test is public when there
are two or more. Difficulty maps to tiers: introductory -> easy, interview -> medium,
competition -> hard.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codeeval_rl.data._jsonl import iter_jsonl
from codeeval_rl.data._records import Problems, convert_all, convert_lines
from codeeval_rl.errors import DatasetError
from codeeval_rl.types import Task, TestCase

__all__ = ["APPS_TIERS", "apps_call_test", "apps_record_to_task", "apps_solutions", "apps_tests", "load_apps"]

APPS_TIERS = {"introductory": "easy", "interview": "medium", "competition": "hard"}


def apps_call_test(fn_name: str, args: list[Any], expected: Any) -> str:
    """Assert code for one call-based APPS test (JSON values decoded inside the program).

    The function is ``Solution().<fn_name>`` when the solution defines a ``Solution`` class
    (LeetCode-style starter code), else ``<fn_name>``. The class is fetched by its name as a
    string: a test that names a solution-defined callable has its results checked as built-in
    values, and an instance of ``Solution`` is not one. The result is accepted when it equals
    the expected value or, as APPS does, its first element; a tuple counts as a list. The
    final check is one ``in`` comparison, which the evaluation harness runs only on built-in
    values, so the method's result cannot pass through a custom ``__eq__``.
    """
    return (
        "import json as _json\n"
        f"_args = _json.loads({json.dumps(args)!r})\n"
        f"_expected = _json.loads({json.dumps(expected)!r})\n"
        f"_f = globals()['Solution']().{fn_name} if 'Solution' in globals() else {fn_name}\n"
        "_got = _f(*_args)\n"
        "if isinstance(_got, tuple):\n"
        "    _got = list(_got)\n"
        "_accepted = [_expected] + ([_expected[0]] if isinstance(_expected, list) and len(_expected) > 0 else [])\n"
        "assert _got in _accepted, "
        f"'{fn_name}(' + repr(_args)[1:-1] + ') returned ' + repr(_got) + ', expected ' + repr(_expected)\n"
    )


def _decode(value: Any, field: str, p: Problems) -> Any:
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            p.add(field, f"invalid JSON inside the string: {exc.msg} (column {exc.colno})")
            return None
    return value


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return "\n".join(value)
    return None


def apps_tests(input_output: Any, p: Problems, field: str = "input_output") -> tuple[tuple[TestCase, ...], str]:
    """The tests of one APPS/TACO problem and its ``fn_name`` (``""`` for standard input), from
    ``input_output`` as published: a JSON string or an object ``{"inputs": [...], "outputs":
    [...], "fn_name"?: str}``. Problems go to ``p`` (named after ``field``) and give ``((), "")``."""
    bad = len(p.items)
    io = _decode(input_output, field, p)
    tests: list[TestCase] = []
    fn_name = ""
    if isinstance(io, dict):
        inputs, outputs = io.get("inputs"), io.get("outputs")
        fn_name = io.get("fn_name") or ""
        if not isinstance(inputs, list) or not isinstance(outputs, list):
            p.add(field, "must hold lists 'inputs' and 'outputs'")
        elif len(inputs) != len(outputs):
            p.add(field, f"{len(inputs)} inputs but {len(outputs)} outputs")
        elif not inputs:
            p.add(field, "holds no tests")
        elif not isinstance(fn_name, str) or (fn_name and not fn_name.isidentifier()):
            p.add(f"{field}.fn_name", f"{fn_name!r} is not a Python identifier")
        elif fn_name:
            for i, (args, out) in enumerate(zip(inputs, outputs)):
                if not isinstance(args, list):
                    p.add(f"{field}.inputs[{i}]", "must be a list of arguments for a call-based problem")
                    continue
                tests.append(TestCase(kind="assert", code=apps_call_test(fn_name, args, out), id=f"test{i}"))
        else:
            for i, (inp, out) in enumerate(zip(inputs, outputs)):
                stdin, expected = _as_text(inp), _as_text(out)
                if stdin is None or expected is None:
                    p.add(f"{field}[{i}]", "standard-input tests need strings (or lists of lines)")
                    continue
                tests.append(TestCase(kind="io", stdin=stdin, expected_stdout=expected, compare="float",
                                      id=f"test{i}"))
    elif io is not None:
        p.add(field, f"must be an object, got {type(io).__name__}")
    elif len(p.items) == bad:
        p.add(field, "is empty: this problem has no tests")
    if len(p.items) > bad:
        return (), ""
    return tuple(tests), fn_name if isinstance(fn_name, str) else ""


def apps_solutions(value: Any, p: Problems) -> list[str]:
    """The programs of a ``solutions`` field (a JSON string holding a list, or a list)."""
    solutions = _decode(value, "solutions", p) or []
    if not isinstance(solutions, list) or not all(isinstance(s, str) for s in solutions):
        p.add("solutions", "must be a list of program strings")
        return []
    return solutions


def apps_record_to_task(rec: dict[str, Any]) -> Task:
    """One APPS record -> Task (``RecordError`` names each bad field)."""
    p = Problems()
    pid = rec.get("problem_id", rec.get("id"))
    if pid is None or isinstance(pid, bool) or not isinstance(pid, (int, str)):
        p.add("problem_id", "missing" if pid is None else f"must be an integer or string, got {type(pid).__name__}")
    question = p.string(rec, "question", nonempty=True)
    starter = p.string(rec, "starter_code", required=False)
    difficulty = p.string(rec, "difficulty", required=False, default="interview") or "interview"
    if difficulty not in APPS_TIERS:
        p.add("difficulty", f"{difficulty!r} is not one of {', '.join(APPS_TIERS)}")
    solutions = apps_solutions(rec.get("solutions", []), p)
    if "input_output" in rec:
        tests, fn_name = apps_tests(rec["input_output"], p)
    else:
        p.add("input_output", "missing")
        tests, fn_name = (), ""
    p.check()
    mode = "Use Call-Based format" if fn_name else "Use Standard Input format"
    prompt = question.rstrip() + "\n" + (f"\n{starter.rstrip()}\n" if starter.strip() else "") + f"\n{mode}\n"
    provenance = {"source": "hendrycks/apps", "licence": "MIT", "problem_id": str(pid), "difficulty": difficulty}
    if isinstance(rec.get("url"), str):
        provenance["url"] = rec["url"]
    return Task(
        id=f"apps/{pid}", language="python", prompt=prompt, entry_point=fn_name, tests=tests,
        public_test_ids=(tests[0].id,) if len(tests) >= 2 else (),
        reference_solution=solutions[0] if solutions else "", tier=APPS_TIERS[difficulty],
        category="apps", provenance=provenance,
    )


def _read_problem_dir(d: Path) -> dict[str, Any]:
    rec: dict[str, Any] = {"problem_id": d.name}
    for name, key in (("question.txt", "question"), ("input_output.json", "input_output"),
                      ("solutions.json", "solutions"), ("starter_code.py", "starter_code")):
        f = d / name
        if f.is_file():
            try:
                rec[key] = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise DatasetError(f"{f}: cannot read: {exc}") from None
    meta = d / "metadata.json"
    if meta.is_file():
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{meta}: cannot read: {exc}") from None
        if isinstance(data, dict):
            rec.update({k: data[k] for k in ("difficulty", "url") if k in data})
    return rec


def _problem_dirs(root: Path) -> Iterator[tuple[str, Any]]:
    if (root / "question.txt").is_file():
        yield str(root), _read_problem_dir(root)
        return
    dirs = sorted((d for d in root.iterdir() if d.is_dir() and (d / "question.txt").is_file()),
                  key=lambda d: (len(d.name), d.name))
    if not dirs:
        raise DatasetError(f"{root}: no APPS problem directories (with question.txt) found")
    for d in dirs:
        yield d.name, _read_problem_dir(d)


def load_apps(path: str | os.PathLike[str], *, limit: int | None = None) -> list[Task]:
    """Load APPS from a JSONL file (gzip allowed), a problem directory or a directory of them."""
    root = Path(path).expanduser()
    if root.is_dir():
        tasks = convert_all(root, _problem_dirs(root), apps_record_to_task)
    else:
        tasks = convert_lines(root, iter_jsonl(root), apps_record_to_task)
    return tasks if limit is None else tasks[: max(limit, 0)]
