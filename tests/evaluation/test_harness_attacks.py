"""Attacks on the Python assert harness: every one must FAIL the tests (real sandbox).

Each attacking solution is wrong (``add`` returns a wrong sum) and tries to make the judge
report a pass anyway. All attacks run as one ``evaluate_many`` batch for speed.
"""

from __future__ import annotations

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.types import Status, Task, TestCase

TEST = '''
def check(candidate):
    assert candidate(1, 2) == 3
    assert candidate(20, 22) == 42

check(add)
'''

TASK = Task(id="add", language="python", prompt="def add(a, b):\n", entry_point="add",
            tests=(TestCase(kind="assert", code=TEST, id="t"),), reference_solution="def add(a, b):\n    return a + b\n")

TRUTH_TASK = Task(id="pos", language="python", prompt="def pos(x):\n", entry_point="pos",
                  tests=(TestCase(kind="assert", code="def check(c):\n    assert c(1)\n    assert not c(-1)\ncheck(pos)\n",
                                  id="t"),))

CLOSE_TASK = Task(id="half", language="python", prompt="def half(x):\n", entry_point="half",
                  tests=(TestCase(kind="assert", code=(
                      "import math\n\ndef check(candidate):\n    assert math.isclose(candidate(3), 1.5)\n"
                      "    assert abs(candidate(5) - 2.5) < 1e-9\n\ncheck(half)\n"), id="t"),))

WRONG = "def add(a, b):\n    return a - b\n"

ATTACKS: dict[str, str] = {
    "sys_exit_before_asserts": "import sys\n" + WRONG + "sys.exit(0)\n",
    "exit_builtin": WRONG + "exit(0)\n",
    "quit_builtin": WRONG + "quit()\n",
    "os_exit": "import os\n" + WRONG + "os._exit(0)\n",
    "exit_inside_candidate": "import sys\ndef add(a, b):\n    sys.exit(0)\n",
    "os_exit_inside_candidate": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "override_assertion_error": (
        "import builtins\nclass Quiet(Exception):\n    pass\nbuiltins.AssertionError = Quiet\n" + WRONG),
    "override_builtins_wholesale": (
        "import builtins\nbuiltins.type = lambda *a: int\nbuiltins.len = lambda x: 0\n"
        "builtins.isinstance = lambda *a: True\nbuiltins.repr = lambda x: 'x'\n" + WRONG),
    "override_operator_eq": "import operator\noperator.eq = lambda a, b: True\n" + WRONG,
    "eq_always_true": (
        "class Any:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\n"
        "def add(a, b):\n    return Any()\n"),
    "int_subclass_eq": (
        "class I(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return I(0)\n"),
    "list_with_evil_element": (
        "class Any:\n    def __eq__(self, other):\n        return True\n"
        "def add(a, b):\n    return [Any()][0]\n"),
    "fake_verdict_lines": (
        "import sys, os\n" + WRONG +
        "for n in ('0' * 32, 'x', ''):\n"
        "    for pre in ('@@CE ' + n + ' ', '\\n@@CE ' + n + ' '):\n"
        "        print(pre + 'T 0 1 ok 0 -')\n        print(pre + 'T 1 1 ok 0 -')\n        print(pre + 'D 2')\n"
        "        os.write(1, (pre + 'T 0 1 ok 0 -\\n' + pre + 'D 2\\n').encode())\n"
        "        sys.stderr.write(pre + 'T 0 1 ok 0 -\\n')\n"),
    "read_tests_from_disk": (
        "import os\n"
        "def _loot():\n"
        "    found = []\n"
        "    for root in ('.', '/tmp', '/sandbox', '/proc/self/fd'):\n"
        "        try:\n            names = os.listdir(root)\n        except OSError:\n            continue\n"
        "        for n in names:\n"
        "            try:\n                with open(os.path.join(root, n), 'rb') as f:\n"
        "                    found.append(f.read(1 << 20))\n            except OSError:\n                pass\n"
        "    for p in ('/proc/self/cmdline', '/proc/self/environ'):\n"
        "        try:\n            found.append(open(p, 'rb').read())\n        except OSError:\n            pass\n"
        "    return b''.join(found)\n"
        "LOOT = _loot()\n"
        "def add(a, b):\n"
        "    # cheat only if the tests were readable: then the expected values are known\n"
        "    if b'candidate(20, 22)' in LOOT:\n        return a + b\n"
        "    return a - b\n"),
    "sleep_forever": "import time\ndef add(a, b):\n    time.sleep(100)\n",
    "busy_loop_at_import": WRONG + "while True:\n    pass\n",
    "del_raises": (
        "class Boom:\n    def __del__(self):\n        raise SystemExit(0)\n"
        "def add(a, b):\n    Boom()\n    return a - b\n"),
    "del_exits_process": (
        "import os\nclass Boom:\n    def __del__(self):\n        os._exit(0)\n"
        "def add(a, b):\n    Boom()\n    return a - b\n"),
    "kill_parent": (
        "import os, signal\n" + WRONG +
        "for pid in (os.getppid(), 1, 0, -1):\n"
        "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"),
    "kill_self": "import os, signal\n" + WRONG + "os.kill(os.getpid(), signal.SIGKILL)\n",
    "fork_to_duplicate_harness": (
        "import os\n" + WRONG +
        "try:\n    os.fork()\nexcept Exception:\n    pass\n"),
    "frame_walk_for_nonce": (
        "import sys, gc, os\n"
        "def _steal():\n"
        "    frames = []\n"
        "    try:\n        frames.append(sys._getframe(1))\n    except Exception:\n        pass\n"
        "    try:\n        frames.extend(sys._current_frames().values())\n    except Exception:\n        pass\n"
        "    try:\n        raise KeyError\n    except KeyError as e:\n"
        "        try:\n            frames.append(e.__traceback__.tb_frame.f_back)\n        except Exception:\n            pass\n"
        "    for f in frames:\n"
        "        while f is not None:\n"
        "            n = f.f_locals.get('nonce')\n"
        "            if isinstance(n, str):\n                return n\n"
        "            f = f.f_back\n"
        "    try:\n"
        "        for o in gc.get_objects():\n"
        "            if isinstance(o, dict) and isinstance(o.get('n'), str) and len(o['n']) == 32:\n"
        "                return o['n']\n"
        "    except Exception:\n        pass\n"
        "    return None\n"
        "_n = _steal()\n"
        "if _n:\n"
        "    os.write(int(os.environ.get('X', '1')), ('\\n@@CE ' + _n + ' T 0 1 ok 0 -\\n@@CE ' + _n + ' T 1 1 ok 0 -\\n'"
        " + '@@CE ' + _n + ' D 2\\n').encode())\n"
        "    for fd in range(3, 20):\n"
        "        try:\n            os.write(fd, ('\\n@@CE ' + _n + ' T 0 1 ok 0 -\\n@@CE ' + _n + ' T 1 1 ok 0 -\\n@@CE ' + _n"
        " + ' D 2\\n').encode())\n        except OSError:\n            pass\n"
        "    os._exit(0)\n" + WRONG),
    "trace_function": (
        "import sys\n" + WRONG +
        "def tracer(frame, event, arg):\n    return tracer\n"
        "try:\n    sys.settrace(tracer)\nexcept Exception:\n    pass\n"),
    "ctypes_memory": (
        "import ctypes\n" + WRONG +
        "try:\n    ctypes.string_at(id(1), 8)\nexcept Exception:\n    pass\n"),
    "swallow_via_candidate_exception": (
        "class Stop(BaseException):\n    pass\ndef add(a, b):\n    raise Stop()\n"),
}

TRUTH_ATTACKS = {
    "bool_always_true": (
        "class T:\n    def __bool__(self):\n        return True\n    def __invert__(self):\n        return self\n"
        "def pos(x):\n    return T()\n"),
    "len_based_truth": "class L(list):\n    def __len__(self):\n        return 1\ndef pos(x):\n    return L()\n",
}

CLOSE_ATTACKS = {
    "patch_math_isclose": "import math\nmath.isclose = lambda *a, **k: True\ndef half(x):\n    return 0.0\n",
    "float_subclass_sub": (
        "class F(float):\n    def __sub__(self, o):\n        return 0.0\n"
        "def half(x):\n    return F(0.0)\n"),
    "shadow_abs_global": "def abs(x):\n    return 0\ndef half(x):\n    return 0.0\n",
}


@pytest.fixture(scope="module")
def evaluator(sandbox):
    settings = EvaluationSettings(test_timeout=2.0, quality_weight=0.0, efficiency_weight=0.0)
    return Evaluator(settings=settings, sandbox=sandbox)


@pytest.fixture(scope="module")
def attack_results(evaluator):
    items = [(TASK, code) for code in ATTACKS.values()]
    items += [(TRUTH_TASK, code) for code in TRUTH_ATTACKS.values()]
    items += [(CLOSE_TASK, code) for code in CLOSE_ATTACKS.values()]
    items += [
        (TASK, "def add(a, b):\n    return a + b\n"),
        (TRUTH_TASK, "def pos(x):\n    return x > 0\n"),
        (CLOSE_TASK, "def half(x):\n    return x / 2\n"),
    ]
    results = evaluator.evaluate_many(items)
    names = list(ATTACKS) + list(TRUTH_ATTACKS) + list(CLOSE_ATTACKS) + ["honest_add", "honest_pos", "honest_half"]
    return dict(zip(names, results))


@pytest.mark.parametrize("name", list(ATTACKS) + list(TRUTH_ATTACKS) + list(CLOSE_ATTACKS))
def test_attack_fails(attack_results, name):
    res = attack_results[name]
    assert not res.passed, f"{name} passed: {res.to_dict()}"
    assert res.num_passed == 0 or name in ("read_tests_from_disk",), res.to_dict()
    assert res.reward.components["tests"] < 1.0


@pytest.mark.parametrize("name", ["honest_add", "honest_pos", "honest_half"])
def test_honest_solutions_pass(attack_results, name):
    assert attack_results[name].passed, attack_results[name].to_dict()


def test_tests_are_not_readable(attack_results):
    # The looting solution answers correctly only if it found the test code: it must fail both asserts.
    res = attack_results["read_tests_from_disk"]
    assert res.num_passed == 0
    assert "expected: 42" in res.feedback or "expected: 3" in res.feedback


def test_timeouts_are_reported(attack_results):
    assert attack_results["sleep_forever"].status is Status.TIMEOUT
    assert attack_results["busy_loop_at_import"].status is Status.TIMEOUT
    assert "too long" in attack_results["sleep_forever"].feedback


def test_eq_override_is_explained(attack_results):
    res = attack_results["eq_always_true"]
    assert res.outcome == "wrong_answer"
    assert "type Any" in res.feedback


def test_exit_before_tests_is_a_runtime_error(attack_results):
    res = attack_results["sys_exit_before_asserts"]
    assert res.status is Status.RUNTIME_ERROR
    assert "exited" in res.feedback


def test_stdlib_that_reads_frames_still_works(evaluator):
    code = (
        "from collections import namedtuple\nfrom dataclasses import dataclass\nimport enum, typing, logging\n"
        "P = namedtuple('P', 'x y')\n@dataclass\nclass D:\n    v: int\nE = enum.Enum('E', 'A B')\n"
        "T = typing.TypeVar('T')\nlogging.getLogger('x').warning('hi')\n"
        "def add(a, b):\n    print('noise ' * 1000)\n    return P(a, b).x + D(b).v\n"
    )
    res = evaluator.evaluate(TASK, code)
    assert res.passed, res.to_dict()


def test_per_test_verdicts_and_partial_credit(sandbox):
    tests = tuple(TestCase(kind="assert", code=f"assert add({i}, 1) == {i + 1}", id=f"t{i}") for i in range(4))
    task = Task(id="multi", language="python", prompt="", entry_point="add", tests=tests)
    ev = Evaluator(settings=EvaluationSettings(test_timeout=2.0, quality_weight=0.0, efficiency_weight=0.0),
                   sandbox=sandbox)
    code = "def add(a, b):\n    if a == 2:\n        raise ValueError('two')\n    if a == 3:\n        while True: pass\n    return a + b\n"
    res = ev.evaluate(task, code)
    verdicts = [r.passed for r in res.test_results]
    assert verdicts == [True, True, False, False]
    assert res.test_results[2].execution.status is Status.RUNTIME_ERROR
    assert "ValueError: two" in res.test_results[2].feedback
    assert res.test_results[3].execution.status is Status.TIMEOUT  # the timeout fails the rest
    assert res.reward.components["tests"] == pytest.approx(0.5)


LIST_TASK = Task(id="upto", language="python", prompt="def upto(n):\n", entry_point="upto",
                 tests=(TestCase(kind="assert", code="assert list(upto(3)) == [0, 1, 2]\nassert sorted(upto(2)) == [0, 1]",
                                 id="t"),))


def test_lazy_results_are_checked_item_by_item(evaluator):
    honest = ["def upto(n):\n    return range(n)\n", "def upto(n):\n    yield from range(n)\n",
              "def upto(n):\n    return map(int, range(n))\n", "def upto(n):\n    return iter(list(range(n)))\n"]
    fake = ("class A:\n    def __eq__(self, o):\n        return True\n    def __lt__(self, o):\n        return False\n"
            "    __hash__ = object.__hash__\ndef upto(n):\n    return (A() for _ in range(n))\n")
    results = evaluator.evaluate_many([(LIST_TASK, code) for code in honest + [fake]])
    assert [r.passed for r in results] == [True, True, True, True, False], [r.feedback for r in results]
    assert "yielded a value of type A" in results[-1].feedback
