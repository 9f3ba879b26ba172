"""The fork server: a small, warm process that runs inside the isolation and forks once per program.

This file is run by the *system* Python (``python3 -S -I``) inside bubblewrap, as root of the
sandbox's own PID, mount, network, IPC and UTS namespaces, with only the capabilities it needs.
It imports nothing from ``codeeval_rl`` (that package lives in a virtual environment the sandbox
cannot see) and only the standard library plus libseccomp's binding when present. Its one
argument is a JSON object: the worker uid, whether to load the seccomp filter, and the numbers
of the directory fds it inherits (the compile cache, the worker's cgroups), which are never
mounted where a program could see them. At start it remounts /proc with ``hidepid=2``.

Protocol (on fds 0 and 1): frames of a 4-byte big-endian length and a UTF-8 JSON object.
The host sends ``{"op": "run", ...}`` and reads one reply per request; ``{"op": "ping"}``
answers the server's capabilities. Per run the server:

1. writes the program's files into an empty working directory on the worker's tmpfs (and, for
   a compiled program, copies its build output from the cache to ``/box/artifact``), then
   forks a child that joins the worker's cgroup (memory and pids limits), sets rlimits, drops
   to the worker's unprivileged uid, sets no_new_privs and either execs the program or
   (Python) runs the source in this warm interpreter. The seccomp filter is already in place:
   the server loads it into itself at start and every child inherits it;
2. feeds stdin and reads stdout/stderr while the child runs, up to the output cap; when the
   request's limits carry ``yield`` (seconds) and the run is still going after that long,
   moves the run to the idle scheduling class (see ``Server._yield_run``) and sends
   ``{"event": "yielded"}`` ahead of the reply, so the host can start another run beside it;
3. on exit, timeout or output overflow kills every process of the worker's uid and reaps
   them (the server is a child subreaper), reads the cgroup's peak memory and OOM count,
   reads back the files the request names in ``fetch`` (:func:`_fetch_files`: regular files
   under the working directory, no symbolic link followed, all of them within the output
   cap; base64 in the reply's ``files``), then
   empties the working directory and /tmp, drops the artifact copy and removes every IPC
   object of the worker's IPC namespace, so no process, file or IPC object outlives a run.

Rootless mode (``"rootless": true``; the host is not root): the server is uid 0 of an
unprivileged user namespace, which is also the program's uid, so uids cannot separate them.
Per run the server then unshares a new PID namespace and forks the run's *init* into it
(:meth:`Server._run_init`): the init takes a mount namespace of its own with a fresh ``/proc``
(``hidepid=2``) and everything read-only but the run's working directory and ``/tmp``, makes
itself non-dumpable, ignores signals, drops every capability, forks the program and reports
its exit status on a pipe. The program cannot see or signal the server (another PID
namespace) nor its init (hidden, signals ignored, ``/proc/1/mem`` closed to it); when the init
ends, the kernel kills whatever is left in the namespace. The seccomp filter is loaded into
each program (the server needs mount and setns, which it denies). No cgroups: RLIMIT_DATA per
process, and the run's memory (resident, from ``/proc``, plus its tmpfs use) is watched every
``WATCH_S`` seconds (:meth:`Server._memory_over`).

Python runs carry an import hook (:class:`MissingImports`): an import of a known package
(``KNOWN_IMPORTS``) that no finder provides is reported to the server on fd 3, and, unless the
import sits inside a ``try`` of its own frame, ends the program at once, so that a harness
cannot swallow it: the host then reports ``missing_dependency``.
"""

import ctypes
import errno
import json
import os
import select
import signal
import stat
import struct
import sys
import time

# Modules user programs commonly import: importing them once here makes every fork warm.
for _name in (
    "collections", "itertools", "functools", "math", "heapq", "bisect", "re", "string",
    "random", "typing", "dataclasses", "io", "traceback", "copy", "operator", "fractions",
    "decimal", "statistics", "json", "enum", "abc", "threading", "atexit", "types",
    "unittest", "hashlib", "datetime", "array", "textwrap",
):
    try:
        __import__(_name)
    except Exception:  # pragma: no cover - a trimmed system Python
        pass

import atexit
import base64
import dis
import gc
import io
import resource
import threading
import traceback
import types

LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
# statvfs f_flag bits -> mount flags: a remount inside a user namespace must keep these.
_ST_TO_MS = ((1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC), (1024, MS_NOATIME),
             (2048, MS_NODIRATIME), (4096, MS_RELATIME))
KNOWN_IMPORTS_FILE = "/.codeeval/known_imports"
MISSING_EXIT = 1  # a program stopped by a missing package exits as an uncaught ImportError would
WATCH_S = 0.02  # rootless: how often a run's memory is looked at

BOX = "/box"  # the worker's run tmpfs: the working directory and /tmp (a symlink to BOX/tmp)
WORKDIR = "/box/work"
RUNTMP = "/box/tmp"
ARTIFACT = "/box/artifact"  # a run's own copy of its compiled program, read-only to it
SCRATCH = "/scratch"
MQUEUE = "/dev/mqueue"  # the worker's POSIX message queues, listed to remove them after a run
ENV_ALLOW = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": WORKDIR,
    "TMPDIR": "/tmp",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
}


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def _check(ret, what):
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


# --------------------------------------------------------------------------------------------
# seccomp: built once with libseccomp, exported as raw BPF and loaded into the server itself
# at start, so every child inherits it with no per-run cost (the server needs none of the
# denied calls once bubblewrap has set the namespaces up).
#
# An allow list: Docker's default profile less what a test program never needs, for 64-bit
# hosts (x86_64, aarch64; names an architecture lacks are skipped). Each group says why its
# calls must stay allowed. A call in no group fails with ENOSYS, as on a kernel without it,
# so libc falls back where it can and calls that later kernels add stay shut; the calls in
# DENIED fail with EPERM.
ALLOWED = {
    # Every runtime maps and frees memory; the JITs (JVM, V8) change page protections and use
    # membarrier and memfd. The memory cgroup, not the filter, bounds how much they get.
    "memory": (
        "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "membarrier",
        "memfd_create", "map_shadow_stack",
    ),
    # Files: the private working directory and /tmp, reads of the read-only system directories.
    # RLIMIT_FSIZE, the tmpfs size and the memory cgroup bound writes. Extended attributes:
    # shutil.copy2 copies them (the server's compile cache too). inotify: node's fs.watch.
    "files": (
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
        "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "dup",
        "dup2", "dup3", "fcntl", "ioctl", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs",
        "fstatfs", "access", "faccessat", "faccessat2", "getdents", "getdents64", "getcwd", "chdir",
        "fchdir", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat",
        "renameat2", "link", "linkat", "symlink", "symlinkat", "readlink", "readlinkat", "chmod",
        "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "fchownat", "lchown", "umask",
        "truncate", "ftruncate", "fallocate", "fsync", "fdatasync", "sync_file_range", "flock",
        "utime", "utimes", "utimensat", "futimesat", "fadvise64", "readahead", "sendfile",
        "copy_file_range", "splice", "tee", "vmsplice", "mknod", "mknodat", "getxattr",
        "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "setxattr", "lsetxattr",
        "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "inotify_init",
        "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    ),
    # Processes and threads: javac, rustc and the C compilers run several, node and the JVM
    # start threads. clone only without namespace flags (rules below); the cgroup's pids limit
    # and RLIMIT_NPROC bound how many. Signals reach only the worker uid's own processes.
    "processes": (
        "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "kill",
        "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "getpid", "getppid", "gettid",
        "getpgid", "setpgid", "getpgrp", "getsid", "setsid", "set_tid_address", "set_robust_list",
        "get_robust_list", "rseq", "arch_prctl", "set_thread_area", "get_thread_area", "prctl",
        "futex", "futex_waitv", "restart_syscall", "uname", "sysinfo", "getcpu", "capget", "capset",
    ),
    # Scheduling and limits: runtimes size their thread pools from the affinity mask and read
    # their limits; the server moves yielded runs to SCHED_IDLE and nice 19 with these. A
    # program cannot raise its priority (RLIMIT_NICE and RLIMIT_RTPRIO are 0) or a hard limit.
    "scheduling": (
        "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
        "sched_getscheduler", "sched_setscheduler", "sched_getattr", "sched_setattr",
        "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval", "getpriority",
        "setpriority", "ioprio_get", "ioprio_set", "getrlimit", "setrlimit", "prlimit64",
        "getrusage", "times",
    ),
    # User and group ids: the server drops to the worker uid with these; without capabilities
    # a program can only read its ids or swap them among the values it already has.
    "identity": (
        "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid",
        "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid",
        "setfsgid",
    ),
    # Signals: every runtime installs handlers (the JVM's safepoints, Python's SIGINT).
    "signals": (
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
        "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd",
        "signalfd4", "pause", "alarm",
    ),
    # Clocks, sleeps and timers, read only: setting or adjusting a clock is denied.
    "time": (
        "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
        "getitimer", "setitimer", "timer_create", "timer_settime", "timer_gettime",
        "timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    ),
    # Waiting on pipes, stdin and event loops (node's libuv, Java NIO, Python's selectors);
    # getrandom seeds every runtime's hash tables and RNGs.
    "polling": (
        "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
        "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "pipe", "pipe2",
        "getrandom",
    ),
    # UNIX-domain sockets (socket and socketpair take AF_UNIX alone, rules below), which
    # multiprocessing and subprocess plumbing use; the network namespace is empty anyway.
    "unix sockets": (
        "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
        "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
        "recvmmsg", "shutdown",
    ),
    # System V and POSIX IPC, which concurrency exercises use: each worker has its own IPC
    # namespace, and the server removes every object a run made when the run ends.
    "ipc": (
        "shmget", "shmat", "shmdt", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl", "semget",
        "semop", "semtimedop", "semctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
        "mq_notify", "mq_getsetattr",
    ),
}
DENIED = (
    # other processes' memory and file descriptors
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
    "process_mrelease",
    # mounts, namespaces and the root directory
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
    "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
    # large kernel surfaces no test program needs: io_uring (whose IORING_OP_SOCKET gets round
    # the socket rule), eBPF, perf, userfaultfd, keyrings, fanotify, file handles, the LDT
    "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open",
    "userfaultfd", "keyctl", "add_key", "request_key", "fanotify_init", "fanotify_mark",
    "open_by_handle_at", "name_to_handle_at", "modify_ldt", "lookup_dcookie",
    # NUMA placement of memory
    "mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages",
    "set_mempolicy_home_node",
    # the machine: clocks, names, kernel, modules, swap, quotas, accounting, the kernel log,
    # I/O ports, the terminal, and sync/syncfs (which flush the host's disks)
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "sethostname", "setdomainname",
    "kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module", "delete_module",
    "swapon", "swapoff", "quotactl", "quotactl_fd", "acct", "syslog", "iopl", "ioperm", "vhangup",
    "sync", "syncfs",
)
CLONE_NS_FLAGS = (0x10000000, 0x20000000, 0x40000000, 0x04000000, 0x08000000, 0x00020000, 0x02000000)
AF_UNIX = 1
# personality: reading it (0xffffffff) and the plain Linux personas Docker allows; other
# flags (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ...) are refused.
PERSONA_BITS = 0x20008  # UNAME26 | PER_LINUX32


def build_seccomp():
    """Return (prog, keepalive) for the filter, or (None, reason) when libseccomp is missing."""
    if "/usr/lib/python3/dist-packages" not in sys.path:
        sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import seccomp  # type: ignore
    except Exception as exc:  # noqa: BLE001
        return None, f"libseccomp binding unavailable: {exc}"
    S = seccomp
    f = S.SyscallFilter(S.ERRNO(errno.ENOSYS))
    try:
        f.set_attr(S.Attr.CTL_OPTIMIZE, 2)  # a binary search over syscall numbers, not a list
    except Exception:  # noqa: BLE001 - libseccomp before 2.5: the linear filter works too
        pass
    eperm = S.ERRNO(errno.EPERM)

    def rule(action, name, *args):
        try:
            f.add_rule(action, name, *args)
        except Exception:  # noqa: BLE001 - syscall unknown on this architecture or libseccomp
            pass

    for names in ALLOWED.values():
        for name in names:
            rule(S.ALLOW, name)
    for name in DENIED:
        rule(eperm, name)
    # Only UNIX-domain sockets: no network stack at all, even inside the empty netns.
    for name in ("socket", "socketpair"):
        rule(S.ALLOW, name, S.Arg(0, S.EQ, AF_UNIX))
        rule(S.ERRNO(errno.EAFNOSUPPORT), name, S.Arg(0, S.NE, AF_UNIX))
    # No new namespaces through clone; clone3 hides its flags in memory, so make libc fall back.
    for flag in CLONE_NS_FLAGS:
        rule(eperm, "clone", S.Arg(0, S.MASKED_EQ, flag, flag))
    ns_mask = 0
    for flag in CLONE_NS_FLAGS:
        ns_mask |= flag
    rule(S.ALLOW, "clone", S.Arg(0, S.MASKED_EQ, ns_mask, 0))
    rule(S.ERRNO(errno.ENOSYS), "clone3")
    query = 0xFFFFFFFF
    rule(S.ALLOW, "personality", S.Arg(0, S.MASKED_EQ, query & ~PERSONA_BITS, 0))
    rule(S.ALLOW, "personality", S.Arg(0, S.EQ, query))
    rule(eperm, "personality", S.Arg(0, S.LT, query))
    rule(eperm, "personality", S.Arg(0, S.GT, query))
    r, w = os.pipe()
    with os.fdopen(w, "wb") as wf:
        f.export_bpf(wf)
    with os.fdopen(r, "rb") as rf:
        raw = rf.read()
    n = len(raw) // 8
    arr = (SockFilter * n)()
    ctypes.memmove(arr, raw, len(raw))
    prog = SockFprog(n, ctypes.cast(arr, ctypes.POINTER(SockFilter)))
    return (prog, arr), ""


# --------------------------------------------------------------------------------------------
# Rootless helpers: namespaces, mounts and capabilities of one run.
class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities():
    """No capability left, none to regain: ambient set cleared, bounding set emptied (needs
    CAP_SETPCAP, so first), then effective, permitted and inheritable zeroed."""
    LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    for cap in range(64):
        if LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EINVAL:
            break  # past the last capability this kernel knows
    data = (CapData * 2)()
    _check(LIBC.capset(ctypes.byref(CapHeader(0x20080522, 0)), data), "capset")


def _mount(source, target, fstype, flags, data=None):
    enc = (lambda v: v.encode() if isinstance(v, str) else v)
    _check(LIBC.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _kept_flags(path):
    """The mount flags of ``path`` that a remount inside a user namespace must repeat."""
    flags = 0
    st = os.statvfs(path).f_flag
    for bit, ms in _ST_TO_MS:
        if st & bit:
            flags |= ms
    return flags


def _run_mounts(writable):
    """In a new mount namespace: a /proc of the run's own PID namespace (``hidepid=2``: the
    non-dumpable init stays hidden) and every mount read-only except ``writable`` (the run's
    working directory and /tmp, bound onto themselves first so they stay writable)."""
    _check(LIBC.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
    for d in writable:
        _mount(d, d, None, MS_BIND | MS_REC)
    for target in ("/", BOX, SCRATCH, "/dev"):
        try:
            flags = _kept_flags(target)
        except OSError:
            continue
        if flags & MS_RDONLY:
            continue
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)


class MissingImports:
    """A meta path finder consulted after every other: the import it sees failed. For a known
    package it writes ``name!`` (fatal) or ``name?`` (the import sits inside a ``try`` of the
    frame that made it, which may have a fallback) to ``fd``; a fatal one ends the program at
    once with an ImportError's exit status, so no harness or ``except Exception`` can turn the
    missing package into an ordinary failure of the program. Where frames cannot be inspected
    (a test harness's audit hook forbids it) every such import is fatal."""

    def __init__(self, known, fd):
        self.known = known
        self.fd = fd
        self.seen = set()

    def find_spec(self, name, path=None, target=None):
        if path is not None or name not in self.known:
            return None
        try:
            frame = _importer_frame(sys._getframe(1))
            guarded = frame is None or _guarded(frame, name)
        except Exception:  # noqa: BLE001 - frames hidden (a test harness's audit hook): fatal
            guarded = False
        mark = (name, guarded)
        if mark not in self.seen:
            self.seen.add(mark)
            try:
                os.write(self.fd, f"{name}{'?' if guarded else '!'}\n".encode())
            except OSError:
                pass
        if guarded:
            return None
        try:
            sys.stdout.flush()
            sys.stderr.write(f"ModuleNotFoundError: No module named '{name}' "
                             "(the sandbox's runtime profile does not provide it)\n")
            sys.stderr.flush()
        finally:
            os._exit(MISSING_EXIT)

    def invalidate_caches(self):
        pass


def _importer_frame(frame):
    """The frame whose import statement (or import_module call) reached the finders."""
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith("<frozen importlib") or name.endswith(os.path.join("importlib", "__init__.py"))):
            return frame
        frame = frame.f_back
    return None


def _guarded(frame, name):
    """Whether the import of ``name`` that ``frame`` is making may be handled: the frame is
    inside a try (or with) block at its current instruction, from the code object's exception
    table (Python 3.11+; older: assume so, and let it raise); or the frame's instruction imports
    another module, so the import came from compiled code (an extension module's own optional
    import, such as pandas' of pyarrow), whose handlers no frame shows."""
    parse = getattr(dis, "_parse_exception_table", None)
    if parse is None:
        return True
    lasti = frame.f_lasti
    try:
        for ins in dis.get_instructions(frame.f_code):
            if ins.offset == lasti:
                if ins.opname in ("IMPORT_NAME", "IMPORT_FROM") and str(ins.argval).split(".")[0] != name:
                    return True
                break
        return any(e.start <= lasti < e.end for e in parse(frame.f_code))
    except Exception:  # noqa: BLE001 - an unexpected table: treat as guarded
        return True


def _load_known_imports():
    try:
        with open(KNOWN_IMPORTS_FILE) as f:
            return frozenset(f.read().split())
    except OSError:
        return frozenset()


def _statm(pid):
    """(resident, resident anonymous) bytes of a process, 0s if it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            fields = f.read().split()
        resident, shared = int(fields[1]), int(fields[2])
        return resident * _PAGE, max(0, resident - shared) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0, 0


def _pss(pid):
    """Proportional set size in bytes (shared pages divided among their sharers)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _disk_used(path):
    try:
        st = os.statvfs(path)
        return (st.f_blocks - st.f_bfree) * st.f_frsize
    except OSError:
        return 0


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _close_all_but(keep):
    start = 0
    for fd in sorted(keep):
        if fd > start:
            os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, 65536)


def _first_child(pid):
    """The first child of ``pid`` (rootless: the program, child of the run's init), or None."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None
    except (OSError, ValueError):
        return None


def _run_pids(init):
    """Rootless: the pids (as strings) of the run's processes: everything this server sees
    but bubblewrap's init, the server itself and the run's init ``init``."""
    skip = {"1", str(os.getpid()), str(init)}
    return [p for p in os.listdir("/proc") if p.isdigit() and p not in skip]


class _MemoryWatch:
    """Rootless memory limit: the run's resident anonymous memory plus what it added to its
    tmpfs, looked at every ``WATCH_S``; when that cheap figure passes the limit, the
    proportional set size (shared pages, such as the warm interpreter's, divided among their
    sharers) decides, and a run over the limit is killed (``killed``)."""

    def __init__(self, init, limit, disk):
        self.init = init
        self.limit = limit
        self.disk = disk
        self.disk_base = _disk_used(disk)
        self.anon_base = _statm("self")[1]  # a forked Python run starts sharing these
        self.peak = 0
        self.killed = False

    def over(self):
        pids = _run_pids(self.init)
        disk = max(0, _disk_used(self.disk) - self.disk_base)
        anon = sum(_statm(p)[1] for p in pids)
        self.peak = max(self.peak, max(0, anon - self.anon_base) + disk)
        if anon + disk <= self.limit:
            return False
        if sum(_pss(p) for p in pids) + disk <= self.limit:
            return False
        self.killed = True
        return True


def _limit(res, soft, hard=None):
    """setrlimit, lowering ``hard`` to the current hard limit where we may not raise it (rootless)."""
    hard = soft if hard is None else hard
    try:
        resource.setrlimit(res, (soft, hard))
    except (ValueError, OSError):
        cur = resource.getrlimit(res)[1]
        if cur != resource.RLIM_INFINITY:
            hard = min(hard, cur)
            soft = min(soft, hard)
        resource.setrlimit(res, (soft, hard))


def _vm_data():
    """This process's data size (VmData) in bytes: what a forked Python run starts with."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


# --------------------------------------------------------------------------------------------
class Cgroup:
    """The worker's cgroup: one directory per controller name, each an fd the host opened and
    passed in (``/proc/self/fd/N``), so no cgroup path is mounted where programs could read it."""

    def __init__(self, fds):
        self.version = 0
        self.dirs = {name: _fd_path(fd) for name, fd in sorted(fds.items())}
        if "unified" in self.dirs:
            self.version = 2
        elif "memory" in self.dirs:
            self.version = 1
        self._last = {}

    def _write(self, ctrl, fname, value):
        key = (ctrl, fname)
        if fname != "cgroup.procs" and self._last.get(key) == value:
            return
        with open(os.path.join(self.dirs[ctrl], fname), "w") as f:
            f.write(value)
        self._last[key] = value

    def _read(self, ctrl, fname):
        if ctrl not in self.dirs:  # no cgroup (rootless, or allow_no_cgroups)
            return ""
        try:
            with open(os.path.join(self.dirs[ctrl], fname)) as f:
                return f.read()
        except OSError:
            return ""

    def prepare(self, mem_bytes, nproc):
        if self.version == 1:
            nproc += 1  # the server itself sits in the v1 pids cgroup
            self._write("memory", "memory.limit_in_bytes", str(mem_bytes))
            if "pids" in self.dirs:
                self._write("pids", "pids.max", str(nproc))
        elif self.version == 2:
            self._write("unified", "memory.max", str(mem_bytes))
            self._write("unified", "memory.swap.max", "0")
            self._write("unified", "pids.max", str(nproc))

    def start_peak(self):
        """Reset the peak and return the usage now (page cache left by earlier runs)."""
        try:
            if self.version == 1:
                with open(os.path.join(self.dirs["memory"], "memory.max_usage_in_bytes"), "w") as f:
                    f.write("0")
                return int(self._read("memory", "memory.usage_in_bytes") or 0)
            if self.version == 2:
                # Since Linux 6.12 a write to memory.peak resets the peak seen through that fd.
                self._peak_fd = os.open(os.path.join(self.dirs["unified"], "memory.peak"), os.O_RDWR)
                os.write(self._peak_fd, b"reset\n")
                return int(self._read("unified", "memory.current") or 0)
        except (OSError, ValueError):
            self._peak_fd = None
        return None

    def peak(self):
        """Peak usage since :meth:`start_peak`, or None where the kernel cannot tell."""
        try:
            if self.version == 1:
                return int(self._read("memory", "memory.max_usage_in_bytes") or 0)
            fd = getattr(self, "_peak_fd", None)
            if fd is not None:
                self._peak_fd = None
                try:
                    return int(os.pread(fd, 64, 0).strip() or 0)
                finally:
                    os.close(fd)
        except (OSError, ValueError):
            pass
        return None

    # The memory cgroup holds only the run: the server must never be charged for (or be
    # stuck behind) what a program left there, e.g. files filling the tmpfs. With cgroup v1
    # the server joins the pids cgroup once and its children inherit it, so a run pays for
    # one migration (memory); with v2 the child joins the single unified cgroup.
    def join_server(self):
        if self.version == 1 and "pids" in self.dirs:
            self._join("pids")

    def join_child(self):
        self._join("memory" if self.version == 1 else "unified")

    def _join(self, ctrl):
        with open(os.path.join(self.dirs[ctrl], "cgroup.procs"), "w") as f:
            f.write("0")

    def make_idle(self, pids):
        """Put a yielded run in the idle CPU class as a group: cgroup v1 moves its processes into
        the worker's ``cpu`` cgroup (``cpu.idle`` 1, normal runs never join it); v2 sets
        ``cpu.idle`` on the run's own cgroup (undone by :meth:`end_idle`). Per-task SCHED_IDLE
        alone does not do it where the kernel groups each session (autogroup): the run's group
        would still take a full share. Best effort: False where the host has no such knob."""
        try:
            if self.version == 1 and "cpu" in self.dirs:
                for pid in pids:
                    try:
                        self._write("cpu", "cgroup.procs", str(pid))
                    except ProcessLookupError:
                        pass
                return True
            if self.version == 2:
                self._write("unified", "cpu.idle", "1")
                return True
        except OSError:
            pass
        return False

    def end_idle(self):
        if self.version == 2 and self._last.get(("unified", "cpu.idle")) == "1":
            try:
                self._write("unified", "cpu.idle", "0")
            except OSError:
                pass

    def procs(self):
        """Pids (in our PID namespace) still in the worker's cgroup, the server's excepted."""
        ctrl = "memory" if self.version == 1 else "unified"
        me = str(os.getpid())
        return [p for p in self._read(ctrl, "cgroup.procs").split() if p != me]

    def oom_kills(self):
        text = self._read("memory", "memory.oom_control") if self.version == 1 else self._read("unified", "memory.events")
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "oom_kill":
                return int(parts[1])
        return 0


# --------------------------------------------------------------------------------------------
class Server:
    def __init__(self, uid, cache_fd, cgroup_fds, seccomp=True, notify=None, rootless=False):
        self.uid = uid
        self.rootless = rootless
        self.known_imports = _load_known_imports()
        # Rootless: this PID namespace, to return to after forking each run's init into a new one.
        self._pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC) if rootless else -1
        # The compile cache: a directory fd from the host, reachable only by this root server
        # (programs run as the worker uid, with every fd but 0-2 closed).
        self.cache = _fd_path(cache_fd)
        self.notify = notify  # sends an event frame to the host ahead of the reply
        self.stdio = _child_stdio()
        self.cg = Cgroup(cgroup_fds)
        if seccomp:
            self.seccomp, self.seccomp_reason = build_seccomp()
        else:
            self.seccomp, self.seccomp_reason = None, "turned off (sandbox.seccomp: false)"
        self.serial = 0
        if self.cg.version:
            self.cg.join_server()
        self._oom_count = self.cg.oom_kills()
        self._maxrss = 0
        _check(LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "PR_SET_CHILD_SUBREAPER")
        # The program's leftovers are our children as subreaper: reap them ourselves.
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        try:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("-1000")
        except OSError:
            pass

    # ---- child side ------------------------------------------------------------------------
    def _child_setup(self, req, fds, exec_status_w):
        """Runs in the forked child as root (rootless: as the run's init's child, capabilities
        already dropped); returns only in the program's final identity. ``exec_status_w``
        becomes fd 3: exec failures (exec mode) or missing imports (Python) go there."""
        stdin_r, stdout_w, stderr_w = fds
        limits = req["limits"]
        os.setsid()
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if self.cg.version:
            self.cg.join_child()
        os.chdir(req.get("cwd") or WORKDIR)
        os.dup2(stdin_r, 0)
        os.dup2(stdout_w, 1)
        os.dup2(stderr_w, 2)
        keep = exec_status_w if exec_status_w is not None else -1
        if keep >= 0:
            os.dup2(keep, 3)
            os.closerange(4, 65536)
        else:
            os.closerange(3, 65536)
        cpu = max(1, int(limits["cpu"] + 0.999))
        nproc = int(limits["nproc"])
        if self.rootless:
            # RLIMIT_NPROC counts this user namespace's processes: bubblewrap's init, this
            # server and the run's init are three of them.
            nproc += 3
            _limit(resource.RLIMIT_DATA, int(limits["data"]) + (_vm_data() if req.get("mode") == "python" else 0))
        _limit(resource.RLIMIT_CPU, cpu, cpu + 1)
        _limit(resource.RLIMIT_FSIZE, limits["fsize"])
        _limit(resource.RLIMIT_NOFILE, limits["nofile"])
        _limit(resource.RLIMIT_NPROC, nproc)
        _limit(resource.RLIMIT_CORE, 0)
        # No way back from a yield (nice 19) and no real-time scheduling for the program.
        _limit(resource.RLIMIT_NICE, 0)
        _limit(resource.RLIMIT_RTPRIO, 0)
        if not self.rootless:  # rootless: one uid is mapped, and it is already ours
            os.setgroups([])
            os.setresgid(self.uid, self.uid, self.uid)
            os.setresuid(self.uid, self.uid, self.uid)
        LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if req.get("mode") != "python":
            # exec keeps ignored signals ignored: give the program the defaults a shell would.
            for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM, signal.SIGXFSZ, signal.SIGXCPU):
                signal.signal(sig, signal.SIG_DFL)
        elif keep >= 0:
            os.set_inheritable(3, False)  # a program's own subprocesses do not get it
            os.set_blocking(3, False)  # never wait on the report pipe
        if self.rootless:
            try:
                with open("/proc/self/oom_score_adj", "w") as f:
                    f.write("1000")  # no cgroup: be the kernel's first choice if memory runs out
            except OSError:
                pass
            if self.seccomp is not None:  # last: the filter denies what the set-up above used
                _check(LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self.seccomp[0]), 0, 0),
                       "seccomp")
        env = dict(ENV_ALLOW)
        env.update(req.get("env") or {})
        return env, (3 if keep >= 0 else None)

    def _run_python_in_child(self, req):
        """Run Python source in this warm interpreter, as ``python3 main.py`` would.

        The server's own environment is already ``ENV_ALLOW`` and the standard streams were
        built once on pipes at start (``self.stdio``, see :func:`_child_stdio`), so a run only
        adds what its request asks for."""
        if req.get("env"):
            os.environ.update(req["env"])
        sys.stdin, sys.stdout, sys.stderr = self.stdio
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = self.stdio  # type: ignore[misc]
        filename = req.get("filename", "main.py")
        sys.argv = [filename] + list(req.get("args") or [])
        sys.path[:] = [os.getcwd()] + SYSTEM_PATH + list(req.get("paths") or [])
        if self.known_imports and req.get("report_fd") is not None:
            sys.meta_path.append(MissingImports(self.known_imports, req["report_fd"]))
        main = types.ModuleType("__main__")
        main.__file__ = os.path.join(os.getcwd(), filename)
        main.__builtins__ = __builtins__
        sys.modules["__main__"] = main
        import builtins

        builtins.exit = builtins.quit = _exit_builtin
        code = 0
        try:
            compiled = compile(req["source"], main.__file__, "exec")
            exec(compiled, main.__dict__)  # noqa: S102 - this is the sandboxed program
        except SystemExit as e:
            code = _exit_code(e.code)
        except BaseException:  # noqa: BLE001 - report like the interpreter does
            etype, value, tb = sys.exc_info()
            # Hide this server's own frame, as a fresh interpreter shows none of ours.
            traceback.print_exception(etype, value, tb.tb_next if tb is not None else None)
            code = 1
        try:
            threading._shutdown()  # join non-daemon threads, as interpreter exit does
            atexit._run_exitfuncs()
        except SystemExit as e:
            code = _exit_code(e.code)
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            code = code or 1
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - a closed or broken pipe
                code = code or 120
        os._exit(code)

    # ---- parent side -----------------------------------------------------------------------
    def run(self, req):
        limits = req["limits"]
        mem = int(limits["mem"])
        self.cg.prepare(mem, int(limits["nproc"]))
        oom_before = self._oom_count
        base = self.cg.start_peak()
        if not req.get("cwd"):
            if self.rootless:  # no memory cgroup to charge the tmpfs to: its size is the limit
                _mount("tmpfs", BOX, None, MS_REMOUNT | _kept_flags(BOX), f"size={mem + (16 << 20)}")
            self._fresh_box(req.get("files") or {}, req.get("artifact"))
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        python = req.get("mode") == "python"
        # fd 3 of the program: exec failures (exec mode), missing imports (Python).
        st_r, st_w = os.pipe2(os.O_CLOEXEC)
        if python:
            req = dict(req, report_fd=3)
        fds = (in_r, out_w, err_w)
        rss_base = _statm("self")[0] if self.rootless else 0
        init_r = init_w = None
        t0 = time.monotonic()
        if self.rootless:
            init_r, init_w = os.pipe2(os.O_CLOEXEC)
            _check(LIBC.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
            try:
                pid = os.fork()
            except BaseException:
                LIBC.setns(self._pidns, CLONE_NEWPID)
                raise
            if pid == 0:
                self._run_init(req, fds, st_w, init_w)
            _check(LIBC.setns(self._pidns, CLONE_NEWPID), "setns back to the server's PID namespace")
        else:
            pid = os.fork()
            if pid == 0:
                self._become_program(req, fds, st_w)
        # ---- parent
        for fd in (in_r, out_w, err_w, st_w) + ((init_w,) if init_w is not None else ()):
            os.close(fd)
        try:
            reply = self._supervise(pid, req, limits, t0, in_w, out_r, err_r)
            if req.get("fetch") and not req.get("cwd"):
                # Every process of the run is dead by now: nothing can swap a path as it is read.
                reply["files"] = _fetch_files(WORKDIR, req["fetch"], int(limits["out"]))
        finally:
            self._clean_box()
        reply["rss_base"] = rss_base
        if init_r is not None:
            self._read_init_report(init_r, reply)
        try:  # what is there now: a process that outlived the kill must not hold the server up
            os.set_blocking(st_r, False)
            msg = os.read(st_r, 65536)
        except BlockingIOError:
            msg = b""
        finally:
            os.close(st_r)
        if msg and python:
            reply["missing_imports"] = [[line[:-1], line.endswith("!")] for line in
                                        msg.decode("utf-8", "replace").split("\n") if len(line) > 1]
        elif msg:
            reply["setup_error"] = msg.decode("utf-8", "replace")
        err = reply["stderr_bytes"]
        marker = err.find(b"\x00CODEEVAL-SETUP\x00")
        if marker >= 0:
            reply["setup_error"] = err[marker + 16:].decode("utf-8", "replace")
            reply["stderr_bytes"] = err[:marker]
        if self.rootless:
            # No cgroup: over the limit when the watch saw it, or when the largest process's
            # resident memory (less the warm interpreter's pages it started with) passed it.
            grown = max(0, reply["maxrss"] - reply.get("rss_base", 0))
            reply["peak"] = max(reply.get("watched_peak", 0), grown)
            reply["oom"] = bool(reply.get("watched_oom")) or grown > mem
        else:
            self._oom_count = self.cg.oom_kills()
            reply["oom"] = self._oom_count > oom_before
            peak = self.cg.peak()
            # Memory the run added (its cgroup's peak over the usage it started with); without a
            # resettable cgroup peak, the largest RSS of its processes.
            reply["peak"] = max(0, peak - base) if peak is not None and base is not None else reply["maxrss"]
        reply["stdout"] = reply.pop("stdout_bytes").decode("utf-8", "replace")
        reply["stderr"] = reply.pop("stderr_bytes").decode("utf-8", "replace")
        return reply

    def _become_program(self, req, fds, st_w):
        """In the forked child: set up and become the program (never returns)."""
        python = req.get("mode") == "python"
        try:
            env, st_fd = self._child_setup(req, fds, st_w)
            if python:
                self._run_python_in_child(req)
            else:
                os.set_inheritable(st_fd, False)
                argv = req["argv"]
                try:
                    os.execve(argv[0], argv, env)
                except OSError as e:
                    os.write(st_fd, f"exec {argv[0]}: {e.strerror}".encode())
                    os._exit(127)
        except BaseException as e:  # noqa: BLE001 - setup failed: our fault, say why
            msg = b"\x00CODEEVAL-SETUP\x00" + f"sandbox setup failed: {type(e).__name__}: {e}".encode()
            for fd in (fds[2], 2):  # err_w before the fds are rearranged, 2 after
                try:
                    os.write(fd, msg)
                    break
                except OSError:
                    continue
            os._exit(126)
        os._exit(0)

    # Signals the run's init ignores (a program may send them to pid 1); the program gets the
    # server's own handlers back.
    _INIT_IGNORES = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                     signal.SIGUSR2, signal.SIGALRM, signal.SIGPIPE, signal.SIGTSTP, signal.SIGTTIN,
                     signal.SIGTTOU, signal.SIGVTALRM, signal.SIGPROF, signal.SIGXCPU, signal.SIGXFSZ)

    def _run_init(self, req, fds, st_w, init_w):
        """Rootless: pid 1 of the run's own PID namespace (never returns). Builds the run's mount
        namespace, becomes non-dumpable and capability-less, forks the program, reaps until the
        program ends, writes its status and rusage to ``init_w`` and exits, which makes the
        kernel kill everything else in the namespace."""
        try:
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            # Nothing of the server's but the run's own pipes: a stray copy of the stdin pipe's
            # write end would keep the program from ever reading end-of-file.
            _close_all_but({0, 1, 2, *fds, st_w, init_w})
            saved = {sig: signal.getsignal(sig) for sig in self._INIT_IGNORES}
            for sig in self._INIT_IGNORES:
                signal.signal(sig, signal.SIG_IGN)
            _run_mounts([req.get("cwd") or WORKDIR, RUNTMP])
            LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
            _drop_capabilities()
            child = os.fork()
            if child == 0:
                os.close(init_w)
                LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
                for sig, handler in saved.items():
                    signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
                self._become_program(req, fds, st_w)
            for fd in (*fds, st_w):
                os.close(fd)
            while True:
                pid, status, ru = os.wait4(-1, 0)
                if pid == child:
                    break
            report = {"status": status, "maxrss": ru.ru_maxrss}
            os.write(init_w, json.dumps(report).encode())
        except BaseException as e:  # noqa: BLE001 - our fault: say why, as the program's set-up would
            try:
                os.write(fds[2], b"\x00CODEEVAL-SETUP\x00" + f"sandbox init failed: {type(e).__name__}: {e}".encode())
            except OSError:
                pass
            os._exit(126)
        os._exit(0)

    @staticmethod
    def _read_init_report(init_r, reply):
        """Rootless: the program's own exit status, from its init (which exits 0 itself)."""
        try:
            raw = os.read(init_r, 4096)
        finally:
            os.close(init_r)
        if not raw:
            return  # the init was killed (limits) before the program ended: keep -SIGKILL
        report = json.loads(raw)
        status = report["status"]
        reply["exit_code"] = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        reply["maxrss"] = report["maxrss"] * 1024

    def _fresh_box(self, files, artifact=None):
        """An empty working directory holding just the program's files, an empty /tmp and, for
        a compiled program, a copy of its own build output at ARTIFACT (root's, read-only to the
        program): the cache itself stays out of reach, so no run can find or execute another
        program's binary. Whatever the previous run left was removed after it."""
        if artifact is not None:
            _copy_tree(os.path.join(self.cache, artifact), ARTIFACT)
        os.mkdir(WORKDIR, 0o755)
        os.chown(WORKDIR, self.uid, self.uid)
        for name, text in files.items():
            path = os.path.join(WORKDIR, name)
            d = os.path.dirname(path)
            if d != WORKDIR:
                os.makedirs(d, exist_ok=True)
                os.chown(d, self.uid, self.uid)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            os.chown(path, self.uid, self.uid)

    def _clean_box(self):
        """Empty what the run could write to (its processes are dead): the working directory,
        /tmp, its IPC objects; and drop its copy of the compiled program."""
        try:
            _empty(WORKDIR)
            os.rmdir(WORKDIR)
        except OSError:
            _rmtree(WORKDIR)
        _empty(RUNTMP)
        if os.path.lexists(ARTIFACT):
            _empty(ARTIFACT)
            os.rmdir(ARTIFACT)
        _remove_ipc()

    def _supervise(self, pid, req, limits, t0, in_w, out_r, err_r):
        cap = int(limits["out"])
        deadline = t0 + float(limits["wall"])
        stdin = req.get("stdin", "").encode("utf-8")
        pidfd = os.pidfd_open(pid)
        bufs = {out_r: bytearray(), err_r: bytearray()}
        truncated = {out_r: False, err_r: False}
        poller = select.poll()
        for fd in (out_r, err_r):
            os.set_blocking(fd, False)
            poller.register(fd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        pos = 0
        if stdin:
            os.set_blocking(in_w, False)
            poller.register(in_w, select.POLLOUT)
        else:
            os.close(in_w)
            in_w = -1
        open_fds = {out_r, err_r}
        exited = timed_out = overflow = cpu_out = yielded = False
        yield_at = limits.get("yield")
        yield_deadline = t0 + float(yield_at) if yield_at else None
        # RLIMIT_CPU counts whole seconds per process; a fractional CPU limit is enforced
        # here by sampling the program's CPU time every 50 ms once it could have been reached.
        cpu_limit = float(limits["cpu"])
        watch_cpu = cpu_limit != int(cpu_limit)
        # Rootless: the program is the run's init's child; its memory is watched here.
        main_pid = None if self.rootless else pid
        watch = _MemoryWatch(pid, int(limits["mem"]), req.get("cwd") or BOX) if self.rootless else None
        next_watch = t0
        while True:
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            wait = deadline - now
            if watch is not None:
                if now >= next_watch:
                    if watch.over():
                        break
                    next_watch = now + WATCH_S
                wait = min(wait, max(0.0, next_watch - now))
            if yield_deadline is not None:
                if now >= yield_deadline:
                    yielded = self._yield_run(pid)
                    yield_deadline = None
                else:
                    wait = min(wait, yield_deadline - now)
            if watch_cpu:
                if main_pid is None:
                    main_pid = _first_child(pid)
                if now - t0 >= cpu_limit and main_pid is not None and _cpu_seconds(main_pid) >= cpu_limit:
                    cpu_out = True
                    break
                # wake when the CPU limit could first have been reached, then every 50 ms
                wait = min(wait, max(0.05, cpu_limit - (now - t0)))
            events = poller.poll(max(1, int(wait * 1000) + 1))
            for fd, ev in events:
                if fd == pidfd:
                    exited = True
                elif fd == in_w:
                    try:
                        pos += os.write(in_w, stdin[pos:pos + 65536])
                    except BlockingIOError:
                        pass
                    except OSError:  # the program closed its stdin
                        pos = len(stdin)
                    if pos >= len(stdin) or ev & (select.POLLERR | select.POLLHUP):
                        poller.unregister(in_w)
                        os.close(in_w)
                        in_w = -1
                elif fd in open_fds:
                    overflow |= self._drain(fd, bufs, truncated, cap, open_fds, poller)
            if overflow or exited:
                break
        if exited:
            # The program is gone; collect what is already in the pipes (a daemon may hold them open).
            for fd in tuple(open_fds):  # a copy: _drain discards the fds that reach EOF
                overflow |= self._drain(fd, bufs, truncated, cap, open_fds, poller, final=True)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status, ru = os.wait4(pid, 0)
        wall = time.monotonic() - t0
        self._maxrss = ru.ru_maxrss
        cpu = ru.ru_utime + ru.ru_stime + self._kill_all()
        if yielded:
            self.cg.end_idle()
        for fd in (out_r, err_r, pidfd) + ((in_w,) if in_w >= 0 else ()):
            try:
                os.close(fd)
            except OSError:
                pass
        if os.WIFSIGNALED(status):
            code = -os.WTERMSIG(status)
        else:
            code = os.WEXITSTATUS(status)
        extra = {}
        if watch is not None:
            extra = {"watched_peak": watch.peak, "watched_oom": watch.killed}
        return {
            **extra,
            "exit_code": code,
            "timed_out": timed_out,
            "cpu_exceeded": cpu_out,
            "overflow": overflow,
            "yielded": yielded,
            "stdout_bytes": bytes(bufs[out_r]),
            "stderr_bytes": bytes(bufs[err_r]),
            "stdout_truncated": truncated[out_r],
            "stderr_truncated": truncated[err_r],
            "wall": wall,
            "cpu": cpu,
            "maxrss": self._maxrss * 1024,
        }

    def _yield_run(self, pid):
        """Move the run to the idle scheduling class, so it takes only CPU that runs at
        normal priority leave (a waking normal task preempts it at once), and tell the host.

        Every process of the worker's uid gets nice 19 in one call; then each thread of the
        run's processes gets SCHED_IDLE (threads and processes created later inherit it), and
        the processes move into the idle cpu cgroup where the host has one
        (:meth:`Cgroup.make_idle`). The program cannot undo any of it: RLIMIT_NICE is 0 and no
        cgroup file is reachable from the sandbox."""
        init = pid
        if self.rootless:  # the server shares the uid: one process at a time, never itself
            seen = set(_run_pids(init))
            for p in seen:
                try:
                    os.setpriority(os.PRIO_PROCESS, int(p), 19)
                except OSError:
                    pass
            pid = _first_child(pid) or pid
        else:
            try:
                os.setpriority(os.PRIO_USER, self.uid, 19)
            except OSError:
                return False
        seen = {str(pid)}
        for _ in range(2):  # twice: a process forked during the first pass is caught by the second
            seen.update(self.cg.procs() if self.cg.version else ())
            if self.rootless:
                seen.update(_run_pids(init))
            for p in seen:
                try:
                    tids = os.listdir(f"/proc/{p}/task")
                except OSError:
                    continue
                for tid in tids:
                    try:
                        os.sched_setscheduler(int(tid), os.SCHED_IDLE, os.sched_param(0))
                    except OSError:
                        pass
        self.cg.make_idle(sorted(seen))
        if self.notify is not None:
            self.notify({"event": "yielded"})
        return True

    @staticmethod
    def _drain(fd, bufs, truncated, cap, open_fds, poller, final=False):
        buf = bufs[fd]
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return False
            if not chunk:
                poller.unregister(fd)
                open_fds.discard(fd)
                return False
            room = cap - len(buf)
            if len(chunk) > room:
                buf += chunk[:max(room, 0)]
                truncated[fd] = True
                return True
            buf += chunk
            if not final:
                return False

    def _kill_all(self):
        """SIGKILL every process of the worker's uid (the program's whole tree, daemons included),
        reap them, and return the CPU seconds they used."""
        cpu = self._reap_all()
        if self.rootless:
            # The run's init is gone and reaped, and with it its PID namespace: nothing is left
            # but this server and bubblewrap's init, which no program can reach.
            return cpu
        if self.cg.version and not self.cg.procs():
            return cpu  # the usual case: nothing left in the run's cgroup (one read)
        self._kill_uid()
        uid = str(self.uid)
        for _ in range(1000):
            found = False
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                try:
                    with open(f"/proc/{name}/status") as f:
                        for line in f:
                            if line.startswith("Uid:"):
                                if line.split()[1] == uid:
                                    found = True
                                    os.kill(int(name), signal.SIGKILL)
                                break
                except (OSError, ValueError):
                    continue
            if not found:
                return cpu
            cpu += self._reap_all()
        return cpu

    def _kill_uid(self):
        """kill(-1, SIGKILL) with the worker's uid as real and effective uid: the kernel signals
        every process of that uid in this PID namespace in one pass that forks cannot race (a
        fork bomb refills the slots a /proc scan frees). The saved uid stays 0, so the server
        takes root back at once; root's processes, this one included, are out of the signal's
        reach meanwhile (no effective capabilities)."""
        try:
            os.setresuid(self.uid, self.uid, 0)
        except OSError:
            return
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        finally:
            os.setresuid(-1, 0, -1)
            os.setresuid(0, 0, 0)

    def _reap_all(self):
        cpu = 0.0
        while True:
            try:
                pid, _, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return cpu
            if pid == 0:
                return cpu
            cpu += ru.ru_utime + ru.ru_stime
            self._maxrss = max(self._maxrss, ru.ru_maxrss)

    # ---- compile cache -----------------------------------------------------------------------
    def compile(self, req):
        """Compile into the shared cache once per key; later requests reuse the artifact."""
        key = req["key"]
        final = os.path.join(self.cache, key)
        if os.path.isfile(os.path.join(final, ".ok")):
            return {"cached": True, "ok": True, "output": "", "time": 0.0}
        if os.path.isfile(os.path.join(final, ".error")):
            with open(os.path.join(final, ".error"), encoding="utf-8") as f:
                return {"cached": True, "ok": False, "output": f.read(), "time": 0.0}
        self.serial += 1
        build = os.path.join(SCRATCH, f"build-{os.getpid()}-{self.serial}")
        os.mkdir(build, 0o700)
        try:
            os.chown(build, self.uid, self.uid)
            for name, text in req["files"].items():
                path = os.path.join(build, name)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                os.chown(path, self.uid, self.uid)
            creq = {"mode": "exec", "argv": req["argv"], "limits": req["limits"], "cwd": build,
                    "env": req.get("env") or {}, "stdin": ""}
            r = self.run(creq)
            output = (r["stdout"] + r["stderr"]).strip()
            if r.get("setup_error"):
                return {"cached": False, "ok": False, "output": output, "time": r["wall"],
                        "setup_error": r["setup_error"]}
            ok = r["exit_code"] == 0 and not r["timed_out"] and not r["overflow"] and not r["oom"]
            if r["timed_out"]:
                output = (output + "\ncompilation timed out").strip()
            elif r["oom"]:
                output = (output + "\ncompilation ran out of memory").strip()
            transient = r["timed_out"] or r["oom"]
            tmp = os.path.join(self.cache, f".tmp-{key}-{os.getpid()}-{self.serial}")
            if not transient:
                os.mkdir(tmp, 0o755)
                os.chmod(tmp, 0o755)
                if ok:
                    for name in os.listdir(build):
                        if name in req["files"]:
                            continue
                        _copy(os.path.join(build, name), os.path.join(tmp, name))
                    open(os.path.join(tmp, ".ok"), "w").close()
                else:
                    with open(os.path.join(tmp, ".error"), "w", encoding="utf-8") as f:
                        f.write(output)
                try:
                    os.rename(tmp, final)
                except OSError:  # another worker finished the same key first
                    _rmtree(tmp)
            return {"cached": False, "ok": ok, "output": output, "time": r["wall"]}
        finally:
            _rmtree(build)


def _copy(src, dst):
    import shutil

    if os.path.isdir(src):
        shutil.copytree(src, dst)
        for root, dirs, fnames in os.walk(dst):
            for n in dirs + fnames:
                os.chown(os.path.join(root, n), 0, 0)
    else:
        shutil.copy2(src, dst)
        os.chown(dst, 0, 0)
        os.chmod(dst, 0o755 if os.access(src, os.X_OK) else 0o644)


def _copy_tree(src, dst):
    """Copy the files of a cache entry (no dot files: ``.ok``) into a new directory ``dst``,
    owned by root: directories 0755, files 0755 or 0644 as their source is executable or not."""
    os.mkdir(dst, 0o755)
    with os.scandir(src) as it:
        for entry in it:
            if entry.name.startswith("."):
                continue
            target = os.path.join(dst, entry.name)
            if entry.is_dir(follow_symlinks=False):
                _copy_tree(entry.path, target)
                continue
            mode = 0o755 if entry.stat(follow_symlinks=False).st_mode & 0o100 else 0o644
            fin = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                fout = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
                try:
                    while os.sendfile(fout, fin, None, 1 << 30) > 0:
                        pass
                finally:
                    os.close(fout)
            finally:
                os.close(fin)


_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def _fetch_files(root, names, cap):
    """The files ``names`` (plain relative paths) as a run left them under ``root``, base64
    (name -> text), for ``Program.fetch_files``. Each path is walked one component at a time
    from ``root`` with O_NOFOLLOW, so no symbolic link is followed, not even one pointing
    inside (a link could name any file the server can read); only regular files are read
    (a FIFO or socket never blocks the server: O_NONBLOCK, then fstat); ``cap`` bounds all
    the files together. A name that is missing, not a plain relative path, not a regular
    file, or over what is left of ``cap`` is left out."""
    out = {}
    room = cap
    try:
        root_fd = os.open(root, _OPEN_DIR)
    except OSError:
        return out
    try:
        for name in names:
            if not isinstance(name, str) or name in out or "\0" in name:
                continue
            parts = name.split("/")
            if any(p in ("", ".", "..") for p in parts):
                continue
            dirs = []
            try:
                at = root_fd
                for part in parts[:-1]:
                    at = os.open(part, _OPEN_DIR, dir_fd=at)
                    dirs.append(at)
                fd = os.open(parts[-1], _OPEN_FILE, dir_fd=at)
                try:
                    st = os.fstat(fd)
                    if not stat.S_ISREG(st.st_mode) or st.st_size > room:
                        continue
                    data = bytearray()
                    while len(data) <= room:
                        chunk = os.read(fd, min(1 << 20, room + 1 - len(data)))
                        if not chunk:
                            break
                        data += chunk
                    if len(data) > room:
                        continue
                finally:
                    os.close(fd)
            except OSError:  # missing, a symbolic link (ELOOP), a file where a directory should be
                continue
            finally:
                for d in dirs:
                    os.close(d)
            room -= len(data)
            out[name] = base64.b64encode(bytes(data)).decode("ascii")
    finally:
        os.close(root_fd)
    return out


def _fd_path(fd):
    """A path to a directory this process holds open as ``fd``."""
    return f"/proc/self/fd/{int(fd)}"


# System V IPC: how many objects exist (the *_INFO commands), then their ids and removal.
IPC_RMID = 0
_IPC_KINDS = (  # (name in /proc/sysvipc, ctl function, INFO command, offset of the in-use count)
    ("shm", "shmctl", 14, 0),  # SHM_INFO: shm_info.used_ids
    ("msg", "msgctl", 12, 0),  # MSG_INFO: msginfo.msgpool
    ("sem", "semctl", 19, 28),  # SEM_INFO: seminfo.semusz
)
_IPC_INFO = ctypes.create_string_buffer(256)


def _remove_ipc():
    """Remove every System V shared memory segment, message queue and semaphore set and every
    POSIX message queue in the worker's IPC namespace, so that nothing one run makes is there
    for the next. Costs three counting calls and one empty directory listing when, as usual,
    the run made none (where counting fails, it lists them anyway)."""
    for name, ctl, info_cmd, offset in _IPC_KINDS:
        fn = getattr(LIBC, ctl)
        args = (0, 0, info_cmd, _IPC_INFO) if name == "sem" else (0, info_cmd, _IPC_INFO)
        if fn(*args) >= 0 and int.from_bytes(_IPC_INFO.raw[offset:offset + 4], sys.byteorder) == 0:
            continue
        with open(f"/proc/sysvipc/{name}") as f:
            next(f, None)  # the header
            ids = [int(line.split()[1]) for line in f if line.strip()]
        for ident in ids:
            if name == "sem":
                fn(ident, 0, IPC_RMID)
            else:
                fn(ident, IPC_RMID, None)
    with os.scandir(MQUEUE) as it:
        for entry in it:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass


def _hide_other_processes():
    """Remount this PID namespace's /proc with ``hidepid=2``: a program sees only processes of
    its own uid, not bubblewrap's init (whose command line is the whole bubblewrap invocation)
    nor this server.
    Group 0 (this server) still sees every process. Must run before the seccomp filter."""
    flags = 32 | 2 | 4 | 8  # MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC
    _check(LIBC.mount(b"proc", b"/proc", b"proc", flags, b"hidepid=2,gid=0"), "remounting /proc")


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid):
    """User + system CPU seconds of a live process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def _empty(path):
    """Remove everything inside ``path`` (the usual case, a few plain files, costs one scandir
    and one unlink each; subdirectories go through shutil.rmtree)."""
    with os.scandir(path) as it:
        for entry in it:
            if entry.is_dir(follow_symlinks=False):
                _rmtree(entry.path)
            else:
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    pass


def _rmtree(path):
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _exit_builtin(code=None):
    raise SystemExit(code)


def _exit_code(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except BaseException:  # noqa: BLE001
        pass
    return 1


# --------------------------------------------------------------------------------------------
def _read_exact(fd, n):
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _send(fd, obj):
    body = json.dumps(obj).encode("utf-8")
    data = struct.pack(">I", len(body)) + body
    while data:
        data = data[os.write(fd, data):]


SYSTEM_PATH = [p for p in sys.path if p.startswith("/usr/lib/python3")]


def _child_stdio():
    """sys.stdin/stdout/stderr for Python runs, built once here and inherited by every child,
    where fds 0, 1 and 2 are the run's pipes. They are built while 0-2 are pipes too, so the
    streams probe them as a program would see them (not seekable, not a tty); nothing is ever
    written to them in the server."""
    r, w = os.pipe()
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    try:
        for fd, src in ((0, r), (1, w), (2, w)):
            os.dup2(src, fd)
        return (
            io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8",
                             errors="surrogateescape"),
            io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8",
                             errors="backslashreplace", line_buffering=False),
            io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding="utf-8",
                             errors="backslashreplace", line_buffering=True),
        )
    finally:
        for fd, old in zip((0, 1, 2), saved):
            os.dup2(old, fd)
            os.close(old)
        os.close(r)
        os.close(w)


def main():
    # One JSON argument: {"uid": N, "seccomp": bool, "cache_fd": N, "cgroup_fds": {name: N}}.
    config = json.loads(sys.argv[1])
    uid = int(config["uid"])
    use_seccomp = bool(config.get("seccomp", True))
    rootless = bool(config.get("rootless"))
    os.umask(0o022)
    if not rootless:  # rootless: each run mounts a /proc of its own PID namespace instead
        _hide_other_processes()
    os.environ.clear()
    os.environ.update(ENV_ALLOW)  # what every run starts from (exec passes it explicitly too)
    if not os.path.isdir(RUNTMP):
        os.mkdir(RUNTMP)
    os.chmod(RUNTMP, 0o1777)
    if os.path.lexists(WORKDIR):
        _rmtree(WORKDIR)
    # Keep the protocol on private fds so a child's dup2 over 0/1 never touches it.
    rfd = os.dup(0)
    wfd = os.dup(1)
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    server = Server(uid, config["cache_fd"], config.get("cgroup_fds") or {}, use_seccomp,
                    notify=lambda event: _send(wfd, event), rootless=rootless)
    if server.seccomp is not None and not rootless:
        # Last: the filter binds this server and, through fork, every program it runs.
        _check(LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(server.seccomp[0]), 0, 0), "seccomp")
    gc.freeze()  # children never scan (and so never copy-on-write) the server's own objects
    while True:
        head = _read_exact(rfd, 4)
        if head is None:
            return
        (n,) = struct.unpack(">I", head)
        req = json.loads(_read_exact(rfd, n))
        try:
            op = req.get("op")
            if op == "ping":
                reply = {"ok": True, "seccomp": server.seccomp is not None,
                         "seccomp_reason": server.seccomp_reason, "cgroup": server.cg.version,
                         "mode": "rootless" if rootless else "root",
                         "python": sys.version.split()[0]}
            elif op == "preload":
                # A trusted module (e.g. a test harness) imported once here, so every child
                # finds it in sys.modules instead of receiving and compiling it per run.
                module = types.ModuleType(req["name"])
                exec(compile(req["source"], req["name"] + ".py", "exec"), module.__dict__)  # noqa: S102
                sys.modules[req["name"]] = module
                gc.freeze()
                reply = {"ok": True}
            elif op == "compile":
                reply = {"compile": server.compile(req["compile"])}
            elif op == "run":
                reply = {}
                if req.get("compile"):
                    creply = server.compile(req["compile"])
                    reply["compile"] = creply
                    if not creply["ok"] or creply.get("setup_error"):
                        _send(wfd, reply)
                        continue
                reply.update(server.run(req))
            else:
                reply = {"error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            reply = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        _send(wfd, reply)


if __name__ == "__main__":
    main()
