"""One worker: a fork server inside bubblewrap, its cgroup, its unprivileged uid, and the pipe to it.

The host side of the protocol described in ``_server.py``. A worker serves one request at
a time; :class:`~codeeval_rl.sandbox.sandbox.Sandbox` keeps a pool of them. A worker whose
server dies or stops answering is killed and started again; the request in flight gets a
``sandbox_error`` result, never an exception into a batch.

Rootless mode (we are not root): bubblewrap makes an unprivileged user namespace in which the
invoking user is uid 0, with the two capabilities the server needs there (``CAP_SYS_ADMIN``
to build each run's PID and mount namespaces, ``CAP_SETPCAP`` to drop every capability before
the program starts); there is no uid to claim and no cgroup. See ``mode.py`` for what changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import select
import shutil
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from codeeval_rl.config import SandboxSettings
from codeeval_rl.errors import SandboxError, SandboxUnavailable
from codeeval_rl.sandbox.cgroups import CgroupLayout, WorkerCgroup
from codeeval_rl.sandbox.profiles import MOUNT as PROFILES_MOUNT

__all__ = ["ARTIFACT_PATH", "LOCK_DIR", "Worker", "bwrap_argv"]

SERVER_FILE = Path(__file__).with_name("_server.py")
SERVER_PATH = "/.codeeval/server.py"  # where the server's source lies inside the sandbox
KNOWN_IMPORTS_PATH = "/.codeeval/known_imports"  # import names of known packages (_server.KNOWN_IMPORTS)
ARTIFACT_PATH = "/box/artifact"  # where a run finds its compiled program (_server.ARTIFACT)
LOCK_DIR = Path(os.environ.get("CODEEVAL_RL_LOCK_DIR", "/run/codeeval-rl" if os.geteuid() == 0 else tempfile.gettempdir()))
UID_RANGE = 4096

# Host paths the programs may read. /etc only in part: what runtimes and linkers need.
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = (
    "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "java-17-openjdk", "java-21-openjdk",
    "ssl/certs", "localtime", "nsswitch.conf", "hosts", "mime.types", "gai.conf", "os-release",
)
# What the fork server needs: remount /proc with hidepid and remove a run's IPC objects, switch
# to the worker uid, chown the files it writes, kill the worker uid's processes, write its
# cgroup, pin its own OOM score, lower a yielded run's CPU priority.
_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL",
         "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SYS_RESOURCE", "CAP_SETPCAP", "CAP_SYS_NICE")
# Rootless: capabilities inside the user namespace only. CAP_SYS_ADMIN: unshare, setns and the
# mounts of each run's namespaces; CAP_SETPCAP: empty the bounding set before a program runs.
_ROOTLESS_CAPS = ("CAP_SYS_ADMIN", "CAP_SETPCAP")


def bwrap_argv(python: str, scratch_mb: int, config: dict[str, Any], files: dict[str, int],
               rootless: bool = False, profiles: Path | None = None) -> list[str]:
    """The bubblewrap command line that starts one fork server.

    ``config`` is the server's (uid, seccomp, and the numbers of the directory fds it inherits:
    the compile cache and the worker's cgroups); ``files`` maps a path inside the sandbox to an
    fd whose contents become that file (the server's source, /etc/passwd, /etc/group). No host
    path but the system directories is mounted, so ``/proc/self/mountinfo`` names none, except
    ``profiles``: the runtime profiles directory, read-only at ``/runtime`` when it exists.
    ``rootless``: an unprivileged user namespace in which we are uid 0 (see the module doc);
    where the host refuses ``sethostname`` there (a container runtime's default seccomp profile,
    :func:`~codeeval_rl.sandbox.mode.hostname_refused`), the UTS namespace keeps the host's name."""
    from codeeval_rl.sandbox.mode import hostname_refused

    argv = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session"]
    if not (rootless and hostname_refused()):
        argv += ["--hostname", "sandbox"]
    if rootless:
        argv += ["--unshare-user", "--uid", "0", "--gid", "0"]
    for d in _SYSTEM_DIRS:
        p = Path(d)
        if p.is_symlink():
            argv += ["--symlink", os.readlink(p), d]
        elif p.is_dir():
            argv += ["--ro-bind", d, d]
    # bwrap makes missing parents 0700; the program's uid must be able to traverse them.
    for d in ("/etc", "/etc/ssl", "/.codeeval"):
        argv += ["--perms", "0755", "--dir", d]
    for name in _ETC:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for dest, fd in files.items():
        argv += ["--perms", "0444", "--file", str(fd), dest]
    if profiles is not None and profiles.is_dir():
        argv += ["--ro-bind", str(profiles), PROFILES_MOUNT]
    argv += ["--proc", "/proc", "--dev", "/dev", "--mqueue", "/dev/mqueue",
             "--size", str(scratch_mb << 20), "--tmpfs", "/box", "--symlink", "/box/tmp", "/tmp",
             "--size", str(scratch_mb << 20), "--tmpfs", "/scratch"]
    argv += ["--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8"]
    for cap in _ROOTLESS_CAPS if rootless else _CAPS:
        argv += ["--cap-add", cap]
    argv += ["--", python, "-S", "-I", SERVER_PATH, json.dumps(config, separators=(",", ":"))]
    return argv


def _identity_files(uid: int) -> dict[str, bytes]:
    """/etc/passwd and /etc/group with just root, nobody and the worker user (rootless: the
    program is uid 0 of its user namespace, with no capabilities)."""
    if uid == 0:
        return {
            "/etc/passwd": (b"root:x:0:0:sandbox:/box/work:/usr/sbin/nologin\n"
                            b"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"),
            "/etc/group": b"root:x:0:\nnogroup:x:65534:\n",
        }
    return {
        "/etc/passwd": (f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
                        f"sandbox:x:{uid}:{uid}:sandbox:/box/work:/usr/sbin/nologin\n"
                        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n").encode(),
        "/etc/group": f"root:x:0:\nsandbox:x:{uid}:\nnogroup:x:65534:\n".encode(),
    }


def _data_fd(data: bytes) -> int:
    """An fd reading ``data`` from its start (for bwrap's ``--file``)."""
    fd = os.memfd_create("codeeval-sandbox-file")  # close-on-exec; pass_fds hands it to bwrap
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd


class _Spawner:
    """Starts every server from one long-lived daemon thread.

    bubblewrap's ``--die-with-parent`` is PR_SET_PDEATHSIG, which fires when the *thread*
    that forked it exits, not the process: a server started from a short-lived pool thread
    would be killed with that thread. This thread lives as long as the process.
    """

    _lock = threading.Lock()
    _queue: queue.Queue[tuple[Callable[[], Any], Future[Any]]] | None = None

    @classmethod
    def call(cls, fn: Callable[[], Any]) -> Any:
        with cls._lock:
            if cls._queue is None:
                cls._queue = queue.Queue()
                threading.Thread(target=cls._loop, args=(cls._queue,), name="codeeval-sandbox-spawner",
                                 daemon=True).start()
        fut: Future[Any] = Future()
        cls._queue.put((fn, fut))
        return fut.result()

    @staticmethod
    def _loop(q: queue.Queue[tuple[Callable[[], Any], Future[Any]]]) -> None:
        while True:
            fn, fut = q.get()
            try:
                fut.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                fut.set_exception(exc)


class Worker:
    """A started fork server. Not thread-safe: the pool hands it to one thread at a time."""

    def __init__(self, name: str, settings: SandboxSettings, cache_dir: Path,
                 layout: CgroupLayout | None, *, rootless: bool = False,
                 profiles: Path | None = None, known_imports: frozenset[str] = frozenset()) -> None:
        self.name = name
        self.settings = settings
        self.cache_dir = cache_dir
        self.layout = layout
        self.rootless = rootless
        self.profiles = profiles
        self.known_imports = known_imports
        # Rootless: one uid is mapped (ours, as 0): nothing to claim.
        self.uid, self._lock_fd = (0, -1) if rootless else self._claim_uid(settings.uid_base)
        self.cgroup = WorkerCgroup(layout, f"p{os.getpid()}-{name}-u{self.uid}") if layout else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.preloaded: set[str] = set()
        self._stderr = tempfile.TemporaryFile()
        self.start()

    @staticmethod
    def _claim_uid(base: int) -> tuple[int, int]:
        """Hold an exclusive lock on one uid of the range so no two workers on the host share it
        (the server kills every process of its uid after each run)."""
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        for uid in range(base, base + UID_RANGE):
            fd = os.open(LOCK_DIR / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return uid, fd
            except BlockingIOError:
                os.close(fd)
        raise SandboxUnavailable(f"all {UID_RANGE} sandbox user ids from {base} are in use")

    def start(self) -> None:
        self.preloaded = set()
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed; run `make setup` or `apt-get install bubblewrap`")
        scratch_mb = max(256, self.settings.compile_memory_mb)
        fds: list[int] = []
        try:
            files = {dest: _data_fd(data) for dest, data in _identity_files(self.uid).items()}
            files[SERVER_PATH] = _data_fd(SERVER_FILE.read_bytes())
            files[KNOWN_IMPORTS_PATH] = _data_fd("\n".join(sorted(self.known_imports)).encode())
            fds += files.values()
            # The cache and the cgroups reach the server as open directories, never as mounts.
            cache_fd = os.open(self.cache_dir, os.O_RDONLY | os.O_DIRECTORY)
            fds.append(cache_fd)
            cgroup_fds = {}
            for name, path in (self.cgroup.paths if self.cgroup else {}).items():
                cgroup_fds[name] = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
                fds.append(cgroup_fds[name])
            config = {"uid": self.uid, "seccomp": self.settings.seccomp, "cache_fd": cache_fd,
                      "cgroup_fds": cgroup_fds, "rootless": self.rootless}
            argv = bwrap_argv(self.settings.python_executable, scratch_mb, config, files,
                              rootless=self.rootless, profiles=self.profiles)
            argv[0] = bwrap
            self.proc = _Spawner.call(lambda: subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                pass_fds=tuple(fds), bufsize=0))
        except OSError as exc:
            raise SandboxUnavailable(f"sandbox worker failed to start: {exc}") from None
        finally:
            for fd in fds:
                os.close(fd)
        try:
            self.info = self.request({"op": "ping"}, timeout=30.0)
        except SandboxError as exc:
            raise SandboxUnavailable(f"sandbox worker failed to start: {exc}") from None
        if "error" in self.info:
            raise SandboxUnavailable(f"sandbox worker failed to start: {self.info['error']}")

    def stderr_tail(self, n: int = 2000) -> str:
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - n))
        return self._stderr.read().decode("utf-8", "replace").strip()

    def request(self, msg: dict[str, Any], timeout: float,
                on_event: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Send one request and wait up to ``timeout`` s for its reply. Event frames the server
        sends ahead of the reply (``{"event": ...}``) go to ``on_event``. On any failure the
        server is killed (so no half-finished run survives) and :class:`SandboxError` raised."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            raise SandboxError(f"worker {self.name} is not running: {self.stderr_tail()}")
        assert proc.stdin is not None and proc.stdout is not None
        body = json.dumps(msg).encode("utf-8")
        deadline = time.monotonic() + timeout
        try:
            proc.stdin.write(struct.pack(">I", len(body)) + body)
            while True:
                head = self._read(proc, 4, deadline, timeout)
                (n,) = struct.unpack(">I", head)
                reply = json.loads(self._read(proc, n, deadline, timeout))
                if "event" not in reply:
                    return reply
                if on_event is not None:
                    on_event(reply)
        except (OSError, ValueError, SandboxError) as exc:
            self.kill()
            raise SandboxError(f"worker {self.name} failed: {exc}; {self.stderr_tail()}") from None

    @staticmethod
    def _read(proc: subprocess.Popen[bytes], n: int, deadline: float, timeout: float) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        chunks = bytearray()
        while len(chunks) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SandboxError(f"no reply within {timeout:.1f}s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, n - len(chunks))
            if not chunk:
                raise SandboxError("server closed its pipe")
            chunks += chunk
        return bytes(chunks)

    def kill(self) -> None:
        if self.proc is not None:
            try:
                self.proc.kill()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    if f:
                        f.close()
                except OSError:
                    pass
            self.proc = None
        if self.cgroup is not None:
            # The server's children die with it (PDEATHSIG, PID namespace); make sure of it.
            for path in self.cgroup.paths.values():
                try:
                    for pid in (path / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(pid), 9)
                        except (ProcessLookupError, ValueError):
                            pass
                except OSError:
                    pass

    def restart(self) -> None:
        self.kill()
        self.start()

    def close(self) -> None:
        self.kill()
        if self.cgroup is not None:
            self.cgroup.remove()
        try:
            self._stderr.close()
        except OSError:
            pass
        if self._lock_fd >= 0:
            try:
                os.close(self._lock_fd)
            except OSError:
                pass
