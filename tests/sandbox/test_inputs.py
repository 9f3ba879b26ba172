"""Bad input: clear errors for the caller's mistakes, data for the program's, never a crashed batch."""

from __future__ import annotations

import pytest

from codeeval_rl.errors import InputError
from codeeval_rl.sandbox import Limits, Program, Sandbox, Status, classify, get_language
from codeeval_rl.sandbox.languages import java_main_class

QUICK = Limits(wall_time_s=3.0, memory_mb=192)


def test_unknown_language_and_empty_source_raise(sandbox: Sandbox) -> None:
    with pytest.raises(InputError, match="unknown language 'cobol'"):
        sandbox.run(Program("cobol", "DISPLAY 'x'."))
    with pytest.raises(InputError, match="empty source"):
        sandbox.run(Program("python", "   \n"))
    with pytest.raises(InputError, match="plain relative path"):
        sandbox.run(Program("python", "print(1)", files={"../escape.txt": "x"}))
    with pytest.raises(InputError, match="out of range"):
        sandbox.run(Program("python", "print(1)"), Limits(wall_time_s=0))


def test_a_bad_item_does_not_crash_the_batch(sandbox: Sandbox) -> None:
    progs = [Program("python", "print('a')"), Program("cobol", "x"), Program("python", ""),
             Program("python", "print('d')")]
    rs = sandbox.run_many(progs, QUICK)
    assert [r.status for r in rs] == [Status.OK, Status.SANDBOX_ERROR, Status.SANDBOX_ERROR, Status.OK]
    assert "unknown language" in rs[1].reason and "empty source" in rs[2].reason
    assert rs[0].stdout == "a\n" and rs[3].stdout == "d\n"


def test_run_many_keeps_input_order_and_reports_progress(sandbox: Sandbox) -> None:
    seen: list[int] = []
    progs = [Program("python", f"import time; time.sleep({0.05 * (i % 3)}); print({i})") for i in range(12)]
    rs = sandbox.run_many(progs, QUICK, on_result=lambda i, r: seen.append(i))
    assert [r.stdout for r in rs] == [f"{i}\n" for i in range(12)]
    assert sorted(seen) == list(range(12))


def test_binary_and_invalid_utf8_output_is_data(sandbox: Sandbox) -> None:
    r = sandbox.run(Program("python", "import sys\nsys.stdout.buffer.write(bytes(range(256)))"), QUICK)
    assert r.status is Status.OK
    assert "\ufffd" in r.stdout and "A" in r.stdout


def test_nul_in_stdin_and_source(sandbox: Sandbox) -> None:
    r = sandbox.run(Program("python", "import sys\nprint(repr(sys.stdin.buffer.read()))", stdin="a\x00b"), QUICK)
    assert r.stdout.strip() == "b'a\\x00b'"
    bad = sandbox.run(Program("python", "print(1)\x00"), QUICK)
    assert bad.status is Status.RUNTIME_ERROR and "null" in bad.stderr.lower()


def test_large_stdin_is_fed_while_the_program_runs(sandbox: Sandbox) -> None:
    data = "x" * (3 << 20)
    r = sandbox.run(Program("python", "import sys\nprint(len(sys.stdin.read()))", stdin=data), QUICK)
    assert r.stdout.strip() == str(len(data))
    ignores = sandbox.run(Program("python", "print('no read')", stdin=data), QUICK)
    assert ignores.status is Status.OK


def test_extra_files_are_written_next_to_the_source(sandbox: Sandbox) -> None:
    r = sandbox.run(Program("python", "import helper\nprint(helper.X, open('data/in.txt').read())",
                            files={"helper.py": "X = 41 + 1", "data/in.txt": "payload"}), QUICK)
    assert r.stdout.strip() == "42 payload", r


def test_python_program_sees_a_normal_interpreter(sandbox: Sandbox) -> None:
    src = ("import sys, os\nprint(__name__, sys.argv, os.getcwd() == os.environ['HOME'])\n"
           "import threading\nt = threading.Thread(target=lambda: print('thread'))\nt.start()\n"
           "import atexit\natexit.register(lambda: print('atexit'))\n")
    r = sandbox.run(Program("python", src), QUICK)
    assert r.stdout.splitlines() == ["__main__ ['main.py'] True", "thread", "atexit"], r


def test_languages_table_and_aliases() -> None:
    assert get_language("Py").name == "python" and get_language("c++").name == "cpp"
    assert java_main_class("class A {}\npublic class Solution { public static void main(String[] a) {} }") == "Solution"
    assert java_main_class("class Prog { public static void main(String[] a) {} }") == "Prog"


def test_classify_maps_raw_facts() -> None:
    lim = Limits(wall_time_s=1, memory_mb=64, output_bytes=10)
    assert classify({"exit_code": 0}, lim)[0] is Status.OK
    assert classify({"exit_code": -9, "overflow": True}, lim)[0] is Status.OUTPUT_LIMIT
    assert classify({"exit_code": -9, "timed_out": True}, lim)[0] is Status.TIMEOUT
    assert classify({"exit_code": -9, "oom": True}, lim)[0] is Status.MEMORY_LIMIT
    assert classify({"exit_code": -24}, lim)[0] is Status.TIMEOUT  # SIGXCPU
    assert classify({"exit_code": 1, "stderr": "MemoryError\n"}, lim)[0] is Status.MEMORY_LIMIT
    assert classify({"exit_code": 1, "stderr": "x"}, lim) == (Status.RUNTIME_ERROR, "exit code 1")
    assert classify({"setup_error": "boom"}, lim) == (Status.SANDBOX_ERROR, "boom")


def test_preloaded_modules_reach_every_worker_and_survive_restarts() -> None:
    with Sandbox(workers=2) as sb:
        sb.preload("codeeval_test_helper", "ANSWER = 42\ndef double(x):\n    return 2 * x\n")
        progs = [Program("python", "import sys\nm = sys.modules['codeeval_test_helper']\nprint(m.double(m.ANSWER))")] * 6
        assert [r.stdout for r in sb.run_many(progs, QUICK)] == ["84\n"] * 6
        sb._workers[0].restart()
        sb._workers[1].restart()
        assert [r.stdout for r in sb.run_many(progs, QUICK)] == ["84\n"] * 6
        with pytest.raises(InputError, match="not a Python identifier"):
            sb.preload("bad-name", "x = 1")
        with pytest.raises(InputError, match="does not compile"):
            sb.preload("broken", "def (:")
