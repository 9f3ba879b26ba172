"""MBPP (Austin et al., 2021) from its published JSONL (``mbpp.jsonl``, ``sanitized-mbpp.json``
rows written as JSONL).

A record: ``task_id`` (int), ``text`` (the problem; ``prompt`` in the sanitized split),
``code`` (reference), ``test_list`` (assert strings), ``test_setup_code`` (string, often
empty), ``challenge_test_list`` (more asserts, often empty). Each assert becomes one
``assert``-kind test whose code is ``test_setup_code`` then the assert (the sanitized
split's ``test_imports``, a list of import lines, come first when present). The prompt is the
problem text followed by the first assert (MBPP's own prompting shows tests so the model
learns the function name); that first test is public, the rest (and the challenge tests)
hidden. ``entry_point`` is the function the first assert calls.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from typing import Any

from codeeval_rl.data._jsonl import iter_jsonl
from codeeval_rl.data._records import Problems, convert_lines
from codeeval_rl.types import Task, TestCase

__all__ = ["MBPP_KEYS", "load_mbpp", "mbpp_record_to_task", "mbpp_tests"]

MBPP_KEYS = ("task_id", "code", "test_list")
_BUILTINS = frozenset({"set", "list", "sorted", "tuple", "abs", "round", "len", "str", "int", "float",
                       "isclose", "frozenset", "dict", "sum", "max", "min", "all", "any", "map", "bool"})


def _called_function(assert_src: str) -> str:
    """Name of the first function an assert statement calls (``""`` if none)."""
    try:
        tree = ast.parse(assert_src)
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id not in _BUILTINS):
            return node.func.id
    return ""


def mbpp_tests(rec: Mapping[str, Any], p: Problems) -> tuple[tuple[TestCase, ...], str]:
    """The tests of one MBPP record and the function they call, from ``test_list``,
    ``challenge_test_list`` (optional) and ``test_setup_code`` (optional; the sanitized
    split's ``test_imports`` list is set up the same way). Problems go to ``p`` and give
    ``((), "")``."""
    setup = p.string(rec, "test_setup_code", required=False)
    imports = rec.get("test_imports") or []
    if not isinstance(imports, list) or not all(isinstance(x, str) for x in imports):
        p.add("test_imports", "must be a list of import statements")
        imports = []
    setup = "\n".join(part for part in (*imports, setup) if part.strip())
    asserts: list[str] = []
    bad = len(p.items)
    for key, required in (("test_list", True), ("challenge_test_list", False)):
        value = rec.get(key, None if required else [])
        if value is None:
            if required:
                p.add(key, "missing")
            continue
        if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
            p.add(key, "must be a list of non-empty assert strings")
            continue
        if required and not value:
            p.add(key, "must hold at least one assert")
        asserts.extend(value)
    if len(p.items) > bad or not asserts:
        return (), ""
    entry = _called_function(asserts[0])
    if not entry:
        p.add("test_list[0]", f"calls no function: {asserts[0]!r}")
        return (), ""
    tests = tuple(TestCase(kind="assert", code=(setup + "\n" + a if setup else a), id=f"test{i}")
                  for i, a in enumerate(asserts))
    return tests, entry


def mbpp_record_to_task(rec: dict[str, Any]) -> Task:
    """One MBPP record -> Task (``RecordError`` names each bad field)."""
    p = Problems()
    task_id = rec.get("task_id")
    if task_id is None:
        p.add("task_id", "missing")
    elif isinstance(task_id, bool) or not isinstance(task_id, (int, str)):
        p.add("task_id", f"must be an integer or string, got {type(task_id).__name__}")
    text = p.string(rec, "text", required=False) or p.string(rec, "prompt", required=False)
    if not text.strip():
        p.add("text", "missing (neither text nor prompt given)")
    code = p.string(rec, "code", nonempty=True)
    tests, entry = mbpp_tests(rec, p)
    p.check()
    prompt = f"{text.strip()}\nYour code should pass this test:\n{rec['test_list'][0].strip()}\n"
    return Task(
        id=f"mbpp/{task_id}", language="python", prompt=prompt, entry_point=entry, tests=tests,
        public_test_ids=(tests[0].id,), reference_solution=code, tier="easy", category="mbpp",
        provenance={"source": "google-research/mbpp", "licence": "CC-BY-4.0", "task_id": str(task_id)},
    )


def load_mbpp(path: str | os.PathLike[str], *, limit: int | None = None) -> list[Task]:
    """Load an MBPP JSONL file (gzip allowed); every bad line and field is reported at once."""
    tasks = convert_lines(path, iter_jsonl(path), mbpp_record_to_task)
    return tasks if limit is None else tasks[: max(limit, 0)]
