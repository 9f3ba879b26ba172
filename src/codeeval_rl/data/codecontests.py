"""CodeContests (Li et al., 2022, AlphaCode) from JSONL in the published schema.

A record: ``name``, ``description``, ``public_tests`` / ``private_tests`` /
``generated_tests`` (each ``{"input": [...], "output": [...]}``), ``solutions`` and
``incorrect_solutions`` (``{"language": [int], "solution": [str]}``, languages 1 = Python 2,
2 = C++, 3 = Python 3, 4 = Java), ``difficulty`` (int), ``cf_rating``, ``time_limit``
(``{"seconds", "nanos"}`` or null), ``memory_limit_bytes``, ``source``.

Every test is ``io`` with ``compare="float"``: CodeContests compares whitespace-separated
tokens, lower-cased, and accepts numbers within 1e-5. Test ids say where each came from
(``public0``, ``private3``, ``generated12``); the public tests are the public split.
``language`` picks the reference solution among the record's correct solutions (Python 3
for ``python``, C++ for ``cpp``, Java for ``java``); the Task gets that language. The time
and memory limits are kept in ``provenance`` (``time_limit_s``, ``memory_limit_bytes``).
Tiers come from ``cf_rating`` when positive (<= 1300 easy, <= 2000 medium, else hard), else
from ``difficulty`` (EASY and Codeforces A/B easy, MEDIUM and C/D medium, the rest hard).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from codeeval_rl.data._jsonl import iter_jsonl
from codeeval_rl.data._records import Problems, convert_lines
from codeeval_rl.errors import InputError
from codeeval_rl.types import Task, TestCase

__all__ = ["CC_LANGUAGES", "codecontests_record_to_task", "codecontests_reference", "codecontests_tests",
           "load_codecontests"]

CC_LANGUAGES = {"python": 3, "cpp": 2, "java": 4}
"""Our language name -> CodeContests' solution language code."""

_DIFFICULTY_TIER = {1: "easy", 2: "medium", 7: "easy", 8: "easy", 9: "medium", 10: "medium"}
_SPLITS = (("public_tests", "public"), ("private_tests", "private"), ("generated_tests", "generated"))


def _tier(rec: dict[str, Any]) -> str:
    rating = rec.get("cf_rating")
    if isinstance(rating, int) and not isinstance(rating, bool) and rating > 0:
        return "easy" if rating <= 1300 else "medium" if rating <= 2000 else "hard"
    diff = rec.get("difficulty")
    if isinstance(diff, int) and not isinstance(diff, bool) and diff > 0:
        return _DIFFICULTY_TIER.get(diff, "hard")
    return "medium"


def codecontests_tests(rec: Mapping[str, Any], p: Problems,
                       include_generated: bool = True) -> tuple[tuple[TestCase, ...], tuple[str, ...]]:
    """The tests of one CodeContests record and the ids of its public ones, from
    ``public_tests`` / ``private_tests`` / ``generated_tests`` (each optional, ``None`` counts
    as absent). Problems go to ``p``; a record with no test at all is one."""
    bad = len(p.items)
    tests: list[TestCase] = []
    public: list[str] = []
    for key, prefix in _SPLITS:
        if key not in rec or rec[key] is None:
            continue
        block = rec[key]
        if not isinstance(block, Mapping):
            p.add(key, f"must be an object with input and output lists, got {type(block).__name__}")
            continue
        ins, outs = block.get("input"), block.get("output")
        if not isinstance(ins, list) or not isinstance(outs, list):
            p.add(key, "must hold lists 'input' and 'output'")
            continue
        if len(ins) != len(outs):
            p.add(key, f"{len(ins)} inputs but {len(outs)} outputs")
            continue
        if key == "generated_tests" and not include_generated:
            continue
        for i, (a, b) in enumerate(zip(ins, outs)):
            if not isinstance(a, str) or not isinstance(b, str):
                p.add(f"{key}.input[{i}]", "inputs and outputs must be strings")
                continue
            tests.append(TestCase(kind="io", stdin=a, expected_stdout=b, compare="float", id=f"{prefix}{i}"))
            if prefix == "public":
                public.append(f"{prefix}{i}")
    if len(p.items) == bad and not tests:
        p.add("public_tests", "no tests in public_tests, private_tests or generated_tests")
    return tuple(tests), tuple(public)


def codecontests_reference(rec: Mapping[str, Any], p: Problems, language: str = "python") -> str:
    """The first correct solution of ``rec`` in ``language`` (``""`` if none, or for a language
    CodeContests has no solutions in); a malformed ``solutions`` field is a problem in ``p``."""
    sols = rec.get("solutions")
    if sols is None:
        return ""
    if (not isinstance(sols, Mapping) or not isinstance(sols.get("language"), list)
            or not isinstance(sols.get("solution"), list) or len(sols["language"]) != len(sols["solution"])):
        p.add("solutions", "must be {language: [int], solution: [str]} of equal lengths")
        return ""
    want = CC_LANGUAGES.get(language)
    for lang, code in zip(sols["language"], sols["solution"]):
        if lang == want and isinstance(code, str) and code.strip():
            return code
    return ""


def codecontests_record_to_task(rec: dict[str, Any], language: str = "python",
                                include_generated: bool = True) -> Task:
    """One CodeContests record -> Task (``RecordError`` names each bad field)."""
    p = Problems()
    name = p.string(rec, "name", nonempty=True)
    description = p.string(rec, "description", nonempty=True)
    tests, public = codecontests_tests(rec, p, include_generated)
    reference = codecontests_reference(rec, p, language)
    p.check()
    provenance = {"source": "deepmind/code_contests", "licence": "CC-BY-4.0", "name": name}
    limit = rec.get("time_limit")
    if isinstance(limit, dict):
        secs = (limit.get("seconds") or 0) + (limit.get("nanos") or 0) / 1e9
        if secs > 0:
            provenance["time_limit_s"] = f"{secs:g}"
    mem = rec.get("memory_limit_bytes")
    if isinstance(mem, int) and mem > 0:
        provenance["memory_limit_bytes"] = str(mem)
    return Task(
        id=f"codecontests/{name}", language=language, prompt=description, tests=tests,
        public_test_ids=public, reference_solution=reference, tier=_tier(rec),
        category="codecontests", provenance=provenance,
    )


def load_codecontests(path: str | os.PathLike[str], *, language: str = "python",
                      include_generated: bool = True, limit: int | None = None) -> list[Task]:
    """Load a CodeContests JSONL file (gzip allowed); all bad lines and fields reported at once.

    ``language`` (python, cpp or java) picks the reference solution and the Tasks' language;
    ``include_generated=False`` drops the (many) generated tests.
    """
    if language not in CC_LANGUAGES:
        raise InputError(f"language {language!r}: CodeContests has solutions in {', '.join(CC_LANGUAGES)}")
    tasks = convert_lines(path, iter_jsonl(path),
                          lambda rec: codecontests_record_to_task(rec, language, include_generated))
    return tasks if limit is None else tasks[: max(limit, 0)]
