"""One benchmark row -> Task, so that a training dataset's rows can be scored as they are.

Training data usually keeps each problem in the shape of the benchmark it came from. The
format of a row is told by which test columns it has (a column holding ``None`` counts as
absent, as in a dataset that mixes formats and so fills the other formats' columns with
nulls), and its tests are built by the file loaders' own functions, so a row gets exactly
the tests that loading the same record from a file gives. Only the test columns are
required; ids, statements and difficulty may be missing or in any shape. :data:`ROW_FORMATS`,
the first match wins:

==============  ==========================================  ============================================
format          the row has                                 tests
==============  ==========================================  ============================================
humaneval       ``test`` and ``entry_point``                one assert test, ``test`` (which must define
                                                            ``check(candidate)``) then
                                                            ``check(<entry_point>)``; a string ``prompt``
                                                            is the code the completion continues
mbpp            ``test_list``                               one assert per ``test_list`` and
                                                            ``challenge_test_list`` item, after
                                                            ``test_setup_code`` (and ``test_imports``)
apps            ``input_output`` (APPS, TACO)               stdin/stdout (``float`` compare) or, with
                                                            ``fn_name``, calls of that function
io              ``inputs`` and ``outputs``                  the same, the ``input_output`` object itself
                                                            (veRL's ground truth)
codecontests    ``public_tests``, ``private_tests`` or      stdin/stdout, ``float`` compare (tokens,
                ``generated_tests``                         numbers within 1e-5)
==============  ==========================================  ============================================

The Task's id is ``<format>/<digest>`` of the columns its conversion reads, so equal rows
get equal ids. Its reference solution is the row's own where it has one (HumanEval
``prompt + canonical_solution``, MBPP ``code``, the first APPS solution, the first
CodeContests solution in ``language``). ``language`` is the language of stdin/stdout rows
(apps without ``fn_name``, io, codecontests); the other rows are Python. The prompt of a
non-HumanEval row is left empty: a statement is not code for the completion to continue.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from codeeval_rl.data._records import Problems, RecordError
from codeeval_rl.data.apps import apps_solutions, apps_tests
from codeeval_rl.data.codecontests import codecontests_reference, codecontests_tests
from codeeval_rl.data.humaneval import humaneval_check
from codeeval_rl.data.mbpp import mbpp_tests
from codeeval_rl.errors import InputError
from codeeval_rl.types import Task

__all__ = ["ROW_FORMATS", "RowFormat", "accepted_row_columns", "row_columns", "row_format", "row_key",
           "task_from_row"]

_DEFINES_CHECK = re.compile(r"^def[ \t]+check[ \t]*\(", re.MULTILINE)


def _humaneval(row: Mapping[str, Any], language: str) -> Task:
    p = Problems()
    test = p.string(row, "test", nonempty=True)
    entry = p.string(row, "entry_point", nonempty=True)
    if entry.strip() and not entry.isidentifier():
        p.add("entry_point", f"{entry!r} is not a Python identifier")
    if test.strip() and not _DEFINES_CHECK.search(test):
        p.add("test", "defines no check(candidate) function")
    p.check()
    prompt = row.get("prompt")
    prompt = prompt if isinstance(prompt, str) else ""
    canonical = row.get("canonical_solution")
    reference = prompt + canonical if prompt and isinstance(canonical, str) and canonical.strip() else ""
    return Task(id="", language="python", prompt=prompt, entry_point=entry, tests=(humaneval_check(test, entry),),
                reference_solution=reference, category="humaneval")


def _mbpp(row: Mapping[str, Any], language: str) -> Task:
    p = Problems()
    tests, entry = mbpp_tests(row, p)
    p.check()
    code = row.get("code")
    return Task(id="", language="python", prompt="", entry_point=entry, tests=tests,
                public_test_ids=(tests[0].id,), reference_solution=code if isinstance(code, str) else "",
                category="mbpp")


def _apps_task(input_output: Any, row: Mapping[str, Any], language: str, field: str) -> Task:
    p = Problems()
    tests, fn_name = apps_tests(input_output, p, field)
    p.check()
    lang = "python" if fn_name else language
    # A malformed solutions field only loses the reference (efficiency then counts 1).
    solutions = apps_solutions(row.get("solutions", []), Problems()) if lang == "python" else []
    return Task(id="", language=lang, prompt="", entry_point=fn_name, tests=tests,
                public_test_ids=(tests[0].id,) if len(tests) >= 2 else (),
                reference_solution=solutions[0] if solutions else "", category="apps")


def _apps(row: Mapping[str, Any], language: str) -> Task:
    return _apps_task(row["input_output"], row, language, "input_output")


def _io(row: Mapping[str, Any], language: str) -> Task:
    io = {k: row[k] for k in ("inputs", "outputs", "fn_name") if k in row}
    return _apps_task(io, row, language, "inputs/outputs")


def _codecontests(row: Mapping[str, Any], language: str) -> Task:
    p = Problems()
    tests, public = codecontests_tests(row, p)
    p.check()
    return Task(id="", language=language, prompt="", tests=tests, public_test_ids=public,
                reference_solution=codecontests_reference(row, Problems(), language), category="codecontests")


@dataclass(frozen=True)
class RowFormat:
    """A benchmark's row shape: the columns that identify it (all of ``required``, and one
    of ``any_of`` when given), the columns its conversion reads, and the conversion
    ``(row, language) -> Task`` (id left empty; ``RecordError`` for a bad row)."""

    name: str
    label: str
    required: tuple[str, ...]
    any_of: tuple[str, ...]
    reads: tuple[str, ...]
    convert: Callable[[Mapping[str, Any], str], Task]

    def matches(self, row: Mapping[str, Any]) -> bool:
        return (all(_has(row, c) for c in self.required)
                and (not self.any_of or any(_has(row, c) for c in self.any_of)))

    @property
    def columns(self) -> str:
        """The identifying columns as a reader would write them (``test + entry_point``)."""
        return " + ".join(self.required) if self.required else " / ".join(self.any_of)


ROW_FORMATS: tuple[RowFormat, ...] = (
    RowFormat("humaneval", "HumanEval", ("test", "entry_point"), (),
              ("prompt", "test", "entry_point", "canonical_solution"), _humaneval),
    RowFormat("mbpp", "MBPP", ("test_list",), (),
              ("test_list", "challenge_test_list", "test_setup_code", "test_imports", "code"), _mbpp),
    RowFormat("apps", "APPS/TACO", ("input_output",), (), ("input_output", "solutions"), _apps),
    RowFormat("io", "APPS/TACO test object", ("inputs", "outputs"), (),
              ("inputs", "outputs", "fn_name", "solutions"), _io),
    RowFormat("codecontests", "CodeContests", (), ("public_tests", "private_tests", "generated_tests"),
              ("public_tests", "private_tests", "generated_tests", "solutions"), _codecontests),
)
"""The row formats, in the order they are tried."""


def _has(row: Mapping[str, Any], column: str) -> bool:
    return row.get(column) is not None


def row_columns(row: Mapping[str, Any]) -> str:
    """The row's columns that hold a value, comma-separated (for messages)."""
    return ", ".join(sorted(k for k, v in row.items() if v is not None)) or "none"


def accepted_row_columns() -> str:
    """The identifying columns of every row format, for messages."""
    return "; ".join(f"{f.columns} ({f.label})" for f in ROW_FORMATS)


def row_format(row: Mapping[str, Any]) -> RowFormat | None:
    """The first of :data:`ROW_FORMATS` whose identifying columns ``row`` has, else ``None``."""
    return next((f for f in ROW_FORMATS if f.matches(row)), None)


def row_key(row: Mapping[str, Any], fmt: RowFormat, language: str = "python") -> str:
    """A digest of what the conversion of ``row`` in ``fmt`` reads (equal keys, equal Tasks)."""
    parts = [fmt.name, language, [row.get(c) for c in fmt.reads]]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _row_name(row: Mapping[str, Any]) -> str:
    for key in ("task_id", "problem_id", "name", "id"):
        value = row.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return f" {value!r}"
    return ""


def task_from_row(row: Mapping[str, Any], *, language: str = "python", fmt: RowFormat | None = None) -> Task:
    """The Task of one benchmark row (format told by its columns, or ``fmt``).

    Raises :class:`InputError` in one line: naming the columns the row has and those each
    format needs when no format matches, or the bad columns of the format that matched.
    """
    if not isinstance(row, Mapping):
        raise InputError(f"a row must be a mapping of column names to values, got {type(row).__name__}")
    fmt = fmt or row_format(row)
    if fmt is None:
        raise InputError(f"cannot tell the benchmark format of a row with columns {row_columns(row)}; "
                         f"a row needs the test columns of one of: {accepted_row_columns()}")
    try:
        task = fmt.convert(row, language)
    except RecordError as exc:
        problems = "; ".join(f"{field}: {msg}" for field, msg in exc.problems)
        raise InputError(f"{fmt.label} row{_row_name(row)}: {problems}") from None
    source = {"source": f"row:{fmt.name}"}
    name = _row_name(row).strip()
    if name:
        source["row"] = name.strip("'")
    return replace(task, id=f"{fmt.name}/{row_key(row, fmt, language)[:16]}", provenance=source)
