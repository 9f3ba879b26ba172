"""Root or rootless: which isolation this process can build, and what each mode guarantees.

The mode follows from who we are: **root** (effective uid 0, e.g. in a container) gets the
full sandbox: one unprivileged host uid per worker and cgroups. Anyone else gets **rootless**
mode: bubblewrap in an unprivileged user namespace, which needs the kernel to allow those
(``/proc/sys/user/max_user_namespaces`` above 0, ``kernel.unprivileged_userns_clone`` 1 where
that switch exists, no AppArmor restriction on them) and a bubblewrap that is not setuid.

:data:`GUARANTEES` lists each guarantee of the threat model (``sandbox.py``) and how each mode
gives it; ``codeeval-rl doctor`` prints the rows for the mode in force.

Inside a container, rootless mode also needs two things container runtimes withhold by
default; both are probed once per process with a throwaway bubblewrap:

* a fresh ``/proc`` in the new PID namespace: the kernel refuses to mount one where the
  visible ``/proc`` has parts masked (the runtime's ``maskedPaths``/``readonlyPaths``), so the
  container needs an unmasked ``/proc`` (podman ``--security-opt unmask=/proc/*``, Kubernetes
  ``procMount: Unmasked``); without it :func:`userns_problem` says so and rootless mode is
  unavailable;
* ``sethostname`` in the new UTS namespace: podman's and buildah's default seccomp profile allow
  it only to a container with ``CAP_SYS_ADMIN``. Where it is refused (:func:`hostname_refused`)
  the workers keep their own UTS namespace but not the hostname ``sandbox``: programs see the
  container's hostname (and still cannot change it), and the guarantee "own hostname" is
  reported weaker.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["GUARANTEES", "Guarantee", "Mode", "current_mode", "guarantees", "hostname_refused", "userns_problem"]

Mode = Literal["root", "rootless"]


def current_mode() -> Mode:
    """``root`` when the effective uid is 0, else ``rootless``."""
    return "root" if os.geteuid() == 0 else "rootless"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def userns_problem() -> str:
    """Why unprivileged user namespaces (through bubblewrap) are unusable here, or ``""``."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed; ask an administrator for `apt-get install bubblewrap`"
    if os.stat(bwrap).st_mode & stat.S_ISUID:
        return (f"{bwrap} is setuid: rootless mode needs a bubblewrap that uses unprivileged user "
                "namespaces (a setuid bubblewrap refuses the capabilities the fork server needs)")
    if _read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        return "the kernel forbids unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=0)"
    if _read("/proc/sys/user/max_user_namespaces") == "0":
        return "the kernel allows no user namespaces (sysctl user.max_user_namespaces=0)"
    if _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        return ("AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1): "
                "an AppArmor profile allowing userns for bwrap is needed")
    refused = _bwrap_refuses("--unshare-pid", "--proc", "/proc")
    if refused and not _bwrap_refuses():
        return (f"bubblewrap cannot mount a fresh /proc in a user namespace here ({refused}): the kernel refuses "
                "it where parts of the visible /proc are masked, as container runtimes do by default; run the "
                "container with /proc unmasked (podman run --security-opt unmask=/proc/*; Kubernetes "
                "securityContext.procMount: Unmasked, which needs hostUsers: false)")
    return ""


def hostname_refused() -> str:
    """bubblewrap's complaint when it may make a UTS namespace but not set its hostname here (a
    container runtime's default seccomp profile allows ``sethostname`` only with CAP_SYS_ADMIN),
    else ``""``. Rootless workers then start without ``--hostname``."""
    if os.geteuid() == 0 or _bwrap_refuses("--unshare-uts"):
        return ""
    return _bwrap_refuses("--unshare-uts", "--hostname", "sandbox")


@functools.cache
def _bwrap_refuses(*args: str) -> str:
    """The last line bubblewrap prints when a minimal sandbox in a new user namespace with
    ``args`` cannot start here, or ``""`` when it runs (or bubblewrap is absent: said elsewhere)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return ""
    try:
        proc = subprocess.run([bwrap, "--unshare-user", *args, "--ro-bind", "/", "/", "true"],
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if proc.returncode == 0:
        return ""
    return (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]


@dataclass(frozen=True)
class Guarantee:
    """One guarantee: how root mode gives it, and how rootless mode does (``rootless_holds``
    False: weaker there, ``rootless`` says how)."""

    name: str
    root: str
    rootless: str
    rootless_holds: bool = True


GUARANTEES: tuple[Guarantee, ...] = (
    Guarantee("no network", "empty network namespace; seccomp allows AF_UNIX sockets only; io_uring denied",
              "the same"),
    Guarantee("read-only host, hidden secrets", "only system directories, read-only; fresh /box/work and /tmp",
              "the same; each run also gets its own mount namespace in which everything but its working "
              "directory and /tmp is read-only"),
    Guarantee("no other program's binary", "the compile cache is an fd only the fork server holds",
              "the same"),
    Guarantee("no reach into host processes",
              "own PID namespace; the program runs as an unprivileged host uid unique to its worker",
              "each run gets a PID namespace of its own below the worker's, so the fork server and every "
              "host process are out of its sight and reach; the program runs as the invoking user's uid "
              "(mapped, capabilities dropped), the same uid as the fork server and as the user's other "
              "processes: the namespaces and seccomp (ptrace, process_vm_* denied), not the uid, keep "
              "them apart", rootless_holds=False),
    Guarantee("memory limit", "cgroup memory.max (no swap), tmpfs charged to it",
              "no cgroup: RLIMIT_DATA per process (the limit plus what the runtime maps and never "
              "touches) and the run's resident memory and tmpfs use watched through /proc every 20 ms "
              "(killed and memory_limit once over); a run can exceed the limit briefly between two "
              "looks, and several processes can each hold up to their RLIMIT_DATA", rootless_holds=False),
    Guarantee("process and thread limit", "cgroup pids.max and RLIMIT_NPROC on a uid of its own",
              "RLIMIT_NPROC only, which the kernel counts per user namespace: the worker's own few "
              "processes (bubblewrap's init, the fork server, the run's init) count against it and are "
              "added to the limit; the user's processes outside do not count, but the user's own "
              "RLIMIT_NPROC on the host still caps all of them together", rootless_holds=False),
    Guarantee("CPU and wall time", "RLIMIT_CPU, 50 ms sampling for fractional limits, a wall deadline",
              "the same"),
    Guarantee("file size, open files, disk, output", "RLIMIT_FSIZE, RLIMIT_NOFILE, the tmpfs size, the output cap",
              "the same (the tmpfs's use also counts as memory)"),
    Guarantee("syscall filter", "seccomp allow list loaded into the fork server, inherited by every run",
              "the same filter, loaded into each run before it starts (the fork server needs mount and "
              "setns to build the run's namespaces)"),
    Guarantee("nothing survives a run", "every process of the worker's uid killed; files and IPC removed",
              "the run's PID namespace ends with its init, which kills every process in it; files and "
              "IPC removed"),
    Guarantee("yielding runaways", "SCHED_IDLE, nice 19 and an idle cpu cgroup",
              "SCHED_IDLE and nice 19 per process (no cpu cgroup): under autogroup a spinning yielded "
              "run still competes as a session of its own", rootless_holds=False),
    Guarantee("own hostname", "own UTS namespace with the hostname sandbox", "the same"),
)
"""Each guarantee in both modes (one row each)."""


def guarantees(mode: Mode) -> list[dict[str, object]]:
    """The rows for ``mode``: name, how it is given, and whether it holds as in root mode. In
    rootless mode on a host that refuses ``sethostname`` (:func:`hostname_refused`; probed
    only then) the hostname row is weaker."""
    rows = [{"name": g.name, "holds": True if mode == "root" else g.rootless_holds,
             "how": g.root if mode == "root" else g.rootless} for g in GUARANTEES]
    refused = hostname_refused() if mode == "rootless" else ""
    for row in rows:
        if refused and row["name"] == "own hostname":
            row.update(holds=False, how=f"own UTS namespace, but this host refuses to set its hostname ({refused}: "
                                        "a container runtime's seccomp profile allows sethostname only with "
                                        "CAP_SYS_ADMIN): programs see the host's hostname, and cannot change it")
    return rows
