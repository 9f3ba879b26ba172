"""Root or rootless: which isolation this process can build, and what each mode guarantees.

The mode follows from who we are: **root** (effective uid 0, e.g. in a container) gets the
full sandbox: one unprivileged host uid per worker and cgroups. Anyone else gets **rootless**
mode: bubblewrap in an unprivileged user namespace, which needs the kernel to allow those
(``/proc/sys/user/max_user_namespaces`` above 0, ``kernel.unprivileged_userns_clone`` 1 where
that switch exists, no AppArmor restriction on them) and a bubblewrap that is not setuid.

:data:`GUARANTEES` lists each guarantee of the threat model (``sandbox.py``) and how each mode
gives it; ``codeeval-rl doctor`` prints the rows for the mode in force.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["GUARANTEES", "Guarantee", "Mode", "current_mode", "guarantees", "userns_problem"]

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
    return ""


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
)
"""Each guarantee in both modes (one row each)."""


def guarantees(mode: Mode) -> list[dict[str, object]]:
    """The rows for ``mode``: name, how it is given, and whether it holds as in root mode."""
    return [{"name": g.name, "holds": True if mode == "root" else g.rootless_holds,
             "how": g.root if mode == "root" else g.rootless} for g in GUARANTEES]
