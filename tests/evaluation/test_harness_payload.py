"""How the assert harness travels and starts: test bytecode compiled on the host, its fallback
to the test source, the loader for sandboxes without a preloaded harness, and the rules that
keep the preloaded module's shared values out of a solution's reach."""

from __future__ import annotations

import base64
import dis
import marshal
import subprocess
import sys
import types
from dataclasses import replace

import pytest

from codeeval_rl.evaluation import judge
from codeeval_rl.types import ExecutionResult, Program, Status, TestCase

# Passes only where the test code is compiled without inheriting ``from __future__ import
# annotations`` (this module has it): with it, the return annotation would be the string "None".
TEST = ("def g(a: int) -> None:\n    pass\n\nassert g.__annotations__['return'] is None\n"
        "assert f() == 2\n")
TESTS = [TestCase(kind="assert", code=TEST, id="a"), TestCase(kind="assert", code="assert f() + 1 == 3", id="b")]
RIGHT = "def f():\n    return 2\n"
WRONG = "def f():\n    return 1\n"


def _split(stdin: str) -> tuple[str, str]:
    head, rest = stdin.split("\n", 1)
    _, n_code, n_src = head.split(" ")
    cut = int(n_code) + int(n_src)
    return head + "\n" + rest[:cut], rest[cut:]


def _payload(program: Program) -> tuple:
    return marshal.loads(base64.b64decode(_split(program.stdin)[1]))


def _with_payload(program: Program, payload: tuple) -> Program:
    head, _ = _split(program.stdin)
    return replace(program, stdin=head + base64.b64encode(marshal.dumps(payload, 4)).decode("ascii"))


def _with_tag(program: Program, tag: str) -> Program:
    head, rest = program.stdin.split("\n", 1)
    return replace(program, stdin=" ".join([tag, *head.split(" ")[1:]]) + "\n" + rest)


def _verdicts(run, nonce: str) -> list[bool]:
    return [r.passed for r in judge.judge_python_asserts(run, nonce, TESTS)]


def test_test_bytecode_is_the_compiled_source():
    for code in (TEST, "import math\nassert math.isclose(f(), 2.0)", "x = [i for i in range(3)]\nassert x"):
        prepared = judge.rewrite_asserts(code)
        compiled = marshal.loads(prepared.bytecode)
        assert compiled == compile(prepared.source, "test.py", "exec", dont_inherit=True)
        assert compiled.co_filename == "test.py"


def test_a_test_the_compiler_refuses_has_no_bytecode_and_fails(sandbox):
    tests = [TestCase(kind="assert", code="return 1", id="r")]
    assert judge.rewrite_asserts("return 1").bytecode == b""
    program, nonce = judge.python_assert_program(RIGHT, tests)
    (verdict,) = judge.judge_python_asserts(sandbox.run(program), nonce, tests)
    assert not verdict.passed and "does not compile" in verdict.feedback


def test_source_fallback_when_the_tag_differs_or_the_bytecode_is_unreadable(sandbox):
    sandbox.preload(judge.HARNESS_MODULE, judge.HARNESS_SOURCE)
    runs = []
    for solution in (RIGHT, WRONG):
        for preloaded in (False, True):
            program, nonce = judge.python_assert_program(solution, TESTS, preloaded=preloaded)
            *values, tests, modules = _payload(program)
            garbled = _with_payload(program, (*values, [(s, b"\xff" + b[1:], n) for s, b, n in tests], modules))
            for variant in (program, _with_tag(program, "cpython-0"), garbled):
                runs.append((solution, variant, nonce))
    results = sandbox.run_many([p for _, p, _ in runs])
    for (solution, _, nonce), run in zip(runs, results):
        assert _verdicts(run, nonce) == ([True, True] if solution == RIGHT else [False, False]), run


@pytest.mark.parametrize("tag", [sys.implementation.cache_tag, "cpython-0"])
def test_the_loader_runs_a_carried_harness_without_a_sandbox_preload(tmp_path, tag):
    # A plain interpreter has no preloaded harness: the stub's loader takes it from stdin,
    # as bytecode when the tag fits, else compiling the source.
    for solution, expected in ((RIGHT, [True, True]), (WRONG, [False, False])):
        program, nonce = judge.python_assert_program(solution, TESTS)
        program = _with_tag(program, tag)
        proc = subprocess.run([sys.executable, "-I", "-S", "-c", program.source], input=program.stdin.encode(),
                              capture_output=True, cwd=tmp_path, timeout=60, check=False)
        run = ExecutionResult(status=Status.OK, exit_code=proc.returncode, stdout=proc.stdout.decode())
        assert _verdicts(run, nonce) == expected, proc


def _harness_module() -> types.ModuleType:
    module = types.ModuleType(judge.HARNESS_MODULE)
    exec(compile(judge.HARNESS_SOURCE, "harness.py", "exec", dont_inherit=True), module.__dict__)  # noqa: S102
    return module


def test_the_shared_values_cannot_be_changed_in_place():
    harness = _harness_module()
    for value in harness._SHARED:
        if isinstance(value, frozenset):
            assert all(isinstance(v, (type, str)) for v in value)
        elif isinstance(value, type) and issubclass(value, BaseException):
            assert value in (harness._Reject, harness._Failed)
            # no function whose __globals__ would lead back to the module
            assert not any(isinstance(v, types.FunctionType) for v in vars(value).values())
        else:
            assert isinstance(value, (types.ModuleType, types.BuiltinFunctionType)), value


_GLOBAL_OPS = {"LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME", "STORE_NAME", "DELETE_NAME",
               "IMPORT_NAME"}


def test_the_harness_looks_up_no_global_name_after_binding_its_own():
    module = compile(judge.HARNESS_SOURCE, "harness.py", "exec", dont_inherit=True)
    main = next(c for c in module.co_consts if isinstance(c, types.CodeType) and c.co_name == "_main")
    lines = judge.HARNESS_SOURCE.split("\n")
    bound = next(i for i, line in enumerate(lines, 1) if "(no global name is looked up below this line)" in line)
    late = []

    def walk(code: types.CodeType, top: bool) -> None:
        for ins in dis.get_instructions(code):
            if ins.opname in _GLOBAL_OPS:
                line = ins.positions.lineno if ins.positions else None
                if not top or line is None or line > bound:
                    late.append((code.co_name, ins.argval, line))
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                walk(const, False)

    walk(main, True)
    assert late == []
