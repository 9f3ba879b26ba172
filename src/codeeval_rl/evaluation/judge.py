"""The trusted judge: builds the programs that run a submission's tests and turns what they
did into per-test verdicts (:class:`~codeeval_rl.types.TestResult`).

A verdict never comes from an exit code alone:

* **io tests** (any language): the submission runs with the test's stdin; its stdout is
  compared on the host with :mod:`codeeval_rl.data.compare`. The expected output never
  enters the sandbox.
* **Python assert tests**: all of a task's asserts run as ONE sandbox program, the trusted
  harness (:mod:`codeeval_rl.evaluation._harness`, whose docstring lists its defences). The
  tests and a fresh random nonce travel on stdin; the host reads only the verdict lines
  carrying that nonce and requires the harness's ``done`` record. A test without a verdict
  failed: when the run timed out or crashed, the tests that had not finished fail with the
  run's status.
* **assert tests in other languages**: the test code is appended to the solution. For
  JavaScript an epilogue then echoes a nonce the program reads from stdin, so an early
  ``process.exit(0)`` fails; for the compiled languages the verdict is the clean exit of the
  combined program (weaker: a solution that exits 0 early passes; io tests are the strong
  form there).

Limits: the harness runs tests in the solution's own process, so it defends against what a
program does through Python's semantics (exits, rebinding builtins or modules, custom
``__eq__``/``__bool__``, fake output, reading files, forking, introspecting frames through
the audited APIs); a program that corrupts the interpreter's memory through a C-level bug is
outside what an in-process harness can stop (the sandbox still contains it).
"""

from __future__ import annotations

import ast
import base64
import marshal
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from codeeval_rl.data.compare import compare_output
from codeeval_rl.errors import InputError
from codeeval_rl.types import ExecutionResult, Program, Status, TestCase, TestResult

__all__ = [
    "HARNESS_MODULE",
    "HARNESS_SOURCE",
    "HarnessRecords",
    "PreparedTest",
    "failed_without_running",
    "io_program",
    "judge_io",
    "judge_python_asserts",
    "judge_script_assert",
    "parse_harness_output",
    "python_assert_program",
    "rewrite_asserts",
    "script_assert_program",
]

HARNESS_SOURCE = Path(__file__).with_name("_harness.py").read_text(encoding="utf-8")
"""The harness program (stdlib only)."""

HARNESS_MODULE = "__codeeval_harness__"
"""The name under which :class:`~codeeval_rl.evaluation.Evaluator` preloads the harness."""

# Loads a harness carried on stdin (see STUB_SOURCE), then runs it on the whole stdin.
_LOADER_SOURCE = f"""def _load():
    import binascii, marshal, os, sys
    chunks = []
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    data = b"".join(chunks)
    end = data.index(b"\\n")
    tag, n_code, n_src = data[:end].decode().split(" ")
    code_end = end + 1 + int(n_code)
    code = None
    if tag == sys.implementation.cache_tag:
        try:
            code = marshal.loads(binascii.a2b_base64(data[end + 1:code_end]))
        except Exception:
            code = None
    if code is None:
        code = compile(data[code_end:code_end + int(n_src)], "harness.py", "exec")
    scope = {{"__name__": {HARNESS_MODULE!r}}}
    exec(code, scope)
    scope["_start"](data)


_load()
"""

STUB_SOURCE = f"""import sys

if {HARNESS_MODULE!r} in sys.modules:
    sys.modules[{HARNESS_MODULE!r}]._start()
else:
    exec({_LOADER_SOURCE!r}, {{}})
"""
"""The program source of every Python assert run. The sandbox compiles a program's source in
every run, so this stays a few lines: when the sandbox preloaded the harness into its workers
(:meth:`Sandbox.preload <codeeval_rl.sandbox.Sandbox.preload>`), it calls the harness's
``_start``, which reads stdin (header ``<tag> 0 0``: nothing else is sent; a harness carried
on stdin anyway is skipped). Otherwise it runs :data:`_LOADER_SOURCE`, kept in a string so
that preloaded runs do not pay for compiling it (a few hundred microseconds): that reads
stdin whole and takes the harness from it, as bytecode compiled on the host (marshal, base64;
used only when the sandbox's Python has the host's ``cache_tag``) or else as source to
compile. Either way no run pays the ~8 ms of compiling the harness; a preloaded one also
skips receiving 170 KB (and importing the standard library's value-type modules, ~9 ms)."""


def _harness_blob() -> bytes:
    return base64.b64encode(marshal.dumps(compile(HARNESS_SOURCE, "harness.py", "exec", dont_inherit=True)))


_BLOB = _harness_blob()
_SOURCE_BYTES = HARNESS_SOURCE.encode("utf-8")
_HEADER = f"{sys.implementation.cache_tag} {len(_BLOB)} {len(_SOURCE_BYTES)}\n".encode()

_CMP = "__codeeval_cmp__"
_TRUTH = "__codeeval_truth__"
_SRC_MAX = 300


@dataclass(frozen=True)
class PreparedTest:
    """A Python assert test rewritten for the harness: its source, the names it loads
    (candidates for guarding), the modules it imports (restored before it runs), and its
    bytecode (``marshal`` of the compiled source, for a sandbox Python with the host's
    ``cache_tag``; empty when the source does not compile, so the harness reports that)."""

    source: str
    names: tuple[str, ...]
    modules: tuple[str, ...]
    bytecode: bytes = b""


def _contains_call(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


class _AssertRewriter(ast.NodeTransformer):
    """``assert a OP b`` -> ``__codeeval_cmp__(a, b, "OP", src, side)``; any other
    ``assert x`` -> ``__codeeval_truth__(x, src)``. Operands are evaluated in the same
    order as Python evaluates the comparison; the assert message is dropped (the harness
    writes its own, with the actual and expected values)."""

    _OPS: ClassVar[dict[type[ast.cmpop], str]] = {
        ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        src = ast.unparse(node.test)
        if len(src) > _SRC_MAX:
            src = src[:_SRC_MAX] + "..."
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in self._OPS:
            left, right = test.left, test.comparators[0]
            lc, rc = _contains_call(left), _contains_call(right)
            side = "left" if lc and not rc else "right" if rc and not lc else "left" if lc else ""
            call = ast.Call(func=ast.Name(_CMP, ast.Load()),
                            args=[left, right, ast.Constant(self._OPS[type(test.ops[0])]),
                                  ast.Constant(src), ast.Constant(side)], keywords=[])
        else:
            call = ast.Call(func=ast.Name(_TRUTH, ast.Load()), args=[test, ast.Constant(src)], keywords=[])
        return ast.copy_location(ast.Expr(call), node)


@lru_cache(maxsize=8192)
def rewrite_asserts(code: str) -> PreparedTest:
    """Rewrite a Python assert test for the harness (cached: a task's tests are constant).

    Raises :class:`InputError` when the test code itself does not parse (a dataset fault).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise InputError(f"test code does not parse: {exc.msg} (line {exc.lineno})") from None
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)})
    modules: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            modules.update(a.name.split(".")[0] for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            modules.add(n.module.split(".")[0])
    tree = ast.fix_missing_locations(_AssertRewriter().visit(tree))
    source = ast.unparse(tree)
    return PreparedTest(source=source, names=tuple(names), modules=tuple(sorted(modules)),
                        bytecode=_test_bytecode(source))


def _test_bytecode(source: str) -> bytes:
    """The test compiled as the harness would compile it (no inherited ``__future__``
    flags, asserts kept), marshalled; empty when it does not compile."""
    try:
        return marshal.dumps(compile(source, "test.py", "exec", dont_inherit=True, optimize=0))
    except (SyntaxError, ValueError):
        return b""


_PRELOADED_HEADER = f"{sys.implementation.cache_tag} 0 0\n"
_MARSHAL_VERSION = 4  # read by every Python since 3.4


def python_assert_program(solution: str, tests: Sequence[TestCase],
                          preloaded: bool = False) -> tuple[Program, str]:
    """The harness program running ``tests`` (all ``kind="assert"``) against ``solution``,
    and the nonce its verdict lines will carry. ``preloaded``: the sandbox's workers hold the
    harness as module :data:`HARNESS_MODULE`, so it is not sent. The payload after the header
    is base64 of ``marshal`` data (plain values only, in a format every Python since 3.4 reads),
    which the harness decodes in C instead of running a JSON parser."""
    prepared = [rewrite_asserts(t.code) for t in tests]
    nonce = secrets.token_hex(16)
    payload = (
        nonce,
        solution,
        [(p.source, p.bytecode, p.names) for p in prepared],
        tuple(sorted({m for p in prepared for m in p.modules})),
    )
    head = _PRELOADED_HEADER if preloaded else (_HEADER + _BLOB + _SOURCE_BYTES).decode("utf-8")
    stdin = head + base64.b64encode(marshal.dumps(payload, _MARSHAL_VERSION)).decode("ascii")
    return Program(language="python", source=STUB_SOURCE, stdin=stdin), nonce


@dataclass(frozen=True)
class TestRecord:
    """One ``T`` record: the harness's verdict for one test."""

    __test__ = False

    passed: bool
    kind: str
    cpu_s: float
    message: str


@dataclass(frozen=True)
class HarnessRecords:
    """What the harness reported, read from the lines carrying the run's nonce only."""

    tests: dict[int, TestRecord] = field(default_factory=dict)
    solution_failure: tuple[str, str] | None = None
    done: bool = False


def _unhex(text: str) -> str:
    if text == "-":
        return ""
    try:
        return bytes.fromhex(text).decode("utf-8", "replace")
    except ValueError:
        return ""


def parse_harness_output(stdout: str, nonce: str, num_tests: int) -> HarnessRecords:
    """Parse the verdict lines of one harness run. Lines without the nonce are ignored; a
    malformed record with the nonce is ignored too; when a test has several records (it
    cannot happen without a forged nonce), any failing one wins."""
    prefix = f"@@CE {nonce} "
    tests: dict[int, TestRecord] = {}
    failure = None
    done = False
    for line in stdout.split("\n"):
        if not line.startswith(prefix):
            continue
        parts = line[len(prefix):].split(" ")
        try:
            if parts[0] == "T" and len(parts) == 6:
                index = int(parts[1])
                if not 0 <= index < num_tests:
                    continue
                rec = TestRecord(parts[2] == "1" and parts[3] == "ok", parts[3], int(parts[4]) / 1e6,
                                 _unhex(parts[5]))
                old = tests.get(index)
                tests[index] = rec if old is None or not rec.passed else old
            elif parts[0] == "S" and len(parts) == 3:
                failure = (parts[1], _unhex(parts[2]))
            elif parts[0] == "D" and len(parts) == 2 and int(parts[1]) == num_tests:
                done = True
        except ValueError:
            continue
    return HarnessRecords(tests=tests, solution_failure=failure, done=done)


_KIND_STATUS = {"ok": Status.OK, "assert": Status.OK, "untrusted": Status.OK,
                "error": Status.RUNTIME_ERROR, "exit": Status.RUNTIME_ERROR,
                "compile": Status.COMPILE_ERROR}

_STATUS_FEEDBACK = {
    Status.TIMEOUT: "Execution took too long.",
    Status.MEMORY_LIMIT: "Out of memory.",
    Status.OUTPUT_LIMIT: "The program printed too much output.",
}


def _test_execution(run: ExecutionResult, status: Status, cpu_s: float, reason: str) -> ExecutionResult:
    """One test's execution record out of the harness run. A run that lacked a package
    (``missing_dependency``) passes that status and its ``missing`` list on to each test it
    failed with an error, so the verdict says which packages the profile lacks, never a
    runtime error of the program."""
    missing: tuple[str, ...] = ()
    if run.status is Status.MISSING_DEPENDENCY and status in (Status.RUNTIME_ERROR, Status.MISSING_DEPENDENCY):
        status, missing = Status.MISSING_DEPENDENCY, run.missing
        reason = run.reason or reason
    return ExecutionResult(status=status, exit_code=run.exit_code, stderr=run.stderr[-4000:],
                           wall_time_s=cpu_s if cpu_s else run.wall_time_s, cpu_time_s=cpu_s or run.cpu_time_s,
                           peak_memory_bytes=run.peak_memory_bytes, reason=reason, missing=missing)


def judge_python_asserts(run: ExecutionResult, nonce: str, tests: Sequence[TestCase]) -> list[TestResult]:
    """Per-test verdicts of one harness run (see the module docstring for the rules)."""
    records = parse_harness_output(run.stdout, nonce, len(tests))
    out: list[TestResult] = []
    for i, test in enumerate(tests):
        rec = records.tests.get(i)
        if records.solution_failure is not None:
            kind, message = records.solution_failure
            status = _KIND_STATUS.get(kind, Status.RUNTIME_ERROR)
            feedback = f"The program failed before any test ran: {message}"
            out.append(TestResult(test.id or str(i), False, _test_execution(run, status, 0.0, message), feedback))
        elif rec is not None:
            status = _KIND_STATUS.get(rec.kind, Status.RUNTIME_ERROR)
            feedback = "" if rec.passed else f"Test failed: {rec.message}"
            out.append(TestResult(test.id or str(i), rec.passed, _test_execution(run, status, rec.cpu_s, rec.message),
                                  feedback))
        else:
            if run.status is Status.OK:
                status, reason = Status.RUNTIME_ERROR, "the program ended before this test finished (no verdict)"
            else:
                status, reason = run.status, run.reason or run.status.value
            feedback = _STATUS_FEEDBACK.get(status, f"Error: {reason}")
            out.append(TestResult(test.id or str(i), False, _test_execution(run, status, 0.0, reason), feedback))
    return out


def io_program(language: str, solution: str, test: TestCase) -> Program:
    """The solution itself, fed the test's stdin."""
    return Program(language=language, source=solution, stdin=test.stdin)


def _tail(text: str, limit: int = 1000) -> str:
    text = text.rstrip("\n")
    return text if len(text) <= limit else "..." + text[-limit:]


def judge_io(run: ExecutionResult, test: TestCase, index: int = 0) -> TestResult:
    """Compare on the host; a run that did not end OK fails with its status."""
    tid = test.id or str(index)
    if run.status is not Status.OK:
        reason = run.reason or run.status.value
        if run.status in _STATUS_FEEDBACK:
            feedback = _STATUS_FEEDBACK[run.status]
        else:
            detail = _tail(run.compile_output or run.stderr) or reason
            feedback = f"Input:\n{_tail(test.stdin)}\nError:\n{detail}"
        return TestResult(tid, False, run, feedback)
    passed = not run.stdout_truncated and compare_output(test.compare, test.expected_stdout, run.stdout)
    feedback = "" if passed else (f"Input:\n{_tail(test.stdin)}\nExpected output:\n{_tail(test.expected_stdout)}\n"
                                  f"Actual output:\n{_tail(run.stdout)}")
    return TestResult(tid, passed, run, feedback)


_SCRIPT_EPILOGUES = {
    "javascript": ';\nprocess.stdout.write("\\n@@CE " + require("fs").readFileSync(0, "utf8") + " D\\n");\n',
}


def script_assert_program(language: str, solution: str, test: TestCase) -> tuple[Program, str]:
    """Solution + test code (+ a nonce epilogue where the language has one)."""
    nonce = secrets.token_hex(16)
    epilogue = _SCRIPT_EPILOGUES.get(language, "")
    return Program(language=language, source=f"{solution}\n{test.code}\n{epilogue}",
                   stdin=nonce if epilogue else ""), nonce


def judge_script_assert(run: ExecutionResult, test: TestCase, nonce: str, language: str,
                        index: int = 0) -> TestResult:
    """Pass iff the run ended OK and (where an epilogue exists) its nonce line came out."""
    tid = test.id or str(index)
    if run.status is not Status.OK:
        reason = run.reason or run.status.value
        feedback = _STATUS_FEEDBACK.get(run.status) or f"Error:\n{_tail(run.compile_output or run.stderr) or reason}"
        return TestResult(tid, False, run, feedback)
    if language in _SCRIPT_EPILOGUES:
        passed = f"@@CE {nonce} D" in run.stdout.split("\n")
    else:
        passed = run.exit_code == 0
    return TestResult(tid, passed, run, "" if passed else "Test failed: the program did not reach the end of the tests")


def failed_without_running(tests: Sequence[TestCase], status: Status, reason: str, feedback: str) -> list[TestResult]:
    """Verdicts for tests that were never run (e.g. the source does not parse)."""
    run = ExecutionResult(status=status, reason=reason)
    return [TestResult(t.id or str(i), False, run, feedback) for i, t in enumerate(tests)]
