"""More attacks on the Python assert harness (real sandbox): each wrong solution must FAIL.

These go after what the guards trust (the exact types a compared value may have) and after
the harness module the sandbox preloads, which a solution can find in ``sys.modules``.
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


def _metaclass_attack(poses_as: str, returns: str, bases: str = "") -> str:
    """An always-equal ``Evil`` whose metaclass poses as ``poses_as``; ``add`` returns ``returns``."""
    head = f"class Evil({bases + ', ' if bases else ''}metaclass=M):\n"
    return (_META.format(base=poses_as) + head
            + "    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
            + f"def add(a, b):\n    return {returns}\n")


ATTACKS = {
    "metaclass_poses_as_int": _metaclass_attack("int", "Evil()"),
    "metaclass_poses_as_list": _metaclass_attack("list", "Evil()", bases="list"),
    "metaclass_element_in_a_list": _metaclass_attack("int", "[Evil()][0]"),
    "metaclass_poses_as_generator": _metaclass_attack("type(x for x in ())", "Evil()"),
    "rebind_the_harness_module": (
        "import sys\n"
        "class Evil:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
        "h = sys.modules['__codeeval_harness__']\n"
        "everything = frozenset([Evil, type(None), bool, int, float, complex, str, bytes, range, list, tuple, dict])\n"
        "h._ATOMS = h._SEQUENCES = h._MAPPINGS = everything\n"
        "h._SHARED = tuple(everything if isinstance(v, frozenset) else v for v in h._SHARED)\n"
        "h._start = h._main = h._read_stdin = lambda *a: None\n"
        "def add(a, b):\n    return Evil()\n"),
    "patch_the_harness_exceptions": (
        "class Evil:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
        "for cls in BaseException.__subclasses__():\n"
        "    if cls.__module__ == '__codeeval_harness__':\n"
        "        try:\n            cls.__bases__ = (Exception,)\n        except TypeError:\n            pass\n"
        "        cls.__new__ = lambda c, *a: None\n        cls.__init__ = lambda self, *a: None\n"
        "def add(a, b):\n    return a - b\n"),
    "fake_builtins_for_the_tests": (
        "import builtins, sys\n"
        "h = sys.modules['__codeeval_harness__']\n"
        "for d in (builtins.__dict__, getattr(h, '_PRISTINE_BUILTINS', {})):\n"
        "    d['abs'] = lambda x: 0\n"
        "def add(a, b):\n    return 0.5\n"),
}

CLOSE_TASK = Task(id="close", language="python", prompt="def add(a, b):\n", entry_point="add",
                  tests=(TestCase(kind="assert", code="assert abs(add(1, 2) - 3) < 1e-9\n", id="t"),))


@pytest.fixture(scope="module")
def results(sandbox):
    evaluator = Evaluator(settings=EvaluationSettings(test_timeout=2.0, quality_weight=0.0, efficiency_weight=0.0),
                          sandbox=sandbox)
    items = [(CLOSE_TASK if "builtins" in name else TASK, code) for name, code in ATTACKS.items()]
    items += [(TASK, "def add(a, b):\n    return a + b\n"), (TASK, PROBE)]
    return dict(zip([*ATTACKS, "honest", "probe"], evaluator.evaluate_many(items)))


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_fails(results, name):
    res = results[name]
    assert not res.passed and res.num_passed == 0, res.to_dict()
    if name.startswith("metaclass") or name == "rebind_the_harness_module":
        assert "type Evil" in res.feedback


# An honest solution that also reports what it can see of the preloaded harness module: the
# module is there, the tests' builtins are not.
PROBE = ("import sys\n"
         "SEEN = ('__codeeval_harness__' in sys.modules,\n"
         "        hasattr(sys.modules.get('__codeeval_harness__'), '_PRISTINE_BUILTINS'))\n"
         "def add(a, b):\n    return a + b if SEEN == (True, False) else 0\n")


def test_the_tests_builtins_are_out_of_the_solutions_reach(results):
    assert results["probe"].passed, results["probe"].to_dict()


def test_honest_solution_passes(results):
    assert results["honest"].passed, results["honest"].to_dict()
