"""Fenced-block extraction and HumanEval-style prompt + completion."""

from __future__ import annotations

from codeeval_rl.evaluation import completion_to_code, extract_code
from codeeval_rl.types import Task


def test_last_block_of_the_language_wins():
    text = "intro\n```python\nx = 1\n```\nthen\n```cpp\nint x;\n```\n```py\nx = 2\n```\nbye"
    assert extract_code(text, "python") == "x = 2\n"
    assert extract_code(text, "cpp") == "int x;\n"
    assert extract_code(text, "c++") == "int x;\n"


def test_untagged_block_then_raw_text():
    assert extract_code("```\nprint(1)\n```", "python") == "print(1)\n"
    assert extract_code("```js\nlet a;\n```\n```\nuntagged\n```", "python") == "untagged\n"
    assert extract_code("print(1)\n", "python") == "print(1)\n"
    assert extract_code("```js\nconsole.log(1)\n```", "javascript") == "console.log(1)\n"


def test_unterminated_fence_runs_to_the_end():
    assert extract_code("Here:\n```python\ndef f():\n    return 1\n", "python") == "def f():\n    return 1\n"


PROMPT = 'from typing import List\n\ndef helper(x):\n    return x\n\n\ndef f(xs: List[int]) -> int:\n    """Sum."""\n'
TASK = Task(id="t", language="python", prompt=PROMPT, entry_point="f")


def test_function_body_is_appended_to_the_prompt():
    assert completion_to_code(TASK, "    return sum(xs)\n") == PROMPT + "    return sum(xs)\n"


def test_redefinition_is_taken_alone_after_the_preamble():
    code = completion_to_code(TASK, "```python\ndef f(xs: List[int]) -> int:\n    return helper(sum(xs))\n```")
    assert code.startswith("from typing import List\n\ndef helper(x):")
    assert code.count("def f(") == 1
    assert code.endswith("return helper(sum(xs))\n")


def test_other_tasks_use_the_fenced_block():
    task = Task(id="c", language="cpp", prompt="Print 1.")
    assert completion_to_code(task, "```cpp\nint main(){}\n```") == "int main(){}\n"
