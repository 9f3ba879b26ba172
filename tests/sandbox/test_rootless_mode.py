"""Rootless mode: the guarantees that work differently without root, attacked directly.

The tests that need rootless mode run where we are not root (``test_rootless.py`` runs this
file as an unprivileged user); the mode table and the bubblewrap command line are checked
everywhere.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from codeeval_rl.sandbox import Limits, Program, Sandbox, Status
from codeeval_rl.sandbox.mode import GUARANTEES, current_mode, guarantees, userns_problem
from codeeval_rl.sandbox.worker import bwrap_argv

QUICK = Limits(wall_time_s=3.0, memory_mb=192, max_processes=32, output_bytes=64 * 1024)
rootless = pytest.mark.skipif(os.geteuid() == 0, reason="rootless mode is for non-root users (test_rootless.py runs this as one)")


def test_mode_follows_the_effective_uid() -> None:
    assert current_mode() == ("root" if os.geteuid() == 0 else "rootless")


def test_every_guarantee_is_stated_for_both_modes() -> None:
    names = [g.name for g in GUARANTEES]
    assert len(names) == len(set(names))
    root, rless = guarantees("root"), guarantees("rootless")
    assert all(row["holds"] for row in root)
    weaker = {row["name"] for row in rless if not row["holds"]}
    assert {"memory limit", "process and thread limit", "no reach into host processes"} <= weaker
    assert all(row["how"] for row in root + rless)


def test_rootless_bubblewrap_uses_a_user_namespace_and_two_capabilities() -> None:
    argv = bwrap_argv("/usr/bin/python3", 256, {"uid": 0}, {}, rootless=True)
    assert argv[argv.index("--unshare-user"):argv.index("--unshare-user") + 5] == ["--unshare-user", "--uid", "0", "--gid", "0"]
    caps = [argv[i + 1] for i, a in enumerate(argv) if a == "--cap-add"]
    assert caps == ["CAP_SYS_ADMIN", "CAP_SETPCAP"]
    assert "--unshare-user" not in bwrap_argv("/usr/bin/python3", 256, {"uid": 61000}, {})


def test_this_host_allows_unprivileged_user_namespaces() -> None:
    assert userns_problem() == ""  # CI's host: the rootless tests below must be able to run


@pytest.fixture(scope="module")
def sb():
    with Sandbox(workers=2) as box:
        yield box


@rootless
def test_capabilities_report_rootless_mode(sb: Sandbox) -> None:
    caps = sb.capabilities()
    assert caps["mode"] == "rootless" and caps["cgroup"] == 0
    assert any(not row["holds"] for row in caps["guarantees"])


@rootless
def test_the_program_has_no_capability_and_the_filter(sb: Sandbox) -> None:
    src = ("import os\n"
           "st = {l.split(':')[0]: l.split(':')[1].strip() for l in open('/proc/self/status')}\n"
           "print(os.getuid(), st['CapEff'], st['CapPrm'], st['CapBnd'], st['CapAmb'], st['NoNewPrivs'], st['Seccomp'])\n")
    r = sb.run(Program("python", src), QUICK)
    assert r.status is Status.OK, r
    uid, eff, prm, bnd, amb, nnp, seccomp = r.stdout.split()
    assert uid == "0"  # the invoking user, mapped to 0 in the namespace
    assert {eff, prm, bnd, amb} == {"0000000000000000"} and nnp == "1" and seccomp == "2"
    c = sb.run(Program("c", "#include <stdio.h>\nint main(){ char b[256]; FILE *f = fopen(\"/proc/self/status\", \"r\");"
                            " while (fgets(b, sizeof b, f)) if (b[0]=='C' && b[3]=='E') fputs(b, stdout); }"), QUICK)
    assert c.stdout.split() == ["CapEff:", "0000000000000000"], c  # exec regains nothing


@rootless
def test_the_fork_server_and_the_runs_init_are_out_of_reach(sb: Sandbox) -> None:
    src = (
        "import os, signal\n"
        "print('PIDS', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), os.getpid(), os.getppid())\n"
        "for target in (1, 3, 100, -1):\n"
        "    try:\n"
        "        os.kill(target, signal.SIGTERM); print('sent', target)\n"
        "    except OSError as e:\n"
        "        print('denied', target, e.errno)\n"
        "for path in ('/proc/1/mem', '/proc/1/environ', '/proc/1/cmdline'):\n"
        "    try:\n"
        "        open(path, 'rb').read(16); print('READ', path)\n"
        "    except OSError as e:\n"
        "        print('denied', path, e.errno)\n"
    )
    r = sb.run(Program("python", src), QUICK)
    assert r.status is Status.OK, r
    lines = r.stdout.splitlines()
    pids = lines[0].split("]")[0].split("[")[1]
    assert pids.replace(",", "").split() == [lines[0].split()[-2]], r.stdout  # only itself
    assert lines[0].split()[-1] == "1"  # its parent is the run's init
    assert "READ" not in r.stdout, r.stdout
    assert "denied 3 3" in r.stdout and "denied 100 3" in r.stdout  # no server, nothing else: ESRCH
    assert "denied -1 3" in r.stdout
    again = sb.run(Program("python", "print('still here')"), QUICK)
    assert again.stdout == "still here\n"  # the init ignored SIGTERM, the server serves


@rootless
def test_everything_but_the_working_directory_and_tmp_is_read_only(sb: Sandbox) -> None:
    src = (
        "import os\n"
        "for p in ('/box/x', '/x', '/etc/ld.so.preload', '/.codeeval/x', '/scratch/x', '/dev/shm/x', '/runtime/x'):\n"
        "    try:\n"
        "        open(p, 'w').write('x'); print('WROTE', p)\n"
        "    except OSError as e:\n"
        "        print('denied', p, e.errno)\n"
        "open('here', 'w').write('x'); open('/tmp/here', 'w').write('x'); print('own dirs ok')\n"
    )
    r = sb.run(Program("python", src), QUICK)
    assert r.status is Status.OK and "own dirs ok" in r.stdout, r
    assert "WROTE" not in r.stdout, r.stdout


@rootless
def test_the_process_limit_counts_the_namespace_not_the_user() -> None:
    # Twenty processes of ours outside: they must not eat the run's limit.
    outside = [subprocess.Popen(["sleep", "30"]) for _ in range(20)]
    try:
        src = ("import os, time\nn = 1\ntry:\n    while True:\n        if os.fork() == 0:\n"
               "            time.sleep(5); os._exit(0)\n        n += 1\nexcept OSError:\n    print('got', n)\n")
        with Sandbox(workers=1, yield_after_s=None) as box:
            r = box.run(Program("python", src), Limits(wall_time_s=10, memory_mb=256, max_processes=12))
    finally:
        for p in outside:
            p.kill()
            p.wait()
    assert r.status is Status.OK, r
    assert r.stdout.strip() == "got 12", r.stdout  # exactly the limit: 12 processes of its own


@rootless
def test_memory_of_several_processes_is_watched(sb: Sandbox) -> None:
    # Each process stays under RLIMIT_DATA; together they pass the limit: the watch kills them.
    src = ("import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        break\n"
           "b = bytearray(120 << 20)\nfor i in range(0, len(b), 4096):\n    b[i] = 1\ntime.sleep(3)\n")
    t0 = time.monotonic()
    r = sb.run(Program("python", src), Limits(wall_time_s=8, memory_mb=200))
    assert r.status is Status.MEMORY_LIMIT, r
    assert time.monotonic() - t0 < 6
    assert r.peak_memory_bytes > 200 << 20


@rootless
def test_tmpfs_is_bounded_by_the_memory_limit(sb: Sandbox) -> None:
    src = "i = 0\nwhile True:\n    open(f'/tmp/f{i}', 'wb').write(b'x' * (4 << 20)); i += 1"
    r = sb.run(Program("python", src), Limits(wall_time_s=8, memory_mb=96))
    assert r.status in (Status.MEMORY_LIMIT, Status.RUNTIME_ERROR), r
    assert r.wall_time_s < 6
