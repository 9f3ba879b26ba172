"""More attacks on the Python assert harness (real sandbox): each wrong solution must FAIL.

These go after what the guards trust: the exact types a compared value may have.
"""

from __future__ import annotations

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.types import Task, TestCase

TASK = Task(id="add", language="python", prompt="def add(a, b):\n", entry_point="add",
            tests=(TestCase(kind="assert", code="def check(candidate):\n    assert candidate(1, 2) == 3\n"
                            "    assert candidate(20, 22) == 42\n\ncheck(add)\n", id="t"),))

# A metaclass whose __hash__ and __eq__ make the class look like int (or list) to a set lookup.
_META = "class M(type):\n    def __eq__(cls, other):\n        return True\n    def __hash__(cls):\n        return hash({base})\n"

ATTACKS = {
    "metaclass_poses_as_int": (
        _META.format(base="int")
        + "class Evil(metaclass=M):\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
        "def add(a, b):\n    return Evil()\n"),
    "metaclass_poses_as_list": (
        _META.format(base="list")
        + "class Evil(list, metaclass=M):\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
        "def add(a, b):\n    return Evil()\n"),
    "metaclass_element_in_a_list": (
        _META.format(base="int")
        + "class Evil(metaclass=M):\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
        "def add(a, b):\n    return [Evil()][0]\n"),
    "metaclass_poses_as_generator": (
        _META.format(base="type(x for x in ())")
        + "class Evil(metaclass=M):\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
        "def add(a, b):\n    return Evil()\n"),
}


@pytest.fixture(scope="module")
def results(sandbox):
    evaluator = Evaluator(settings=EvaluationSettings(test_timeout=2.0, quality_weight=0.0, efficiency_weight=0.0),
                          sandbox=sandbox)
    items = [(TASK, code) for code in ATTACKS.values()] + [(TASK, "def add(a, b):\n    return a + b\n")]
    return dict(zip([*ATTACKS, "honest"], evaluator.evaluate_many(items)))


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_fails(results, name):
    res = results[name]
    assert not res.passed and res.num_passed == 0, res.to_dict()
    assert "type Evil" in res.feedback


def test_honest_solution_passes(results):
    assert results["honest"].passed, results["honest"].to_dict()
