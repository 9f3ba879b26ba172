"""Dispatch order: programs that can run away go to the sandbox first; nothing else changes."""

from __future__ import annotations

import random

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.evaluation.schedule import dispatch_order, has_unbounded_loop
from codeeval_rl.sandbox import FakeSandbox
from codeeval_rl.types import ExecutionResult, Status, Task, TestCase


@pytest.mark.parametrize("code", [
    "n = int(input())\nwhile n > 1:\n    n //= 2\n",                       # python
    "while True: pass",
    "let i = 0; do { i++; } while (i < 3);",                             # javascript do-while
    "for (;;) { if (x) break; }",                                        # c / c++ / java / js
    "for( ; ; ){}",
    "fn main() { loop { break; } }",                                     # rust
    "fn main() { while i < 3 { i += 1; } }",
    "class Main { void f() { while(true) {} } }",
])
def test_unbounded_loops_are_seen(code):
    assert has_unbounded_loop(code)


@pytest.mark.parametrize("code", [
    "for x in range(10):\n    print(x)\n",
    "def f(n):\n    return 1 if n == 0 else n * f(n - 1)\n",
    "for (int i = 0; i < n; i++) { s += i; }",
    "meanwhile = 1\nwhile_count = 2\nprint(meanwhile + while_count)\n",
    "for x in xs: loop_count += 1",
    "",
])
def test_bounded_code_is_not(code):
    assert not has_unbounded_loop(code)


def test_dispatch_order_is_a_stable_partition():
    rng = random.Random(7)
    pool = ["print(1)", "while x: x -= 1", "for i in range(3): pass", "for (;;) {}"]
    for _ in range(200):
        codes = [rng.choice(pool) for _ in range(rng.randint(0, 30))]
        order = dispatch_order(codes)
        assert sorted(order) == list(range(len(codes)))
        flags = [has_unbounded_loop(codes[i]) for i in order]
        assert flags == sorted(flags, reverse=True)  # every looping program before the others
        for group in (True, False):
            kept = [i for i in order if has_unbounded_loop(codes[i]) is group]
            assert kept == sorted(kept)  # input order within each group


TASK = Task(
    id="echo", language="python", prompt="Print the input.",
    tests=(TestCase(kind="io", stdin="1\n", expected_stdout="1\n", id="a"),
           TestCase(kind="io", stdin="2\n", expected_stdout="2\n", id="b")),
    reference_solution="print(input())\n",
)
CODES = [
    "print(input())",
    "x = input()\nwhile False:\n    pass\nprint(x)",
    "print('wrong')",
    "import sys\nfor line in sys.stdin:\n    print(line.strip())",
    "while True:\n    pass",
]


def _responder(program, limits):
    if program.source.startswith("while True"):
        return ExecutionResult(status=Status.TIMEOUT, reason="wall time limit exceeded")
    if "wrong" in program.source:
        return ExecutionResult(status=Status.OK, exit_code=0, stdout="wrong\n")
    return ExecutionResult(status=Status.OK, exit_code=0, stdout=program.stdin)


@pytest.mark.parametrize("loops_first", [True, False])
def test_evaluator_sends_looping_programs_first_and_keeps_results_in_input_order(loops_first):
    settings = EvaluationSettings(quality_weight=0.0, efficiency_weight=0.0, loops_first=loops_first)
    fake = FakeSandbox(_responder)
    reported = {}
    results = Evaluator(settings, sandbox=fake).evaluate_many(
        [(TASK, c) for c in CODES], tests="all", on_result=lambda i, r: reported.setdefault(i, r))
    sent = [p.source for p, _ in fake.calls]
    assert sorted(sent) == sorted(c for c in CODES for _ in TASK.tests)  # every test of every program, once
    if loops_first:
        assert sent[:4] == [CODES[1], CODES[1], CODES[4], CODES[4]]
        assert sent[4:] == [c for c in (CODES[0], CODES[2], CODES[3]) for _ in TASK.tests]
    else:
        assert sent == [c for c in CODES for _ in TASK.tests]
    assert [r.passed for r in results] == [True, True, False, True, False]
    assert results[4].status is Status.TIMEOUT
    assert reported == dict(enumerate(results))
