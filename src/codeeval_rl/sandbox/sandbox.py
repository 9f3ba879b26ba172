"""The public sandbox: a pool of isolated fork servers behind ``run`` and ``run_many``.

Threat model
============
The programs are untrusted and machine-written: buggy, greedy, sometimes adversarial
(reward hacking), not written by a human attacker with kernel exploits at hand.

Guaranteed, on a Linux host where we run as root (e.g. in a container) with bubblewrap,
cgroups (v1 or v2) and libseccomp's Python binding (without root, see "Rootless mode" below):

* **No network.** Each worker has its own network namespace holding only a loopback that
  is down; host services on 127.0.0.1 are unreachable. The seccomp filter also refuses
  every socket family but AF_UNIX, and io_uring (whose ``IORING_OP_SOCKET`` makes sockets
  without socket(2)) is denied.
* **Read-only host, invisible secrets.** The program sees only /usr, /bin, /lib*, /sbin, a
  few named files of /etc (no passwd/shadow of the host), a new /proc of its own PID
  namespace and a minimal /dev. It runs in a fresh, empty tmpfs working directory
  (``/box/work``, also ``$HOME``) and a private /tmp (``/box/tmp``) on the worker's own
  tmpfs, emptied after every run. No home directories, no /root, no /work, no host /tmp.
  The environment is a fixed allow-list (PATH, LANG, LC_ALL, HOME, TMPDIR and a few
  Python variables).
* **No other program's binary.** The compile cache is not mounted: the server holds it as
  an open directory. A compiled program gets a copy of its own build output at
  ``/box/artifact`` (root's, read-only), removed when the run ends, so it cannot list,
  read or execute another program's binary, such as a task's cached reference solution.
* **No host paths.** Nothing is mounted from the host but the system directories above;
  the server's source, /etc/passwd and /etc/group are copied in, and the cache and the
  cgroups are passed as open directories. So ``/proc/self/mountinfo`` names no path of the
  host beyond those directories, and /proc is mounted ``hidepid=2``: a program sees only
  its own processes, not bubblewrap's init (whose command line is the whole bubblewrap
  invocation) nor its fork server.
* **No reach into host processes.** Each worker has its own PID namespace; the program
  runs as an unprivileged uid unique to its worker (locked per host), with no
  capabilities and ``no_new_privs``: it cannot see, signal or ptrace host processes,
  other workers' programs or its own fork server.
* **Hard limits.** Wall time (the server kills on the deadline), CPU time (RLIMIT_CPU per
  process in whole seconds, plus 50 ms sampling of the main process for fractional limits),
  memory (cgroup ``memory.max``/``memory.limit_in_bytes``, no swap: a real limit that
  also holds for the JVM and node, whose heap flags are set below it), processes and
  threads (cgroup pids and RLIMIT_NPROC), file size (RLIMIT_FSIZE), open files
  (RLIMIT_NOFILE), disk (the tmpfs size, charged to the memory cgroup too) and output
  (stdout and stderr are read while the program runs and capped; overflow kills it and
  is flagged).
* **Syscalls: an allow list** (seccomp; the tables and the reason for each group are in
  ``_server.py``): Docker's default profile less what a test program never needs. Allowed,
  because runtimes and compilers need them and the namespaces, the unprivileged uid and the
  limits above bound them: memory mapping (JITs included), files, processes and threads
  (clone without namespace flags), scheduling and rlimits (read, or lowered: RLIMIT_NICE
  and RLIMIT_RTPRIO are 0), user ids (the server drops to the worker uid with them; without
  capabilities a program gains nothing), signals, clocks and timers (read only), polling,
  pipes and getrandom, AF_UNIX sockets, and System V and POSIX IPC (private to the worker,
  removed after each run). Refused with EPERM: ptrace, process_vm_*, kcmp, pidfd_getfd,
  process_madvise; mount, the new mount API, chroot, pivot_root, unshare, setns and
  namespace flags to clone; io_uring, bpf, perf_event_open, userfaultfd, keyrings,
  fanotify, file handles, modify_ldt; NUMA memory policy; setting or adjusting clocks,
  host and domain names, kexec, reboot, modules, swap, quotas, acct, syslog, iopl/ioperm,
  vhangup, sync and syncfs; personality with flags other than reading it or the plain Linux
  personas; sockets other than AF_UNIX (EAFNOSUPPORT). Everything else fails with ENOSYS,
  as on a kernel without it: clone3 (libc falls back to clone), AIO, mlock, memory keys,
  memfd_secret, landlock, seccomp, and whatever later kernels add.
* **Runaway runs yield.** A run still going after ``yield_after_s`` (0.25 s by default) moves
  to the idle scheduling class (SCHED_IDLE, nice 19) and a spare worker takes the next
  program, so an infinite loop or a sleeper costs only idle CPU instead of holding a core
  until its wall limit. The limits stay the same; a yielded program's speed then depends on
  load (see the setting's docs).
* **Nothing survives a run.** At exit, timeout or overflow every process of the worker's
  uid is SIGKILLed and reaped (the server is a child subreaper), daemons included; the
  working directory, /tmp and the copy of the compiled program are removed, and so is every
  System V shared memory segment, message queue and semaphore set and every POSIX message
  queue in the worker's IPC namespace, before the next run.
* **Files read back stay inside the run's working directory.** ``Program.fetch_files`` are
  read by the server after the run's processes are dead, one path component at a time with
  ``O_NOFOLLOW`` (no symbolic link is followed), regular files only, all of them together
  within ``output_bytes``; paths with ``..`` or a leading ``/`` are refused before the run.

What a program can still learn about the host: the kernel version (uname), the CPU model
and count, total and free memory, uptime and load (/proc); the contents of the system
directories (which toolchains are installed) and of the /etc files above; the root
file system's device, type and mount options (``/proc/self/mountinfo``); its own uid and
limits; and the cgroup paths in ``/proc/self/cgroup``: its worker's cgroup, whose name
carries the host pid of the process that owns the sandbox, under the cgroup of that process
(in a container, the container's cgroup path). Not host file paths, the project's checkout,
the cache location, environment variables, or any other process.

Not guaranteed:

* Kernel vulnerabilities: this is namespaces + seccomp + cgroups, not a VM. For code
  written by a human attacker use a VM (gVisor, Firecracker) around the whole service.
* Timing side channels, CPU cache contention, and fairness between concurrent runs
  beyond the per-run limits; run times vary with host load.
* Denial of service of the host's page cache or disk bandwidth by reads of system files.
* Without cgroups (no writable memory controller) memory and process limits are not
  enforced: the sandbox refuses to start unless ``allow_no_cgroups`` is given.
* Without libseccomp's binding the syscall filter is absent (``capabilities()`` says so;
  ``require_seccomp`` refuses instead).
* A runtime profile's packages (``/runtime``) are public code, read-only; their directory's
  host path is visible in ``/proc/self/mountinfo`` when the profiles directory exists.

Rootless mode
=============
Without root (a shared GPU node, a pod that must not run as root) the sandbox runs in an
unprivileged user namespace made by bubblewrap (the kernel must allow them, and bubblewrap
must not be setuid; ``codeeval-rl doctor`` says which). ``mode.GUARANTEES`` lists every
guarantee in both modes. Kept: no network, the read-only host (each run also gets a mount
namespace where everything but its working directory and /tmp is read-only), no other
program's binary, no host paths, the syscall filter (loaded into each run), time, file, disk
and output limits, nothing surviving a run. Weaker, and how:

* **One uid for all.** Only the invoking user's uid exists in the namespace (as 0, with no
  capabilities): the program shares it with the fork server and with the user's other
  processes. What keeps them apart is that each run gets a PID namespace of its own below
  the worker's (the server and every host process are invisible and unreachable), the run's
  init is hidden, non-dumpable and ignores signals, and seccomp denies ptrace and
  process_vm_*. A kernel flaw in user namespaces, a larger surface than root mode exposes,
  reaches the user's own files, not root's.
* **Memory without cgroups.** RLIMIT_DATA bounds each process (the limit plus the runtime's
  untouched mappings, ``Language.rootless_data_mb``) and the run's resident memory and tmpfs
  use are read from /proc every 20 ms; over the limit, the run is killed and reported as
  ``memory_limit``. A fast allocator can pass the limit between two looks, up to its
  RLIMIT_DATA, and a run of several processes can hold up to that much in each; the host's
  OOM killer prefers the program (oom_score_adj 1000).
* **Processes inside the user namespace.** RLIMIT_NPROC is counted per user per user
  namespace: it counts the worker's processes (the three of bubblewrap, the server and the
  run's init are added to the limit), not the user's processes elsewhere, while the user's
  own host RLIMIT_NPROC caps all of them together. There is no pids cgroup.
* **Yielded runs** get SCHED_IDLE and nice 19 per process but no idle cpu cgroup.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import functools
import hashlib
import os
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from queue import Empty, LifoQueue
from typing import Any

from codeeval_rl.config import SandboxSettings, load_sandbox_settings, parse_settings
from codeeval_rl.errors import InputError, SandboxError, SandboxUnavailable
from codeeval_rl.sandbox import profiles as _profiles
from codeeval_rl.sandbox.cgroups import CgroupLayout, detect, sweep_stale
from codeeval_rl.sandbox.languages import Language, get_language, java_main_class
from codeeval_rl.sandbox.mode import Mode, current_mode, guarantees, userns_problem
from codeeval_rl.sandbox.resolve import distribution_for, known_python_imports, missing_from_output
from codeeval_rl.sandbox.worker import ARTIFACT_PATH, Worker
from codeeval_rl.types import ExecutionResult, Limits, Program, Status

__all__ = ["MAX_FETCH_FILES", "Sandbox", "classify", "default_cache_dir"]

MAX_FETCH_FILES = 256
"""The most files one run may name in ``Program.fetch_files``."""

_MEMORY_MESSAGES = (
    "MemoryError", "java.lang.OutOfMemoryError", "JavaScript heap out of memory",
    "std::bad_alloc", "memory allocation of", "Cannot allocate memory",
    "Array buffer allocation failed",
)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "codeeval-rl" / "compile"


def _validate(program: Program) -> Language:
    if not isinstance(program, Program):
        raise InputError(f"expected a Program, got {type(program).__name__}")
    lang = get_language(program.language)
    if not program.source.strip():
        raise InputError("empty source: nothing to run")
    for what, text in (("source", program.source), ("stdin", program.stdin), *program.files.items()):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(f"{what} is not valid Unicode text at offset {exc.start}") from None
    for name in program.files:
        p = PurePosixPath(name)
        if p.is_absolute() or ".." in p.parts or not name or name.startswith("."):
            raise InputError(f"file name {name!r} must be a plain relative path")
    fetch = program.fetch_files
    if isinstance(fetch, str) or not isinstance(fetch, (tuple, list)):
        raise InputError(f"fetch_files must be a list of paths, not {type(fetch).__name__}")
    if len(fetch) > MAX_FETCH_FILES:
        raise InputError(f"fetch_files names {len(fetch)} files; at most {MAX_FETCH_FILES}")
    for name in fetch:
        if (not isinstance(name, str) or not name or len(name) > 4096 or "\0" in name or name.startswith("/")
                or any(part in ("", ".", "..") for part in name.split("/"))):
            raise InputError(f"fetch_files entry {name!r} must be a plain relative path in the working directory "
                             "(no leading /, no . or .. parts)")
    return lang


def classify(reply: dict[str, Any], limits: Limits) -> tuple[Status, str]:
    """Map the server's raw facts about a run to a :class:`Status` and a one-line reason."""
    if reply.get("setup_error"):
        return Status.SANDBOX_ERROR, reply["setup_error"]
    code = reply.get("exit_code")
    if reply.get("overflow"):
        return Status.OUTPUT_LIMIT, f"output exceeded {limits.output_bytes} bytes"
    if reply.get("timed_out"):
        return Status.TIMEOUT, f"wall time limit of {limits.wall_time_s:g}s exceeded"
    if reply.get("oom"):
        return Status.MEMORY_LIMIT, f"memory limit of {limits.memory_mb} MB exceeded (killed)"
    if reply.get("cpu_exceeded") or code == -signal.SIGXCPU or (
            code == -signal.SIGKILL and reply.get("cpu", 0) >= limits.effective_cpu_time_s):
        return Status.TIMEOUT, f"CPU time limit of {limits.effective_cpu_time_s:g}s exceeded"
    if code == 0:
        return Status.OK, ""
    stderr = reply.get("stderr", "")
    tail = stderr[-4000:]
    if any(m in tail for m in _MEMORY_MESSAGES):
        return Status.MEMORY_LIMIT, f"out of memory (limit {limits.memory_mb} MB)"
    if code == -signal.SIGXFSZ:
        return Status.RUNTIME_ERROR, f"file size limit of {limits.file_size_bytes} bytes exceeded"
    if isinstance(code, int) and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return Status.RUNTIME_ERROR, f"killed by {name}"
    return Status.RUNTIME_ERROR, f"exit code {code}"


class Sandbox:
    """Runs untrusted programs in isolated, limited fork-server workers.

    ``Sandbox()`` reads defaults from :class:`SandboxSettings`; pass a settings object, a
    YAML path, or keyword overrides (``Sandbox(workers=2, memory_mb=256)``). Workers start
    on first use; use it as a context manager or call :meth:`close`.

    ``run`` raises :class:`InputError` for unusable input (unknown language, empty source);
    what the program does is always data in the returned :class:`ExecutionResult`.
    ``run_many`` never raises for one bad item: that item's result is ``sandbox_error``
    with the reason, the others run.

    ``profile``: the runtime profile of programs that name none (``Program.runtime``), for
    programs of that profile's language (:mod:`codeeval_rl.sandbox.profiles`); an unknown
    profile, or one not built yet, is an :class:`InputError` naming the command that builds it.
    ``resolve``: a directory of wheels (a local wheel cache); a Python run that comes back
    ``missing_dependency`` is run again with the missing distributions installed from it into
    an overlay (pip ``--no-index``, never the network), when the cache has them.
    ``profiles_dir``: where profiles are built (default ``$CODEEVAL_RL_PROFILES`` or
    ``~/.cache/codeeval-rl/profiles``). Without root the sandbox runs in rootless mode
    (:attr:`mode`; see the module docstring).
    """

    def __init__(self, settings: SandboxSettings | str | os.PathLike[str] | None = None,
                 *, allow_no_cgroups: bool = False, profile: str | None = None,
                 resolve: str | os.PathLike[str] | None = None,
                 profiles_dir: str | os.PathLike[str] | None = None, **overrides: Any) -> None:
        if settings is None or isinstance(settings, (str, os.PathLike)):
            settings = load_sandbox_settings(settings)
        if overrides:
            settings = parse_settings(SandboxSettings, {**settings.model_dump(), **overrides}, section="sandbox")
        self.settings: SandboxSettings = settings
        self.allow_no_cgroups = allow_no_cgroups
        self.mode: Mode = current_mode()
        self.profiles_dir = Path(profiles_dir) if profiles_dir else _profiles.default_profiles_dir()
        self.profile = profile or None
        if self.profile:
            _profiles.load_profile(self.profile, self.profiles_dir)  # unknown or not built: say so now
        self.resolve = Path(resolve) if resolve else None
        self._loaded: dict[str, _profiles.BuiltProfile] = {}
        self.cache_dir = Path(settings.cache_dir) if settings.cache_dir else default_cache_dir()
        self._workers: list[Worker] = []
        # Last in, first out: the busiest workers stay warm (caches, their cgroup's charge
        # stock) and the spares are touched only while runs yield.
        self._idle: LifoQueue[Worker] = LifoQueue()
        # Runs at normal priority at once: ``size``. A run that yields gives its permit back
        # and keeps its worker; the spare workers let the next runs start meanwhile.
        self._permits = threading.BoundedSemaphore(self.size)
        self._lock = threading.Lock()
        self._layout: CgroupLayout | None = None
        self._closed = False
        self._starting = 0  # spare workers being started by _take_worker
        self._preloads: dict[str, str] = {}

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Runs at normal CPU priority at once (``workers``, or one per core)."""
        return self.settings.workers or (os.cpu_count() or 1)

    @property
    def spares(self) -> int:
        """Extra workers for runs started beside yielded ones (0 when yielding is off)."""
        s = self.settings
        if s.yield_after_s is None:
            return 0
        return self.size if s.spare_workers is None else s.spare_workers

    def start(self) -> Sandbox:
        """Start the workers now instead of at the first run (a caller with other set-up to do
        can start them on a thread beside it); returns ``self``. Raises what the first run
        would: :class:`SandboxUnavailable` when the host cannot isolate."""
        self._start()
        return self

    def _start(self) -> None:
        with self._lock:
            if self._workers:
                return
            if self._closed:
                raise SandboxError("this Sandbox is closed")
            self._preflight()
            self.cache_dir.mkdir(parents=True, exist_ok=True)  # only the root servers read it
            if self.resolve is not None:  # overlays appear under it: it must be mounted from the start
                self.profiles_dir.mkdir(parents=True, exist_ok=True)
                os.chmod(self.profiles_dir, 0o755)
            total = self.size + self.spares
            with ThreadPoolExecutor(total) as ex:
                futures = [ex.submit(self._new_worker, f"w{i}") for i in range(total)]
                errors = []
                for f in futures:
                    try:
                        self._workers.append(f.result())
                    except Exception as exc:  # noqa: BLE001
                        errors.append(exc)
            if errors:
                for w in self._workers:
                    w.close()
                self._workers.clear()
                raise errors[0]
            info = self._workers[0].info
            if self.settings.seccomp and self.settings.require_seccomp and not info.get("seccomp"):
                self.close()
                raise SandboxUnavailable(f"seccomp required but unavailable: {info.get('seccomp_reason')}")
            for w in self._workers:
                self._idle.put(w)

    def _new_worker(self, name: str) -> Worker:
        return Worker(name, self.settings, self.cache_dir, self._layout, rootless=self.mode == "rootless",
                      profiles=self.profiles_dir, known_imports=known_python_imports())

    def _preflight(self) -> None:
        if os.name != "posix" or not Path("/proc/self/ns/pid").exists():
            raise SandboxUnavailable("the sandbox needs Linux namespaces")
        if self.mode == "rootless":
            problem = userns_problem()
            if problem:
                raise SandboxUnavailable(f"rootless mode (not running as root) is unavailable: {problem}")
        python = self.settings.python_executable
        if not os.access(python, os.X_OK):
            raise SandboxUnavailable(f"sandbox.python_executable = {python!r} is not an executable")
        if python.startswith(("/root/", "/home/")):
            raise SandboxUnavailable(
                f"sandbox.python_executable = {python!r} lives in a home directory the sandbox hides; "
                "use a system interpreter such as /usr/bin/python3"
            )
        if self.mode == "rootless":
            self._layout = None  # no cgroups: rlimits and the /proc watch (see the module doc)
            return
        self._layout = detect()
        if self._layout is None and not self.allow_no_cgroups:
            raise SandboxUnavailable(
                "no writable cgroup memory controller (v1 or v2) found under /sys/fs/cgroup: "
                "memory and process limits cannot be enforced"
            )
        if self._layout is not None:
            sweep_stale(self._layout)

    def close(self) -> None:
        """Stop every worker and remove their cgroups. Safe to call twice."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for w in workers:
            w.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    def preload(self, name: str, source: str) -> None:
        """Import trusted Python ``source`` as module ``name`` once in every worker (now and after
        restarts), so sandboxed Python programs find it in ``sys.modules`` without receiving or
        compiling it per run. For the project's own harnesses: the source runs in the server."""
        if not name.isidentifier():
            raise InputError(f"preload module name {name!r} is not a Python identifier")
        try:
            compile(source, name + ".py", "exec")
        except SyntaxError as exc:
            raise InputError(f"preload module {name!r} does not compile: {exc}") from None
        self._preloads[name] = source

    def capabilities(self) -> dict[str, Any]:
        """What isolation this host gave us: cgroup version, seccomp, worker count, Python."""
        self._start()
        info = dict(self._workers[0].info)
        info.pop("ok", None)
        info["workers"] = self.size
        info["spare_workers"] = len(self._workers) - self.size  # pre-started and grown so far
        info["max_spare_workers"] = self.max_spares
        info["yield_after_s"] = self.settings.yield_after_s
        info["cache_dir"] = str(self.cache_dir)
        info["mode"] = self.mode
        info["guarantees"] = guarantees(self.mode)
        info["profile"] = self.profile or ""
        info["profiles_dir"] = str(self.profiles_dir)
        return info

    # ---- running ---------------------------------------------------------------------------
    def default_limits(self) -> Limits:
        s = self.settings
        return Limits(wall_time_s=s.wall_time_s, cpu_time_s=s.cpu_time_s, memory_mb=s.memory_mb,
                      max_processes=s.max_processes, output_bytes=s.output_bytes,
                      file_size_bytes=s.file_size_bytes)

    def run(self, program: Program, limits: Limits | None = None) -> ExecutionResult:
        """Run one program; see the class docstring for what raises and what is data."""
        return self._run(program, limits)

    def _run(self, program: Program, limits: Limits | None,
             on_yield: Callable[[], None] | None = None) -> ExecutionResult:
        """``run``; ``on_yield()`` is called (from this thread) when the run yields."""
        lang = _validate(program)
        limits = limits or self.default_limits()
        _check_limits(limits)
        profile = self._profile_for(program, lang)
        self._start()
        overlay: Path | None = None
        while True:
            request = self._request(program, lang, limits, profile, overlay)
            compiled = self._compile_once(request["compile"]) if "compile" in request else None
            slot = _Slot(self._permits, on_yield)
            try:
                worker = self._take_worker()
                try:
                    result = self._execute(worker, request, limits, compiled, slot.on_event)
                finally:
                    self._idle.put(worker)
            finally:
                slot.give_back()
            if (overlay is None and result.status is Status.MISSING_DEPENDENCY and self.resolve is not None
                    and lang.name == "python"):
                base = profile or _profiles.load_profile("python-stdlib", self.profiles_dir)
                overlay = _profiles.resolve_overlay(base, result.missing, self.resolve, self.profiles_dir)
                if overlay is not None:
                    on_yield = None  # the first attempt already handed its slot over, if it yielded
                    continue
            return result

    def _profile_for(self, program: Program, lang: Language) -> _profiles.BuiltProfile | None:
        """The built profile a program runs with: its own ``runtime``, else the sandbox's
        ``profile`` where that serves the program's language, else none."""
        name = program.runtime or ""
        if not name:
            if not self.profile:
                return None
            name = self.profile
            if _profiles.get_profile(name).language != lang.name:
                return None
        spec = _profiles.get_profile(name)
        if spec.language != lang.name:
            raise InputError(f"runtime profile {name!r} is for {spec.language} programs; this program is {lang.name}")
        prof = self._loaded.get(name)
        if prof is None:
            prof = self._loaded[name] = _profiles.load_profile(name, self.profiles_dir)
        return prof

    def _take_worker(self) -> Worker:
        """An idle worker for a run that holds a permit. When none is idle (the permits bound
        normal-priority runs, so the busy workers beyond ``size`` hold yielded runs), more
        spares start on threads of their own, up to ``max_spare_workers``, and the run takes
        whichever worker is free first: the new one or one whose run ended. So a batch with k
        runaways costs about one wall limit for all of them (plus ``yield_after_s`` for each
        ``size`` of them before they yield) while k <= max_spare_workers, not one limit per few."""
        try:
            return self._idle.get_nowait()
        except Empty:
            pass
        self._grow()
        return self._idle.get()

    def _grow(self) -> None:
        """Start up to ``size`` more spare workers in the background (one per permit, so the
        next yields find one ready), unless the pool is at its cap."""
        with self._lock:
            room = self.size + self.max_spares - len(self._workers) - self._starting
            names = [] if self._closed else [f"w{len(self._workers) + self._starting + k}"
                                             for k in range(min(self.size, room))]
            self._starting += len(names)
        for name in names:
            threading.Thread(target=self._start_spare, args=(name,), name="codeeval-sandbox-grow",
                             daemon=True).start()

    def _start_spare(self, name: str) -> None:
        try:
            worker = self._new_worker(name)
        except Exception:  # noqa: BLE001 - a host that cannot start one more: runs wait for the others
            with self._lock:
                self._starting -= 1
            return
        with self._lock:
            self._starting -= 1
            closed = self._closed
            if not closed:
                self._workers.append(worker)
        if closed:
            worker.close()
        else:
            self._idle.put(worker)
    @functools.cached_property
    def max_spares(self) -> int:
        """The most spare workers at once (pre-started ones included; 0 without yielding)."""
        s = self.settings
        if s.yield_after_s is None:
            return 0
        if s.max_spare_workers is not None:
            return max(self.spares, s.max_spare_workers)
        try:
            host_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1 << 20)
        except (ValueError, OSError):
            host_mb = 0
        return max(self.spares, min(64, host_mb // 2 // max(1, s.memory_mb)))

    def _compile_once(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        """Compile an uncached program under a per-key file lock, so that concurrent runs of the
        same new source (threads or processes sharing the cache) compile it once and the rest
        hit the cache. Returns the compile reply when this call compiled, else None; failures
        here are left for the run request to report."""
        entry = self.cache_dir / spec["key"]
        if (entry / ".ok").exists() or (entry / ".error").exists():
            return None
        locks = self.cache_dir / ".locks"
        locks.mkdir(exist_ok=True)
        fd = os.open(locks / f"{spec['key']}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if (entry / ".ok").exists() or (entry / ".error").exists():
                return None
            slot = _Slot(self._permits)
            worker = self._take_worker()
            try:
                reply = worker.request({"op": "compile", "compile": spec}, float(spec["limits"]["wall"]) + 30.0)
                return reply.get("compile")
            except SandboxError:
                try:
                    worker.restart()
                except SandboxError:
                    pass
                return None
            finally:
                self._idle.put(worker)
                slot.give_back()
        finally:
            os.close(fd)

    def run_many(self, programs: Sequence[Program] | Iterable[Program], limits: Limits | None = None,
                 on_result: Callable[[int, ExecutionResult], None] | None = None) -> list[ExecutionResult]:
        """Run a batch on all workers; results come back in input order.

        ``on_result(index, result)`` is called as each finishes (from worker threads), for
        progress displays. An item that fails validation gets a ``sandbox_error`` result
        naming the problem; the rest of the batch runs.

        One feeding thread per normal-priority slot takes the next program as soon as its
        run ends; when a run yields, a new feeding thread takes over its slot and the old one
        ends with that run, so the threads never queue for slots.
        """
        items = list(programs)
        limits = limits or self.default_limits()
        _check_limits(limits)
        if not items:
            return []
        self._start()
        results: list[ExecutionResult | None] = [None] * len(items)
        pending = iter(range(len(items)))
        lock = threading.Lock()
        threads: list[threading.Thread] = []
        failures: list[BaseException] = []

        def spawn() -> None:
            t = threading.Thread(target=feed, name="codeeval-sandbox-feed", daemon=True)
            with lock:  # started before the joining loop can see it (joining an unstarted thread raises)
                threads.append(t)
                t.start()

        def feed() -> None:
            while True:
                with lock:
                    i = None if failures else next(pending, None)
                if i is None:
                    return
                handed_over = False

                def hand_over() -> None:
                    nonlocal handed_over
                    handed_over = True
                    spawn()

                try:
                    try:
                        result = self._run(items[i], limits, on_yield=hand_over)
                    except InputError as exc:
                        result = ExecutionResult(status=Status.SANDBOX_ERROR, reason=f"invalid input: {exc}")
                    except SandboxError as exc:
                        result = ExecutionResult(status=Status.SANDBOX_ERROR, reason=str(exc))
                    results[i] = result
                    if on_result is not None:
                        on_result(i, result)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
                    with lock:
                        failures.append(exc)
                    return
                if handed_over:
                    return  # the thread started at the yield feeds this slot now

        for _ in range(min(self.size, len(items))):
            spawn()
        while True:
            with lock:
                if not threads:
                    break
                t = threads.pop()
            t.join()  # a thread starts its replacement before it ends, so none is missed
        if failures:
            raise failures[0]
        return [r for r in results if r is not None]

    def _request(self, program: Program, lang: Language, limits: Limits,
                 profile: _profiles.BuiltProfile | None = None, overlay: Path | None = None) -> dict[str, Any]:
        s = self.settings
        memory_mb = max(limits.memory_mb, lang.min_memory_mb)
        main = java_main_class(program.source) if lang.name == "java" else "Main"
        src = lang.source_file.format(main=main)
        heap_mb = max(16, int(memory_mb * lang.heap_fraction))
        run_limits = {
            "wall": limits.wall_time_s, "cpu": limits.effective_cpu_time_s,
            "mem": memory_mb << 20, "nproc": max(limits.max_processes, lang.min_processes),
            "out": limits.output_bytes, "fsize": limits.file_size_bytes, "nofile": s.open_files,
            "disk": memory_mb << 20, "data": (memory_mb + lang.rootless_data_mb) << 20,
        }
        if s.yield_after_s is not None:
            run_limits["yield"] = s.yield_after_s
        files = dict(program.files)
        classpath = profile.classpath() if profile is not None else ""
        fmt = {"src": src, "heap_mb": heap_mb, "main": main, "python": s.python_executable}
        req: dict[str, Any] = {"op": "run", "stdin": program.stdin, "limits": run_limits,
                               "language": lang.name, "runtime": profile.spec.name if profile else ""}
        if program.fetch_files:
            req["fetch"] = list(dict.fromkeys(program.fetch_files))
        if profile is not None and profile.env():
            req["env"] = profile.env()
        if lang.forkserver:
            files[src] = program.source
            paths = profile.python_paths() if profile is not None else []
            if overlay is not None:
                paths.append(f"{_profiles.MOUNT}/{_profiles.OVERLAYS}/{overlay.name}/site-packages")
            req.update(mode="python", source=program.source, filename=src, files=files, paths=paths)
            return req
        if lang.compile_argv is not None:
            key = _cache_key(lang, program.source, files, profile.key if profile is not None else "")
            fmt["artifact"] = ARTIFACT_PATH  # the run's own copy of the build output
            req["artifact"] = key
            compile_s = s.compile_wall_time_s if limits.compile_time_s is None else limits.compile_time_s
            compile_limits = dict(run_limits, wall=compile_s, cpu=compile_s,
                                  mem=s.compile_memory_mb << 20, nproc=max(64, limits.max_processes),
                                  out=1 << 20, fsize=max(limits.file_size_bytes, 256 << 20))
            compile_argv = [a.format(**fmt) for a in lang.compile_argv]
            if classpath:  # the profile's jars: javac's class path is "." unless told
                compile_argv[1:1] = ["-cp", f".:{classpath}"]
            req["compile"] = {"key": key, "argv": compile_argv,
                              "files": {**files, src: program.source}, "limits": compile_limits}
        else:
            files[src] = program.source
        run_argv = [a.format(**fmt) for a in lang.run_argv]
        if classpath and "-cp" in run_argv:
            at = run_argv.index("-cp") + 1
            run_argv[at] = f"{run_argv[at]}:{classpath}"
        req.update(mode="exec", argv=run_argv, files=files)
        return req

    def _execute(self, worker: Worker, request: dict[str, Any], limits: Limits,
                 compiled: dict[str, Any] | None = None,
                 on_event: Callable[[dict[str, Any]], None] | None = None) -> ExecutionResult:
        timeout = limits.wall_time_s + 30.0
        if "compile" in request:
            timeout += float(request["compile"]["limits"]["wall"])
        try:
            for name in self._preloads.keys() - worker.preloaded:
                loaded = worker.request({"op": "preload", "name": name, "source": self._preloads[name]}, 30.0)
                if "error" in loaded:
                    return ExecutionResult(status=Status.SANDBOX_ERROR,
                                           reason=f"preloading {name}: {loaded['error']}")
                worker.preloaded.add(name)
            reply = worker.request(request, timeout, on_event)
        except SandboxError as exc:
            try:
                worker.restart()
            except SandboxError as exc2:
                return ExecutionResult(status=Status.SANDBOX_ERROR, reason=f"{exc}; restart failed: {exc2}")
            return ExecutionResult(status=Status.SANDBOX_ERROR, reason=str(exc))
        if "error" in reply:
            return ExecutionResult(status=Status.SANDBOX_ERROR, reason=f"sandbox server: {reply['error']}")
        comp = reply.get("compile") or {}
        if comp and compiled and not compiled.get("cached"):
            comp = {**comp, "time": compiled.get("time", 0.0), "cached": False}  # compiled by this call
        if comp.get("setup_error"):
            return ExecutionResult(status=Status.SANDBOX_ERROR, reason=comp["setup_error"])
        if comp and not comp.get("ok"):
            output = comp.get("output", "")
            first = next((ln for ln in output.splitlines() if "error" in ln.lower()), output[:200])
            missing = missing_from_output(request.get("language", ""), output)
            return ExecutionResult(status=Status.MISSING_DEPENDENCY if missing else Status.COMPILE_ERROR,
                                   stderr=output, compile_output=output,
                                   reason=_missing_reason(missing, request) if missing else first.strip()[:300],
                                   compile_time_s=comp.get("time", 0.0), cached=bool(comp.get("cached")),
                                   missing=missing)
        status, reason = classify(reply, limits)
        missing = _missing(reply, request, status)
        if missing:
            status, reason = Status.MISSING_DEPENDENCY, _missing_reason(missing, request)
        return ExecutionResult(
            status=status,
            exit_code=reply.get("exit_code"),
            stdout=reply.get("stdout", ""),
            stderr=reply.get("stderr", ""),
            stdout_truncated=bool(reply.get("stdout_truncated")),
            stderr_truncated=bool(reply.get("stderr_truncated")),
            wall_time_s=float(reply.get("wall", 0.0)),
            cpu_time_s=float(reply.get("cpu", 0.0)),
            peak_memory_bytes=int(reply.get("peak", 0)),
            reason=reason,
            compile_output=comp.get("output", ""),
            compile_time_s=float(comp.get("time", 0.0)),
            cached=bool(comp.get("cached")),
            yielded=bool(reply.get("yielded")),
            missing=missing,
            files=_fetched(reply),
        )


def _missing(reply: dict[str, Any], request: dict[str, Any], status: Status) -> tuple[str, ...]:
    """The packages a run lacked, when that is why it failed: a Python import the server's hook
    stopped (fatal), or any it saw in a run that then failed; for JavaScript, the runtime's own
    message. Names are distributions (``scikit-learn``), sorted."""
    found = reply.get("missing_imports") or []
    if found:
        fatal = any(bool(f) for _, f in found)
        if fatal or status is Status.RUNTIME_ERROR:
            return tuple(sorted({distribution_for(str(n)) or str(n) for n, _ in found}))
        return ()
    if status is Status.RUNTIME_ERROR and request.get("language") == "javascript":
        return missing_from_output("javascript", reply.get("stderr", ""))
    return ()


def _fetched(reply: dict[str, Any]) -> dict[str, bytes]:
    """The files the server read back after the run (``Program.fetch_files``), decoded."""
    raw = reply.get("files")
    if not isinstance(raw, dict):
        return {}
    out: dict[str, bytes] = {}
    for name, text in raw.items():
        try:
            out[str(name)] = base64.b64decode(text, validate=True)
        except (binascii.Error, TypeError, ValueError):
            continue
    return out


def _missing_reason(missing: Sequence[str], request: dict[str, Any]) -> str:
    runtime = request.get("runtime")
    where = f"not in the runtime profile {runtime!r}" if runtime else "not installed (no runtime profile chosen)"
    return f"needs {', '.join(missing)}: {where}"


class _Slot:
    """One of the pool's ``size`` normal-priority permits, taken at creation and given back
    once: when its run yields (the ``yielded`` event; then ``on_yield()`` runs) or ends."""

    def __init__(self, permits: threading.BoundedSemaphore, on_yield: Callable[[], None] | None = None) -> None:
        permits.acquire()
        self._permits = permits
        self._on_yield = on_yield
        self._held = True
        self._lock = threading.Lock()

    def give_back(self) -> bool:
        """Return the permit; False when it was already returned."""
        with self._lock:
            if not self._held:
                return False
            self._held = False
        self._permits.release()
        return True

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("event") == "yielded" and self.give_back() and self._on_yield is not None:
            self._on_yield()


def _check_limits(limits: Limits) -> None:
    if not isinstance(limits, Limits):
        raise InputError(f"expected Limits, got {type(limits).__name__}")
    checks = (
        ("wall_time_s", limits.wall_time_s > 0),
        ("cpu_time_s", limits.cpu_time_s is None or limits.cpu_time_s > 0),
        ("memory_mb", limits.memory_mb >= 8),
        ("max_processes", limits.max_processes >= 1),
        ("output_bytes", limits.output_bytes >= 0),
        ("file_size_bytes", limits.file_size_bytes >= 0),
        ("compile_time_s", limits.compile_time_s is None or limits.compile_time_s > 0),
    )
    for name, ok in checks:
        if not ok:
            raise InputError(f"Limits.{name} = {getattr(limits, name)!r} is out of range")


def _toolchain_fingerprint(lang: Language) -> str:
    """Changes when the compiler or the sandbox server changes, so a stale cache entry
    (including a cached compile error) is never reused across toolchain updates."""
    parts = [lang.name, *(lang.compile_argv or ())]
    exe = (lang.compile_argv or ("",))[0]
    for path in (exe, os.path.realpath(exe), str(Path(__file__).with_name("_server.py"))):
        try:
            st = os.stat(path)
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(path)
    return "\0".join(parts)


_FINGERPRINTS: dict[str, str] = {}


def _cache_key(lang: Language, source: str, files: dict[str, str], runtime: str = "") -> str:
    h = hashlib.sha256()
    if runtime:  # the runtime profile's jars are on the compiler's class path
        h.update(runtime.encode() + b"\0")
    fp = _FINGERPRINTS.get(lang.name)
    if fp is None:
        fp = _FINGERPRINTS[lang.name] = _toolchain_fingerprint(lang)
    h.update(fp.encode())
    h.update(b"\0".join(a.encode() for a in lang.compile_argv or ()))
    h.update(b"\0" + source.encode("utf-8"))
    for name in sorted(files):
        h.update(b"\0" + name.encode() + b"\0" + files[name].encode("utf-8"))
    return f"{lang.name}-{h.hexdigest()[:40]}"
