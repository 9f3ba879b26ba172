"""One attack per sandbox guarantee, in every language where it applies.

Each test runs hostile programs through the real sandbox and checks both the reported
result and the host's state afterwards (no survivors, no files, the server still serving).
The same tests run in rootless mode as an unprivileged user (``test_rootless.py``); where the
two modes differ, the test says how.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from codeeval_rl.sandbox import Limits, Program, Sandbox, Status, get_language
from codeeval_rl.sandbox.sandbox import _cache_key
from tests.sandbox import programs as P

QUICK = Limits(wall_time_s=2.0, memory_mb=192, max_processes=64, output_bytes=64 * 1024)


def _run_namespace_processes() -> list[int]:
    """Rootless: pids of our uid's processes two PID namespaces below ours (inside a run's own
    namespace, below its worker's): what a run could have left behind."""
    def nspids(status: str) -> list[str]:
        return next((ln.split()[1:] for ln in status.splitlines() if ln.startswith("NSpid:")), [])

    depth = len(nspids(Path("/proc/self/status").read_text()))
    me = str(os.getuid())
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            status = Path(f"/proc/{name}/status").read_text()
        except OSError:
            continue
        uid = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("Uid:")), "")
        if uid == me and len(nspids(status)) >= depth + 2:
            found.append(int(name))
    return found


def _uid_processes(sb: Sandbox) -> list[int]:
    """Host pids of processes running as any of this sandbox's worker uids (rootless: inside a
    run's PID namespace)."""
    if sb.mode == "rootless":
        return _run_namespace_processes()
    uids = {str(w.uid) for w in sb._workers}
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            for line in Path(f"/proc/{name}/status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if line.split()[1] in uids:
                        found.append(int(name))
                    break
        except OSError:
            continue
    return found


def _assert_clean(sb: Sandbox) -> None:
    assert _uid_processes(sb) == [], "a sandboxed process survived its run"
    again = sb.run(Program("python", "import os; print(sorted(os.listdir('.')), os.listdir('/tmp'))"), QUICK)
    assert again.status is Status.OK, again
    assert again.stdout.strip() == "['main.py'] []", "the next run did not start clean"


def _run_all(sb: Sandbox, sources: dict[str, str], limits: Limits = QUICK, stdin: str = ""):
    langs = list(sources)
    results = sb.run_many([Program(lang, sources[lang], stdin=stdin) for lang in langs], limits)
    return dict(zip(langs, results))


def test_every_language_runs_with_stdin(sandbox: Sandbox) -> None:
    results = _run_all(sandbox, P.HELLO, Limits(wall_time_s=10, memory_mb=256), stdin="world\n")
    for lang, r in results.items():
        assert r.status is Status.OK, (lang, r)
        assert r.stdout.strip() == "hello world", (lang, r.stdout)
        assert r.exit_code == 0


def test_compile_cache_hit_and_compile_error(sandbox: Sandbox) -> None:
    prog = Program("c", '#include <stdio.h>\nint main(){puts("cached");}')
    first = sandbox.run(prog, QUICK)
    second = sandbox.run(prog, QUICK)
    assert first.stdout == second.stdout == "cached\n"
    assert second.cached and second.compile_time_s == 0.0
    for lang, src in {"c": "int main( { return 0; }", "cpp": "int main() { undefined_thing(); }",
                      "java": "public class Main { void f( }", "rust": "fn main() { let x: u32 = \"s\"; }"}.items():
        r = sandbox.run(Program(lang, src), QUICK)
        assert r.status is Status.COMPILE_ERROR, (lang, r)
        assert "error" in r.compile_output.lower() and r.reason
        assert r.exit_code is None


def test_runtime_error_and_exit_codes(sandbox: Sandbox) -> None:
    r = sandbox.run(Program("python", "import sys\nprint('partial')\nraise ValueError('boom')"), QUICK)
    assert r.status is Status.RUNTIME_ERROR and r.exit_code == 1
    assert r.stdout == "partial\n" and "ValueError: boom" in r.stderr and 'main.py", line 3' in r.stderr
    assert sandbox.run(Program("python", "import sys; sys.exit(3)"), QUICK).exit_code == 3
    assert sandbox.run(Program("python", "exit(0)"), QUICK).status is Status.OK
    seg = sandbox.run(Program("c", "int main(){ int *p = 0; return *p; }"), QUICK)
    assert seg.status is Status.RUNTIME_ERROR and seg.exit_code == -11 and "SIGSEGV" in seg.reason


def test_infinite_loop_times_out_in_every_language(sandbox: Sandbox) -> None:
    t0 = time.monotonic()
    results = _run_all(sandbox, P.INFINITE_LOOP, Limits(wall_time_s=1.5, memory_mb=256))
    for lang, r in results.items():
        assert r.status is Status.TIMEOUT, (lang, r)
        assert 1.4 <= r.wall_time_s < 6, (lang, r.wall_time_s)
    assert time.monotonic() - t0 < 60
    _assert_clean(sandbox)


def test_cpu_time_limit_is_separate_from_wall(sandbox: Sandbox) -> None:
    r = sandbox.run(Program("python", "while True: pass"), Limits(wall_time_s=8, cpu_time_s=1, memory_mb=128))
    assert r.status is Status.TIMEOUT and "CPU" in r.reason, r
    assert r.wall_time_s < 4
    # a fractional limit is not rounded up to RLIMIT_CPU's whole seconds
    frac = sandbox.run(Program("c", "int main(){ volatile long x = 0; for(;;) x++; }"),
                       Limits(wall_time_s=8, cpu_time_s=0.3, memory_mb=128))
    assert frac.status is Status.TIMEOUT and "CPU" in frac.reason, frac
    assert frac.cpu_time_s < 0.6, frac.cpu_time_s
    # sleeping uses no CPU: only the wall limit ends it
    idle = sandbox.run(Program("python", "import time; time.sleep(0.8); print('woke')"),
                       Limits(wall_time_s=3, cpu_time_s=0.2, memory_mb=128))
    assert idle.status is Status.OK and idle.stdout == "woke\n"


def test_memory_bomb_hits_the_limit_in_every_language(sandbox: Sandbox) -> None:
    results = _run_all(sandbox, P.MEMORY_BOMB, Limits(wall_time_s=10, memory_mb=200))
    for lang, r in results.items():
        assert r.status is Status.MEMORY_LIMIT, (lang, r.status, r.reason, r.stderr[-300:])
    _assert_clean(sandbox)


def test_output_flood_is_capped_while_running(sandbox: Sandbox) -> None:
    limits = Limits(wall_time_s=10, memory_mb=256, output_bytes=64 * 1024)
    results = _run_all(sandbox, P.OUTPUT_FLOOD, limits)
    for lang, r in results.items():
        assert r.status is Status.OUTPUT_LIMIT, (lang, r)
        assert r.stdout_truncated and len(r.stdout.encode()) <= limits.output_bytes
        assert r.wall_time_s < 5, "output was not read while the program ran"
    # Well over SandboxFusion's 128 KiB stall: 4 MiB of output, all of it read back.
    big = sandbox.run(Program("python", "import sys\nsys.stdout.write('y' * (4 << 20))"),
                      Limits(wall_time_s=10, output_bytes=8 << 20))
    assert big.status is Status.OK and len(big.stdout) == 4 << 20 and not big.stdout_truncated


def test_stderr_flood_is_capped_too(sandbox: Sandbox) -> None:
    r = sandbox.run(Program("python", "import sys\nwhile True: sys.stderr.write('e' * 1000)"), QUICK)
    assert r.status is Status.OUTPUT_LIMIT and r.stderr_truncated


def test_no_network_to_host_loopback(sandbox: Sandbox) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept())
            except OSError:
                continue

    th = threading.Thread(target=accept, daemon=True)
    th.start()
    try:
        results = _run_all(sandbox, P.connect(port), Limits(wall_time_s=10, memory_mb=256))
    finally:
        stop.set()
        th.join()
        listener.close()
    for lang, r in results.items():
        assert "CONNECTED" not in r.stdout, (lang, r)
        assert "blocked" in r.stdout + r.stderr, (lang, r)
    assert accepted == [], "the host listener received a connection"


def test_host_files_and_secrets_are_invisible(tmp_path: Path) -> None:
    secret = "tok-" + os.urandom(8).hex()
    (tmp_path / "secret.txt").write_text(secret)
    os.environ["CODEEVAL_TEST_SECRET"] = secret
    try:
        with Sandbox(workers=1) as sb:  # started after the secret entered our environment
            paths = [str(tmp_path / "secret.txt"), "/etc/shadow", "/root", "/home", "/work",
                     str(Path.cwd()), "/proc/1/environ"]
            src = (
                "import os\n"
                f"for p in {paths!r}:\n"
                "    try:\n"
                "        print(p, 'DIR', os.listdir(p)) if os.path.isdir(p) else print(p, 'READ', open(p).read())\n"
                "    except OSError as e:\n"
                "        print(p, 'denied', type(e).__name__)\n"
                "print('ENV', dict(os.environ))\n"
            )
            r = sb.run(Program("python", src), QUICK)
            c = sb.run(Program("c", '#include <stdio.h>\n#include <stdlib.h>\nint main(){ FILE *f = fopen("'
                               + str(tmp_path / "secret.txt") + '", "r"); puts(f ? "OPENED" : "denied");'
                               ' const char *e = getenv("CODEEVAL_TEST_SECRET"); puts(e ? e : "noenv"); return 0; }'), QUICK)
    finally:
        del os.environ["CODEEVAL_TEST_SECRET"]
    assert r.status is Status.OK, r
    assert secret not in r.stdout and secret not in r.stderr
    assert "/etc/shadow denied" in r.stdout
    for line in r.stdout.splitlines():
        if line.startswith(("/root ", "/home ", "/work ")):
            assert "denied" in line, line
    env = r.stdout.split("ENV ", 1)[1]
    assert "CODEEVAL" not in env and "PATH" in env
    assert c.stdout.split() == ["denied", "noenv"], c


def test_host_filesystem_is_read_only(sandbox: Sandbox) -> None:
    targets = ["/usr/evil", "/etc/evil", "/evil", "/cache/evil", "/.codeeval/server.py", "/bin/evil",
               "/proc/sys/kernel/hostname", "/dev/evil", "/dev/shm/evil", "/scratch/evil"]
    src = (
        "import os\n"
        f"for p in {targets!r}:\n"
        "    try:\n"
        "        with open(p, 'w') as f: f.write('x')\n"
        "        print('WROTE', p)\n"
        "    except OSError as e:\n"
        "        print('denied', p)\n"
        "open('ok.txt', 'w').write('fine'); open('/tmp/ok.txt', 'w').write('fine')\n"
        "print('local ok')\n"
    )
    r = sandbox.run(Program("python", src), QUICK)
    assert r.status is Status.OK, r
    assert "WROTE" not in r.stdout, r.stdout
    assert "local ok" in r.stdout
    _assert_clean(sandbox)


def test_host_processes_are_unreachable(sandbox: Sandbox) -> None:
    me = os.getpid()
    src = (
        "import os, signal\n"
        "names = []\n"
        "for p in os.listdir('/proc'):\n"
        "    if p.isdigit():\n"
        "        try: names.append(open(f'/proc/{p}/cmdline','rb').read().replace(b'\\0', b' ').decode())\n"
        "        except OSError: pass\n"
        "print('PROCS', len(names), any('pytest' in n for n in names))\n"
        "for target in (os.getppid(), 1, -1):\n"
        "    try:\n"
        "        os.kill(target, signal.SIGKILL)\n"
        "        print('killed?', target)\n"
        "    except OSError as e:\n"
        "        print('denied', target, type(e).__name__)\n"
    )
    r = sandbox.run(Program("python", src), QUICK)
    assert "PROCS" in r.stdout and "True" not in r.stdout.split("PROCS", 1)[1].splitlines()[0]
    assert f"denied {me}" not in r.stdout  # our pid means nothing inside its PID namespace
    assert "denied" in r.stdout  # the server (parent) and init refuse signals from the program
    c = sandbox.run(Program("c", "#include <signal.h>\n#include <unistd.h>\n#include <stdio.h>\n"
                                 "int main(){ printf(\"%d %d\\n\", getppid(), kill(getppid(), SIGKILL)); return 0; }"), QUICK)
    if sandbox.mode == "root":
        assert c.stdout.split()[1] == "-1", c  # the server runs as root: EPERM
    else:
        # The parent is the run's own init (pid 1 of the run's namespace): the kernel drops
        # signals to it from inside unless it handles them, and it handles none.
        assert c.stdout.split()[0] == "1", c
    _assert_clean(sandbox)  # the server survived and serves the next run


def _syscall_probe(sandbox: Sandbox, calls: dict[str, str], prelude: str = "", epilogue: str = "") -> dict[str, str]:
    """Run a Python program that makes each call (a Python expression over ``libc``) and prints
    ``name return errno``; the lines it printed, by their first word."""
    src = (
        "import ctypes, socket\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n" + prelude +
        "checks = {\n" + "".join(f"  {name!r}: lambda: {call},\n" for name, call in calls.items()) + "}\n"
        "for name, f in checks.items():\n"
        "    ctypes.set_errno(0)\n"
        "    ret = f(); print(name, ret, ctypes.get_errno())\n" + epilogue
    )
    r = sandbox.run(Program("python", src), QUICK)
    assert r.status is Status.OK, r
    return dict(line.split(" ", 1) for line in r.stdout.splitlines())


def test_denied_syscalls_through_ctypes(sandbox: Sandbox) -> None:
    lines = _syscall_probe(sandbox, {
        "ptrace": "libc.ptrace(16, 1, 0, 0)",  # PTRACE_ATTACH to init
        "unshare": "libc.unshare(0x10000000)",  # CLONE_NEWUSER
        "mount": "libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)",
        "bpf": "libc.syscall(321, 0, 0, 0)",
        "keyctl": "libc.syscall(250, 0, 0, 0)",
        "setns": "libc.setns(0, 0)",
        "reboot": "libc.syscall(169, 0, 0, 0, 0)",
        "init_module": "libc.syscall(175, 0, 0, 0)",
        "kexec_load": "libc.syscall(246, 0, 0, 0, 0)",
        "clone_newns": "libc.syscall(56, 0x00020000 | 17, 0, 0, 0, 0)",
    }, epilogue=(
        "try:\n"
        "    socket.socket(socket.AF_INET, socket.SOCK_DGRAM); print('inet ALLOWED')\n"
        "except OSError as e:\n"
        "    print('inet denied', e.errno)\n"
        "a, b = socket.socketpair(); print('unix ok')\n"
    ))
    for name in ("ptrace", "unshare", "mount", "bpf", "keyctl", "setns", "reboot", "init_module",
                 "kexec_load", "clone_newns"):
        ret, err = lines[name].split()
        assert ret == "-1" and err == "1", (name, lines[name])  # EPERM
    assert "inet" in lines and lines["inet"].startswith("denied") and lines["unix"] == "ok"
    c = sandbox.run(Program("c", "#include <stdio.h>\n#include <sys/ptrace.h>\n#include <errno.h>\n"
                                 "int main(){ long r = ptrace(PTRACE_TRACEME, 0, 0, 0); printf(\"%ld %d\\n\", r, errno); }"),
                    QUICK)
    assert c.stdout.split() == ["-1", "1"], c


def test_io_uring_cannot_make_network_sockets(sandbox: Sandbox) -> None:
    r = sandbox.run(Program("c", P.IO_URING_SOCKETS), QUICK)
    assert r.status is Status.OK, r
    assert "CREATED" not in r.stdout, r.stdout
    assert r.stdout.strip() == "io_uring_setup refused 1"  # EPERM


def test_syscalls_a_test_program_never_needs_are_refused(sandbox: Sandbox) -> None:
    # x86_64 numbers. EPERM: denied by name; ENOSYS: outside the allow list (or clone3, so
    # that libc falls back to clone, whose namespace flags are checked).
    calls = {
        "io_uring_setup": (425, 4, 0), "io_uring_enter": (426, 0, 1, 1, 0, 0, 0),
        "io_uring_register": (427, 0, 0, 0, 0), "userfaultfd": (323, 0), "perf_event_open": (298, 0, 0, -1, -1, 0),
        "add_key": (248, 0, 0, 0, 0, 0), "fsopen": (430, 0, 0), "open_tree": (428, -100, 0, 0),
        "move_mount": (429, -1, 0, -1, 0, 0), "modify_ldt": (154, 0, 0, 0), "kcmp": (312, 1, 1, 0, 0, 0),
        "pidfd_getfd": (438, 0, 0, 0), "mbind": (237, 0, 0, 0, 0, 0, 0), "sync": (162,),
        "syncfs": (306, 0), "adjtimex": (159, 0), "personality_no_aslr": (135, 0x0040000),
        "uselib": (134, 0), "memfd_secret": (447, 0),
    }
    lines = _syscall_probe(
        sandbox,
        {**{name: "libc.syscall" + repr(args).replace(",)", ")") for name, args in calls.items()},
         "clone3_newuser": "libc.syscall(435, ctypes.addressof(args), 88)"},
        prelude="args = (ctypes.c_ulonglong * 11)(0x10000000, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0)\n",  # CLONE_NEWUSER
        epilogue="print('personality_query', libc.personality(ctypes.c_ulong(0xffffffff)), ctypes.get_errno())\n")
    eperm = ("io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "perf_event_open", "add_key",
             "fsopen", "open_tree", "move_mount", "modify_ldt", "kcmp", "pidfd_getfd", "mbind", "sync", "syncfs",
             "adjtimex", "personality_no_aslr")
    for name in eperm:
        assert lines[name].split() == ["-1", "1"], (name, lines[name])
    for name in ("clone3_newuser", "uselib", "memfd_secret"):
        assert lines[name].split() == ["-1", "38"], (name, lines[name])  # ENOSYS
    assert lines["personality_query"].split()[0] != "-1", lines  # reading the personality still works


def test_the_allow_and_deny_lists_are_disjoint_and_shut_io_uring() -> None:
    from codeeval_rl.sandbox import _server

    allowed = [name for names in _server.ALLOWED.values() for name in names]
    assert len(allowed) == len(set(allowed)) and len(_server.DENIED) == len(set(_server.DENIED))
    assert not set(allowed) & set(_server.DENIED)
    assert {"io_uring_setup", "io_uring_enter", "io_uring_register"} <= set(_server.DENIED)
    assert not {"socket", "socketpair", "clone", "clone3", "personality"} & set(allowed)  # by argument only


def test_ipc_objects_do_not_outlive_the_run() -> None:
    make = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "IPC_CREAT = 0o1000\n"
        "made = [libc.shmget(0x5eed, 4096, IPC_CREAT | 0o666), libc.shmget(0, 4096, IPC_CREAT | 0o600),\n"
        "        libc.msgget(0x5eed, IPC_CREAT | 0o666), libc.semget(0x5eed, 1, IPC_CREAT | 0o666),\n"
        "        libc.mq_open(b'/codeeval-leak', os.O_CREAT | os.O_RDWR, 0o666, None)]\n"
        "print('MADE', all(x >= 0 for x in made))\n"
    )
    probe = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('FOUND', libc.shmget(0x5eed, 0, 0), libc.msgget(0x5eed, 0), libc.semget(0x5eed, 0, 0),\n"
        "      libc.mq_open(b'/codeeval-leak', os.O_RDWR))\n"
        "print('LISTED', sum(len(open(f'/proc/sysvipc/{n}').read().splitlines()) - 1 for n in ('shm', 'msg', 'sem')))\n"
    )
    with Sandbox(workers=1, yield_after_s=None) as sb:  # one worker: both runs share its IPC namespace
        made = sb.run(Program("python", make), QUICK)
        assert made.stdout.strip() == "MADE True", made
        found = sb.run(Program("python", probe), QUICK)
    assert found.status is Status.OK, found
    assert found.stdout.splitlines() == ["FOUND -1 -1 -1 -1", "LISTED 0"], found.stdout


def test_a_program_cannot_find_or_run_another_programs_binary(sandbox: Sandbox) -> None:
    secret = "REFERENCE-" + os.urandom(6).hex()
    reference = Program("c", '#include <stdio.h>\nint main(){ puts("' + secret + '"); return 0; }')
    assert sandbox.run(reference, QUICK).stdout.strip() == secret  # its binary is cached now
    key = _cache_key(get_language("c"), reference.source, {})
    guesses = [f"/cache/{key}/main", str(sandbox.cache_dir / key / "main"), f"/proc/1/root/cache/{key}/main"]
    r = sandbox.run(Program("c", P.exec_other_binaries(guesses)), Limits(wall_time_s=10, memory_mb=256))
    assert secret not in r.stdout + r.stderr, r.stdout
    assert r.status is Status.OK and "search done" in r.stdout, r
    assert "LISTED" not in r.stdout, r.stdout


def test_no_host_paths_in_mounts_or_process_command_lines(sandbox: Sandbox) -> None:
    import codeeval_rl

    host = [str(sandbox.cache_dir), str(Path(codeeval_rl.__file__).resolve().parent), str(Path.cwd()), "bwrap"]
    src = (
        "import os\n"
        "print(open('/proc/self/mountinfo').read())\n"
        "for p in ['1', *sorted(p for p in os.listdir('/proc') if p.isdigit())]:\n"
        "    try:\n"
        "        print(p, open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\\0', b' ').decode())\n"
        "    except OSError as e:\n"
        "        print(p, 'hidden', type(e).__name__)\n"
    )
    r = sandbox.run(Program("python", src), QUICK)
    c = sandbox.run(Program("c", "#include <stdio.h>\n#include <unistd.h>\nint main(){ char b[4096] = {0};"
                                 " readlink(\"/proc/self/exe\", b, sizeof b - 1); puts(b); FILE *f = fopen("
                                 "\"/proc/self/mountinfo\", \"r\"); int ch; while ((ch = fgetc(f)) != EOF) putchar(ch); }"), QUICK)
    assert r.status is Status.OK and c.status is Status.OK, (r, c)
    assert " /proc " in r.stdout and " /usr " in r.stdout  # the mount table itself is readable
    for text in (r.stdout, c.stdout):
        for path in host:
            assert path not in text, (path, text)
    assert "1 hidden" in r.stdout, r.stdout  # pid 1 (bubblewrap's init) is not visible


def test_fork_bomb_is_contained(sandbox: Sandbox) -> None:
    results = _run_all(sandbox, P.FORK_BOMB, Limits(wall_time_s=2, memory_mb=256, max_processes=32))
    for lang, r in results.items():
        assert r.status in (Status.TIMEOUT, Status.RUNTIME_ERROR), (lang, r)
    _assert_clean(sandbox)


def test_thread_limit(sandbox: Sandbox) -> None:
    src = ("import threading, time\nts = []\ntry:\n    for i in range(200):\n"
           "        t = threading.Thread(target=time.sleep, args=(0.5,), daemon=True); t.start(); ts.append(t)\n"
           "except RuntimeError as e:\n    print('limited', len(ts))\n")
    r = sandbox.run(Program("python", src), Limits(wall_time_s=5, max_processes=16))
    assert "limited" in r.stdout and int(r.stdout.split()[1]) < 16, r


def test_daemon_does_not_outlive_the_run(sandbox: Sandbox) -> None:
    results = _run_all(sandbox, P.DAEMON, Limits(wall_time_s=5, memory_mb=256))
    for lang, r in results.items():
        assert r.status is Status.OK and "parent done" in r.stdout, (lang, r)
        assert r.wall_time_s < 4
    _assert_clean(sandbox)


def test_disk_fill_and_file_size_limit(sandbox: Sandbox) -> None:
    big = sandbox.run(Program("python", "open('big', 'wb').write(b'x' * (64 << 20))"),
                      Limits(wall_time_s=5, memory_mb=256, file_size_bytes=8 << 20))
    assert big.status is Status.RUNTIME_ERROR and "File too large" in big.stderr, big
    fill = sandbox.run(Program("python", "i = 0\nwhile True:\n    open(f'/tmp/f{i}', 'wb').write(b'x' * (4 << 20)); i += 1"),
                       Limits(wall_time_s=10, memory_mb=128))
    assert fill.status in (Status.MEMORY_LIMIT, Status.RUNTIME_ERROR), fill
    _assert_clean(sandbox)


def test_open_files_limit(sandbox: Sandbox) -> None:
    src = "fs = []\ntry:\n    while True: fs.append(open('/dev/null'))\nexcept OSError as e:\n    print('limited', len(fs))"
    r = sandbox.run(Program("python", src), QUICK)
    assert "limited" in r.stdout and int(r.stdout.split()[1]) < 300


def test_server_death_is_a_sandbox_error_then_recovers() -> None:
    with Sandbox(workers=1, yield_after_s=None) as sb:  # one worker, no spare
        assert sb.run(Program("python", "print(1)"), QUICK).ok
        sb._workers[0].proc.kill()
        sb._workers[0].proc.wait()
        r = sb.run(Program("python", "print(2)"), QUICK)
        assert r.status is Status.SANDBOX_ERROR and "not running" in r.reason
        assert sb.run(Program("python", "print(3)"), QUICK).stdout == "3\n"


def test_processes_and_cgroups_gone_after_close() -> None:
    sb = Sandbox(workers=1)
    sb.run(Program("python", "print(1)"), QUICK)
    server_pids = [w.proc.pid for w in sb._workers]
    paths = [p for w in sb._workers if w.cgroup is not None for p in w.cgroup.paths.values()]
    sb.close()
    for pid in server_pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert all(not p.exists() for p in paths)


def test_concurrent_runs_of_a_new_program_compile_it_once(sandbox: Sandbox) -> None:
    src = "#include <stdio.h>\nint main(){ puts(\"%s\"); }" % os.urandom(6).hex()
    results = sandbox.run_many([Program("c", src)] * 6, QUICK)
    assert all(r.ok for r in results)
    assert sum(not r.cached for r in results) == 1  # one compiled, five waited and hit the cache
    bad = "int main( { %s }" % os.urandom(6).hex()
    errs = sandbox.run_many([Program("c", bad)] * 4, QUICK)
    assert all(r.status is Status.COMPILE_ERROR for r in errs) and sum(not r.cached for r in errs) == 1


def test_python_runs_see_fresh_pipe_streams_and_the_fixed_environment(sandbox: Sandbox) -> None:
    src = (
        "import os, sys\n"
        "print(sys.stdin.seekable(), sys.stdout.seekable(), sys.stdout.isatty(), sys.stdout.encoding)\n"
        "print(sorted(os.environ))\n"
        "print(sys.stdin.read().upper(), end='')\n"
        "sys.stderr.write('err\\n')\n"
        "os.environ['LEAK'] = '1'\n"
        "sys.stdout.write('partial')\n"  # no newline, no flush: must still arrive
    )
    for _ in range(2):  # the second run must not see the first's environment change
        r = sandbox.run(Program("python", src, stdin="héllo\n"))
        assert r.status is Status.OK, r.stderr
        lines = r.stdout.split("\n")
        assert lines[0] == "False False False utf-8"
        assert lines[1] == str(sorted(["PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE",
                                       "PYTHONIOENCODING"]))
        assert lines[2] == "HÉLLO" and lines[3] == "partial"
        assert r.stderr == "err\n"


def test_the_seccomp_setting_decides_whether_the_filter_is_loaded(sandbox: Sandbox) -> None:
    src = "import socket\ntry:\n    socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n    print('created')\nexcept OSError as e:\n    print('refused', e.errno)"
    assert sandbox.capabilities()["seccomp"] is True
    assert sandbox.run(Program("python", src)).stdout.startswith("refused 97")  # EAFNOSUPPORT
    with Sandbox(workers=1, yield_after_s=None, seccomp=False) as sb:
        info = sb.capabilities()
        assert info["seccomp"] is False and "turned off" in info["seccomp_reason"]
        # Only the empty network namespace is left: the socket exists but reaches nothing.
        assert sb.run(Program("python", src)).stdout == "created\n"
