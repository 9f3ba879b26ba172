"""``Program.fetch_files``: the files a run leaves in its working directory come back in
``ExecutionResult.files``, and nothing else does: not a path outside the working directory, not
what a symbolic link points to, not a FIFO, not more than the output limit.

Runs in both modes (as root here, and in rootless mode when run as an unprivileged user:
``python -m tests.sandbox.rootless_env pytest tests/sandbox/test_fetch_files.py``).
"""

from __future__ import annotations

import time

import pytest

from codeeval_rl.errors import InputError
from codeeval_rl.sandbox import Limits, Program, Status
from codeeval_rl.sandbox.sandbox import MAX_FETCH_FILES

QUICK = Limits(wall_time_s=3.0, memory_mb=192, output_bytes=64 * 1024)

WRITER = """
import os
os.makedirs("out/deep", exist_ok=True)
with open("result.txt", "w") as f:
    f.write("answer 42\\n")
with open("out/deep/blob.bin", "wb") as f:
    f.write(bytes(range(256)) * 4)
with open("unasked.txt", "w") as f:
    f.write("not requested")
print("done")
"""


def test_named_files_come_back_byte_for_byte_and_only_those(sandbox):
    r = sandbox.run(Program("python", WRITER, fetch_files=("result.txt", "out/deep/blob.bin")), QUICK)
    assert r.status is Status.OK, r
    assert dict(r.files) == {"result.txt": b"answer 42\n", "out/deep/blob.bin": bytes(range(256)) * 4}
    data = r.to_dict()["files"]
    assert data == {"result.txt": "YW5zd2VyIDQyCg==", "out/deep/blob.bin": data["out/deep/blob.bin"]}


def test_without_fetch_files_nothing_changes(sandbox):
    r = sandbox.run(Program("python", WRITER), QUICK)
    assert r.status is Status.OK and dict(r.files) == {}
    assert "files" not in r.to_dict()


def test_a_missing_file_is_simply_absent(sandbox):
    r = sandbox.run(Program("python", WRITER, fetch_files=("nope.txt", "result.txt", "out")), QUICK)
    assert r.status is Status.OK
    assert set(r.files) == {"result.txt"}  # "out" is a directory: absent too


def test_a_symbolic_link_is_never_followed(sandbox):
    """A link to the sandbox's /etc/passwd, to the server's own source, to a directory outside,
    and even to a file inside the working directory: none is read."""
    src = """
import os
open("real.txt", "w").write("mine")
os.symlink("/etc/passwd", "passwd")
os.symlink("/.codeeval/server.py", "server.py")
os.symlink("/etc", "etc")
os.symlink("/proc/1", "init")
os.symlink("real.txt", "alias.txt")
os.symlink(".", "here")
print("ok")
"""
    names = ("passwd", "server.py", "etc/passwd", "etc/hostname", "init/environ", "alias.txt", "here/real.txt",
             "real.txt")
    r = sandbox.run(Program("python", src, fetch_files=names), QUICK)
    assert r.status is Status.OK, r
    assert dict(r.files) == {"real.txt": b"mine"}


def test_paths_that_leave_the_working_directory_are_refused_before_the_run(sandbox):
    for bad in ("/etc/passwd", "../etc/passwd", "a/../../x", "", "./x", "a//b", "a/.", "x\0y"):
        with pytest.raises(InputError, match="fetch_files"):
            sandbox.run(Program("python", "print(1)", fetch_files=(bad,)), QUICK)
    with pytest.raises(InputError, match="at most"):
        sandbox.run(Program("python", "print(1)", fetch_files=tuple(f"f{i}" for i in range(MAX_FETCH_FILES + 1))),
                    QUICK)
    with pytest.raises(InputError, match="list of paths"):
        sandbox.run(Program("python", "print(1)", fetch_files="out.txt"), QUICK)  # type: ignore[arg-type]
    # in a batch, the bad item is its own sandbox_error and the others run
    results = sandbox.run_many([Program("python", "print(1)", fetch_files=("../x",)),
                                Program("python", WRITER, fetch_files=("result.txt",))], QUICK)
    assert results[0].status is Status.SANDBOX_ERROR and "fetch_files" in results[0].reason
    assert dict(results[1].files) == {"result.txt": b"answer 42\n"}


def test_the_output_limit_bounds_each_file_and_all_of_them(sandbox):
    src = """
open("big.bin", "wb").write(b"x" * 100_000)
open("a.bin", "wb").write(b"a" * 40_000)
open("b.bin", "wb").write(b"b" * 40_000)
open("small.txt", "w").write("s")
"""
    r = sandbox.run(Program("python", src, fetch_files=("big.bin", "a.bin", "b.bin", "small.txt")), QUICK)
    assert r.status is Status.OK, r
    # 64 KiB in all: big.bin alone is over it, a.bin fits, b.bin would pass it, small.txt fits
    assert {k: len(v) for k, v in r.files.items()} == {"a.bin": 40_000, "small.txt": 1}


def test_a_fifo_or_a_socket_never_holds_the_server(sandbox):
    src = """
import os, socket
os.mkfifo("pipe")
s = socket.socket(socket.AF_UNIX)
s.bind("sock")
open("after.txt", "w").write("fine")
"""
    t0 = time.monotonic()
    r = sandbox.run(Program("python", src, fetch_files=("pipe", "sock", "after.txt")), QUICK)
    assert r.status is Status.OK, r
    assert dict(r.files) == {"after.txt": b"fine"}
    assert time.monotonic() - t0 < 10


def test_files_of_a_run_that_timed_out_or_failed_still_come_back(sandbox):
    src = "open('partial.txt', 'w').write('half')\nimport time\ntime.sleep(60)\n"
    r = sandbox.run(Program("python", src, fetch_files=("partial.txt",)), Limits(wall_time_s=1.0, memory_mb=192))
    assert r.status is Status.TIMEOUT and dict(r.files) == {"partial.txt": b"half"}
    r = sandbox.run(Program("python", "open('log.txt', 'w').write('why')\nraise SystemExit(3)",
                            fetch_files=("log.txt",)), QUICK)
    assert (r.status, r.exit_code, dict(r.files)) == (Status.RUNTIME_ERROR, 3, {"log.txt": b"why"})


def test_a_compiled_program_and_node_write_files_that_come_back(sandbox):
    c = '#include <stdio.h>\nint main(void){ FILE *f = fopen("out.txt", "w"); fputs("from c", f); fclose(f); return 0; }\n'
    r = sandbox.run(Program("c", c, fetch_files=("out.txt",)), QUICK)
    assert r.status is Status.OK, r
    assert dict(r.files) == {"out.txt": b"from c"}
    js = "require('fs').writeFileSync('o.json', JSON.stringify({a: 1}))"
    r = sandbox.run(Program("javascript", js, fetch_files=("o.json",)), QUICK)
    assert r.status is Status.OK, r
    assert dict(r.files) == {"o.json": b'{"a":1}'}


def test_input_files_can_be_fetched_and_the_next_run_sees_none_of_them(sandbox):
    r = sandbox.run(Program("python", "open('in.txt', 'a').write(' more')", files={"in.txt": "given"},
                            fetch_files=("in.txt",)), QUICK)
    assert dict(r.files) == {"in.txt": b"given more"}
    r = sandbox.run(Program("python", "print(1)", fetch_files=("in.txt", "result.txt")), QUICK)
    assert r.status is Status.OK and dict(r.files) == {}
