"""Parsing of harness records and the loader's fallback to compiling the harness source."""

from __future__ import annotations

from dataclasses import replace

from codeeval_rl.evaluation import judge
from codeeval_rl.types import ExecutionResult, Status, TestCase

N = "ab" * 16


def test_only_lines_with_the_nonce_count_and_done_is_required():
    out = (f"@@CE {'cd' * 16} T 0 1 ok 5 -\n@@CE {N} T 0 1 ok 5 -\n@@CE {N} T 1 0 assert 7 {'x'.encode().hex()}\n"
           f"@@CE {N} D 2\n")
    rec = judge.parse_harness_output(out, N, 2)
    assert rec.done and rec.tests[0].passed and not rec.tests[1].passed and rec.tests[1].message == "x"
    assert not judge.parse_harness_output(out.replace(f"@@CE {N} D 2\n", ""), N, 2).done


def test_a_failing_record_wins_over_a_passing_one():
    out = f"@@CE {N} T 0 0 assert 1 -\n@@CE {N} T 0 1 ok 1 -\n@@CE {N} D 1\n"
    assert not judge.parse_harness_output(out, N, 1).tests[0].passed


def test_missing_verdict_takes_the_run_status():
    tests = [TestCase(kind="assert", code="assert 1", id="a"), TestCase(kind="assert", code="assert 1", id="b")]
    run = ExecutionResult(status=Status.TIMEOUT, stdout=f"@@CE {N} T 0 1 ok 3 -\n", reason="wall time")
    a, b = judge.judge_python_asserts(run, N, tests)
    assert a.passed and not b.passed and b.execution.status is Status.TIMEOUT


def test_loader_falls_back_to_the_source_when_bytecode_does_not_fit(sandbox):
    tests = [TestCase(kind="assert", code="assert f() == 2", id="a")]
    program, nonce = judge.python_assert_program("def f():\n    return 2\n", tests)
    head, rest = program.stdin.split("\n", 1)
    _, n_code, n_src = head.split(" ")
    broken = replace(program, stdin=f"cpython-0 {n_code} {n_src}\n{rest}")
    for prog in (program, broken):
        (verdict,) = judge.judge_python_asserts(sandbox.run(prog), nonce, tests)
        assert verdict.passed, verdict


def test_the_harness_travels_only_when_the_sandbox_did_not_preload_it():
    from codeeval_rl.evaluation import judge
    from codeeval_rl.types import TestCase

    tests = [TestCase(kind="assert", code="assert f() == 1", id="t")]
    full, _ = judge.python_assert_program("def f():\n    return 1\n", tests)
    light, _ = judge.python_assert_program("def f():\n    return 1\n", tests, preloaded=True)
    assert full.source == light.source
    assert light.stdin.split("\n", 1)[0].endswith(" 0 0") and len(light.stdin) < 1000 < len(full.stdin)
