"""Shared helpers: text out of completions, and ad-hoc tasks from test columns."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.types import Task, TestCase

__all__ = ["completion_text", "task_from_asserts", "task_from_io"]


def completion_text(completion: Any) -> str:
    """A completion as text: a string as it is; a list of chat messages: the assistant turns' content."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        parts = []
        for m in completion:
            if not isinstance(m, Mapping) or "content" not in m:
                raise InputError(f"a conversational completion must be a list of message dicts, got {m!r:.80}")
            if m.get("role", "assistant") == "assistant":
                parts.append(str(m["content"]))
        return "\n".join(parts)
    raise InputError(f"completion must be a string or a list of messages, got {type(completion).__name__}")


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def task_from_asserts(tests: Any, *, prompt: str = "", entry_point: str = "", language: str = "python",
                      source: str = "adhoc") -> Task:
    """A task whose tests are assert statements: a list of strings, one string (one assert per
    line), or a JSON list."""
    if isinstance(tests, str):
        stripped = tests.strip()
        if stripped.startswith("["):
            try:
                tests = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise InputError(f"tests column is not a valid JSON list: {exc}") from None
        else:
            tests = [line for line in tests.splitlines() if line.strip()]
    if not isinstance(tests, Sequence) or not tests or not all(isinstance(t, str) for t in tests):
        raise InputError("tests must be a non-empty list of assert statements")
    cases = tuple(TestCase(kind="assert", code=t, id=f"t{i}") for i, t in enumerate(tests))
    return Task(id=f"{source}/{_digest(list(tests), entry_point)}", language=language, prompt=prompt,
                entry_point=entry_point, tests=cases, provenance={"source": source})


def task_from_io(inputs: Sequence[Any], outputs: Sequence[Any], *, fn_name: str | None = None,
                 language: str = "python", source: str = "adhoc", max_tests: int | None = None) -> Task:
    """An APPS/TACO-shaped task: stdin/stdout pairs, or, with ``fn_name``, argument lists and
    return values (call-based; an expected value wrapped in a one-item list also matches, as in APPS)."""
    if len(inputs) != len(outputs):
        raise InputError(f"ground truth has {len(inputs)} inputs but {len(outputs)} outputs")
    if not inputs:
        raise InputError("ground truth has no tests")
    pairs = list(zip(inputs, outputs))[:max_tests] if max_tests else list(zip(inputs, outputs))
    cases = []
    for i, (inp, out) in enumerate(pairs):
        if fn_name:
            args = inp if isinstance(inp, list) else [inp]
            call = f"{fn_name}(*{args!r})"
            code = f"_r = {call}\nassert _r == {out!r} or [_r] == {out!r} or (isinstance(_r, tuple) and list(_r) == {out!r})"
            cases.append(TestCase(kind="assert", code=code, id=f"t{i}"))
        else:
            stdin = inp if isinstance(inp, str) else "\n".join(map(str, inp))
            expected = out if isinstance(out, str) else "\n".join(map(str, out))
            cases.append(TestCase(kind="io", stdin=stdin, expected_stdout=expected, compare="tokens", id=f"t{i}"))
    return Task(id=f"{source}/{_digest(pairs, fn_name)}", language=language, prompt="",
                entry_point=fn_name or "", tests=tuple(cases), provenance={"source": source})
