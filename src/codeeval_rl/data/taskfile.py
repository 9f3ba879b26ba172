"""The Task JSONL format: one :class:`~codeeval_rl.types.Task` per line, strictly validated.

A line is a JSON object with these keys (see ``docs/datasets.md`` for an example):

============== ======== ===============================================================
key            required value
============== ======== ===============================================================
id             yes      non-empty string, unique in the file
language       yes      python, javascript, java, cpp, c or rust
prompt         yes      non-empty string
tests          yes      non-empty list of test objects (below), ids unique in the task
entry_point    no       string; for Python, empty or an identifier (the function tested)
public_test_ids no      list of test ids shown to the model; the rest are hidden
reference_solution no   string: a complete solution (for assert tests, the code the
                        test code is appended to)
tier           no       easy, medium (default) or hard
category       no       string
context        no       string: documentation/API text given with the prompt
provenance     no       object of string values; ``source`` (and ideally ``licence``)
runtime        no       runtime profile the task's programs run in (``python-datascience``,
                        ``node``, ``java``; its language must be the task's); empty or absent:
                        the one the command chooses (``--profile``), else none
wrong_solutions no      list of strings: known-wrong solutions (not part of the Task;
                        read with :func:`read_wrong_solutions`)
============== ======== ===============================================================

A test object: ``id`` (non-empty string), ``kind`` (``"assert"`` or ``"io"``), ``weight``
(positive number, default 1). ``assert``: ``code`` (non-empty), run after the solution.
``io``: ``stdin`` (string, default empty), ``expected_stdout`` (string, required),
``compare`` (``exact`` default, ``tokens`` or ``float``; see :mod:`codeeval_rl.data.compare`).
Keys not listed are errors, so a typo (``expected_output``) never passes silently.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from codeeval_rl.data._jsonl import iter_jsonl, write_jsonl
from codeeval_rl.data._records import Problems, RecordError, convert_lines
from codeeval_rl.data.compare import COMPARE_MODES
from codeeval_rl.errors import DatasetError
from codeeval_rl.sandbox.languages import LANGUAGES
from codeeval_rl.types import Task, TestCase

__all__ = [
    "TASK_KEYS",
    "TEST_KEYS",
    "TIERS",
    "read_tasks",
    "read_wrong_solutions",
    "task_from_dict",
    "task_to_dict",
    "validate_task_file",
    "write_tasks",
]

TIERS = ("easy", "medium", "hard")
TASK_KEYS = ("id", "language", "prompt", "entry_point", "tests", "public_test_ids", "reference_solution",
             "tier", "category", "context", "provenance", "wrong_solutions", "runtime")
TEST_KEYS = ("id", "kind", "code", "stdin", "expected_stdout", "compare", "weight")
_REQUIRED = ("id", "language", "prompt", "tests")


def _test_from_dict(raw: Any, where: str, p: Problems) -> TestCase | None:
    if not isinstance(raw, dict):
        p.add(where, f"must be an object, got {type(raw).__name__}")
        return None
    before = len(p.items)
    for key in raw:
        if key not in TEST_KEYS:
            p.add(f"{where}.{key}", f"unknown field (known: {', '.join(TEST_KEYS)})")
    sub = Problems()
    tid = sub.string(raw, "id", nonempty=True)
    kind = sub.string(raw, "kind")
    if kind and kind not in ("assert", "io"):
        sub.add("kind", f"{kind!r} is not one of assert, io")
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight <= 0:
        sub.add("weight", f"must be a positive number, got {weight!r}")
    code = stdin = expected = ""
    compare = "exact"
    if kind == "assert":
        code = sub.string(raw, "code", nonempty=True)
        for key in ("stdin", "expected_stdout", "compare"):
            if key in raw:
                sub.add(key, "not allowed for an assert test")
    elif kind == "io":
        stdin = sub.string(raw, "stdin", required=False)
        expected = sub.string(raw, "expected_stdout")
        compare = sub.string(raw, "compare", required=False, default="exact") or "exact"
        if compare not in COMPARE_MODES:
            sub.add("compare", f"{compare!r} is not one of {', '.join(COMPARE_MODES)}")
        if "code" in raw:
            sub.add("code", "not allowed for an io test")
    for field, msg in sub.items:
        p.add(f"{where}.{field}", msg)
    if len(p.items) > before:
        return None
    return TestCase(kind=kind, code=code, stdin=stdin, expected_stdout=expected,  # type: ignore[arg-type]
                    compare=compare, weight=float(weight), id=tid)  # type: ignore[arg-type]


def task_from_dict(rec: Mapping[str, Any]) -> Task:
    """Validate one record and build its Task; :class:`RecordError` lists every problem."""
    p = Problems()
    if not isinstance(rec, Mapping):
        raise RecordError([("(record)", f"expected a JSON object, got {type(rec).__name__}")])
    for key in rec:
        if key not in TASK_KEYS:
            p.add(key, f"unknown field (known: {', '.join(TASK_KEYS)})")
    for key in _REQUIRED:
        if key not in rec:
            p.add(key, "missing")
    rec = dict(rec)
    tid = p.string(rec, "id", required=False, nonempty=True)
    language = p.string(rec, "language", required=False)
    if language and language not in LANGUAGES:
        p.add("language", f"{language!r} is not one of {', '.join(sorted(LANGUAGES))}")
    prompt = p.string(rec, "prompt", required=False, nonempty=True)
    entry_point = p.string(rec, "entry_point", required=False)
    if language == "python" and entry_point and not entry_point.isidentifier():
        p.add("entry_point", f"{entry_point!r} is not a Python identifier")
    reference = p.string(rec, "reference_solution", required=False)
    tier = p.string(rec, "tier", required=False, default="medium") or "medium"
    if tier not in TIERS:
        p.add("tier", f"{tier!r} is not one of {', '.join(TIERS)}")
    category = p.string(rec, "category", required=False)
    context = p.string(rec, "context", required=False)
    runtime = p.string(rec, "runtime", required=False)
    if runtime:
        from codeeval_rl.sandbox.profiles import PROFILES

        spec = PROFILES.get(runtime)
        if spec is None:
            p.add("runtime", f"{runtime!r} is not one of {', '.join(PROFILES)}")
        elif language in LANGUAGES and spec.language != language:
            p.add("runtime", f"{runtime!r} is a {spec.language} profile; this task is {language}")

    tests: list[TestCase] = []
    raw_tests = rec.get("tests")
    if "tests" in rec:
        if not isinstance(raw_tests, list):
            p.add("tests", f"must be a list, got {type(raw_tests).__name__}")
        elif not raw_tests:
            p.add("tests", "must hold at least one test")
        else:
            ids: set[str] = set()
            for i, raw in enumerate(raw_tests):
                test = _test_from_dict(raw, f"tests[{i}]", p)
                if test is None:
                    continue
                if test.id in ids:
                    p.add(f"tests[{i}].id", f"duplicate test id {test.id!r}")
                ids.add(test.id)
                tests.append(test)

    public: list[str] = []
    raw_public = rec.get("public_test_ids", [])
    if not isinstance(raw_public, list) or not all(isinstance(x, str) for x in raw_public):
        p.add("public_test_ids", "must be a list of strings")
    else:
        known = {t.id for t in tests}
        for i, x in enumerate(raw_public):
            if x in public:
                p.add(f"public_test_ids[{i}]", f"duplicate {x!r}")
            elif isinstance(raw_tests, list) and len(tests) == len(raw_tests) and x not in known:
                p.add(f"public_test_ids[{i}]", f"{x!r} names no test of this task")
            public.append(x)

    provenance: dict[str, str] = {}
    raw_prov = rec.get("provenance", {})
    if not isinstance(raw_prov, dict):
        p.add("provenance", f"must be an object, got {type(raw_prov).__name__}")
    else:
        for k, v in raw_prov.items():
            if not isinstance(v, str):
                p.add(f"provenance.{k}", f"must be a string, got {type(v).__name__}")
            else:
                provenance[k] = v

    wrong = rec.get("wrong_solutions", [])
    if not isinstance(wrong, list) or not all(isinstance(x, str) and x.strip() for x in wrong):
        p.add("wrong_solutions", "must be a list of non-empty strings")
    p.check()
    return Task(id=tid, language=language, prompt=prompt, entry_point=entry_point, tests=tuple(tests),
                public_test_ids=tuple(public), reference_solution=reference, tier=tier, category=category,
                context=context, provenance=provenance, runtime=runtime)


def task_to_dict(task: Task, wrong_solutions: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON object of ``task`` (defaults written out, so lines are self-describing)."""
    tests = []
    for t in task.tests:
        d: dict[str, Any] = {"id": t.id, "kind": t.kind}
        if t.kind == "assert":
            d["code"] = t.code
        else:
            d.update(stdin=t.stdin, expected_stdout=t.expected_stdout, compare=t.compare)
        if t.weight != 1.0:
            d["weight"] = t.weight
        tests.append(d)
    out: dict[str, Any] = {
        "id": task.id, "language": task.language, "prompt": task.prompt, "entry_point": task.entry_point,
        "tests": tests, "public_test_ids": list(task.public_test_ids),
        "reference_solution": task.reference_solution, "tier": task.tier, "category": task.category,
        "context": task.context, "provenance": dict(task.provenance),
    }
    if task.runtime:
        out["runtime"] = task.runtime
    wrong = list(wrong_solutions)
    if wrong:
        out["wrong_solutions"] = wrong
    return out


def read_tasks(path: str | os.PathLike[str]) -> list[Task]:
    """Read a Task JSONL file (``.jsonl`` or ``.jsonl.gz``).

    Raises one :class:`DatasetError` naming file, line number and field of every problem
    in the file (up to 50 shown, with the total count).
    """
    return convert_lines(path, iter_jsonl(path), task_from_dict)


def validate_task_file(path: str | os.PathLike[str]) -> tuple[int, list[str]]:
    """``(number of valid tasks, every problem as "line N: field: message")`` without raising
    for problems inside the file (unreadable files still raise :class:`DatasetError`)."""
    try:
        return len(read_tasks(path)), []
    except DatasetError as exc:
        errors = getattr(exc, "errors", None)
        if errors is None:
            raise
        return 0, list(errors)


def read_wrong_solutions(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Task id -> its ``wrong_solutions`` (only tasks that have some), file validated first."""
    read_tasks(path)
    out: dict[str, list[str]] = {}
    for line in iter_jsonl(path):
        wrong = line.value.get("wrong_solutions")
        if wrong:
            out[line.value["id"]] = list(wrong)
    return out


def write_tasks(path: str | os.PathLike[str], tasks: Iterable[Task],
                wrong_solutions: Mapping[str, Iterable[str]] | None = None) -> int:
    """Write tasks as JSONL (gzip for ``.gz``); return the count.

    Every task is validated as :func:`read_tasks` would, before anything is written, so a
    written file always reads back; :class:`DatasetError` names the task and field.
    """
    wrong_solutions = wrong_solutions or {}
    records = []
    errors: list[str] = []
    seen: set[str] = set()
    for i, task in enumerate(tasks):
        if not isinstance(task, Task):
            errors.append(f"task {i}: expected a Task, got {type(task).__name__}")
            continue
        rec = task_to_dict(task, wrong_solutions.get(task.id, ()))
        try:
            task_from_dict(rec)
        except RecordError as exc:
            errors.extend(f"task {i} ({task.id!r}): {f}: {m}" for f, m in exc.problems)
            continue
        if task.id in seen:
            errors.append(f"task {i}: id: duplicate {task.id!r}")
        seen.add(task.id)
        records.append(rec)
    if errors:
        raise DatasetError(f"cannot write {path}:\n" + "\n".join(f"  {e}" for e in errors))
    return write_jsonl(path, records)
