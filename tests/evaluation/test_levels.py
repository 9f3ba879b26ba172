"""The five levels' formulas, on hand-computed cases."""

from __future__ import annotations

import pytest

from codeeval_rl.config import CodeQualitySettings
from codeeval_rl.evaluation.efficiency import Figures, efficiency_score
from codeeval_rl.evaluation.execution import EXECUTION_SCORES, execution_score, submission_outcome
from codeeval_rl.evaluation.quality import quality_reports
from codeeval_rl.evaluation.syntax import compiler_syntax_score, python_syntax
from codeeval_rl.evaluation.testscore import tests_score as weighted_fraction
from codeeval_rl.types import ExecutionResult, Status, TestCase, TestResult


def tr(passed: bool, status: Status = Status.OK) -> TestResult:
    return TestResult("t", passed, ExecutionResult(status=status))


def test_python_syntax_is_graded_by_line():
    assert python_syntax("x = 1\n")[0] == 1.0
    score, msg = python_syntax("a = 1\nb = 2\nc = 3\nd = (\n")
    assert score == pytest.approx(3 / 4) and "line 4" in msg
    assert python_syntax("def f(:\n    pass\n")[0] == 0.0
    assert python_syntax("x = '\0'\x00")[0] == 0.0


def test_compiler_syntax_uses_position_and_count():
    code = "\n".join(f"line{i}" for i in range(10))
    out = "main.cpp:6:3: error: expected ';' before '}' token\nmain.cpp:8:1: error: x\n"
    score, errors, first = compiler_syntax_score(out, code)
    assert (errors, first) == (2, 6)
    assert score == pytest.approx((5 / 10) / 2)
    rust = "error: expected one of\n --> main.rs:3:5\n  |\n"
    assert compiler_syntax_score(rust, code)[2] == 3
    assert compiler_syntax_score("something broke", code)[0] == 0.0


def test_execution_classes():
    assert execution_score(submission_outcome([tr(True), tr(True)])) == 1.0
    assert execution_score(submission_outcome([tr(True), tr(False)])) == 0.7
    assert execution_score(submission_outcome([tr(False, Status.TIMEOUT)])) == 0.4
    assert execution_score(submission_outcome([tr(False, Status.RUNTIME_ERROR), tr(False)])) == 0.4
    assert execution_score(submission_outcome([tr(False, Status.COMPILE_ERROR)])) == 0.0
    assert EXECUTION_SCORES["compile_error"] < EXECUTION_SCORES["runtime_error"] < EXECUTION_SCORES["wrong_answer"]


def test_tests_score_is_weighted():
    tests = [TestCase(kind="io", weight=1), TestCase(kind="io", weight=3)]
    assert weighted_fraction(tests, [tr(True), tr(False)]) == pytest.approx(0.25)
    assert weighted_fraction(tests, [tr(False), tr(True)]) == pytest.approx(0.75)
    zero = [TestCase(kind="io", weight=0)] * 2
    assert weighted_fraction(zero, [tr(True), tr(False)]) == 0.5


def test_efficiency_against_reference():
    ref = Figures(cpu_time_s=0.005, peak_memory_bytes=4 << 20)
    assert efficiency_score(ref, ref) == 1.0
    slow = Figures(cpu_time_s=0.015, peak_memory_bytes=12 << 20)
    # time (5+5)/(15+5) = 0.5; memory (4+4)/(12+4) = 0.5
    assert efficiency_score(slow, ref) == pytest.approx(0.5)
    assert efficiency_score(Figures(0.0, 0), ref) == 1.0  # faster than the reference is capped at 1
    assert efficiency_score(slow, None) == 1.0


def test_quality_penalises_style_complexity_and_security():
    clean = 'def add(a, b):\n    """Add."""\n    return a + b\n'
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(30))
    messy = "import os\ndef f(x):\n" + branches + "\n    return eval(x)  \n"
    good, bad = quality_reports([("python", clean, ""), ("python", messy, "")],
                                CodeQualitySettings(max_complexity=10))
    assert good.score == 1.0, good
    assert bad.parts["complexity"] == pytest.approx(10 / 31)  # 30 ifs + 1
    assert bad.parts["security"] < 1.0 and bad.parts["style"] < 1.0
    assert any("F401" in f for f in bad.findings)
    off = quality_reports([("python", messy, "")], CodeQualitySettings(enable_pep8=False, security_checks=False))[0]
    assert set(off.parts) == {"complexity"}


def test_quality_other_languages_uses_lizard_and_warnings():
    code = "int f(int x){ if (x) return 1; return 0; }\nint main(){ return f(1); }\n"
    rep = quality_reports([("cpp", code, "main.cpp:1: warning: unused\n")], CodeQualitySettings())[0]
    assert rep.parts["complexity"] == 1.0
    assert rep.parts["warnings"] == 0.5
