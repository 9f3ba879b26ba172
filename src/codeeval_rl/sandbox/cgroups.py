"""Host side of resource control: one cgroup per worker, v1 or v2, whichever the host has.

A worker's cgroup is created under this process's own cgroup (so a container's limits
still bound it) and handed to the worker's fork server as an open directory (never mounted,
so programs see no host path); the server sets the per-run limits and moves each child in
(see ``_server.py``).

* cgroup v2 (production hosts): one directory with ``memory`` and ``pids`` enabled;
  ``memory.max``, ``memory.swap.max``, ``pids.max``, ``memory.peak``, ``memory.events``.
* cgroup v1: one directory in each of the ``memory`` and ``pids`` hierarchies;
  ``memory.limit_in_bytes``, ``memory.max_usage_in_bytes``, ``memory.oom_control``; and, where
  the ``cpu`` hierarchy has ``cpu.idle`` (Linux 5.15+), one with ``cpu.idle`` 1 that only
  yielded runs are moved into.
* Yielded runs (v2): ``cpu.idle`` on the worker's cgroup while the run is yielded, where the
  host delegates the ``cpu`` controller.

A v2 mount without the memory controller (seen on hosts that keep controllers on v1) is
skipped in favour of v1. Without either, :func:`detect` returns ``None`` and the caller
decides whether to refuse (the default) or run with rlimits only.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupLayout", "WorkerCgroup", "detect", "sweep_stale"]

CGROUP_FS = Path("/sys/fs/cgroup")
PREFIX = "codeeval-rl"


@dataclass(frozen=True)
class CgroupLayout:
    """Where the parent cgroups for our workers live, per controller name."""

    version: int
    parents: dict[str, Path]  # controller ("memory", "pids" or "unified") -> parent dir


def _own_path(controller_field: str) -> str:
    try:
        text = Path("/proc/self/cgroup").read_text()
    except OSError:
        return "/"
    for line in text.splitlines():
        _, ctrls, path = line.split(":", 2)
        if controller_field == "" and ctrls == "" or controller_field and controller_field in ctrls.split(","):
            return path
    return "/"


def _writable(p: Path) -> bool:
    return p.is_dir() and os.access(p, os.W_OK)


def detect(root: Path = CGROUP_FS) -> CgroupLayout | None:
    """Find a usable memory+pids cgroup setup, preferring v2 with controllers, else v1."""
    for v2root in (root, root / "unified"):
        ctrl_file = v2root / "cgroup.controllers"
        if ctrl_file.is_file():
            ctrls = ctrl_file.read_text().split()
            if "memory" in ctrls and "pids" in ctrls:
                own = v2root / _own_path("").lstrip("/")
                # Our own cgroup usually holds processes, so it cannot enable controllers
                # for children ("no internal processes"); use its parent's level then.
                for parent in (own, own.parent, v2root):
                    enabled = (parent / "cgroup.subtree_control")
                    if _writable(parent) and enabled.is_file():
                        return CgroupLayout(2, {"unified": parent})
    mem, pids = root / "memory", root / "pids"
    if _writable(mem) and (mem / "memory.limit_in_bytes").exists():
        parents = {"memory": mem / _own_path("memory").lstrip("/")}
        if _writable(pids):
            parents["pids"] = pids / _own_path("pids").lstrip("/")
        cpu = root / "cpu"
        if _writable(cpu) and (cpu / "cpu.idle").exists():
            parents["cpu"] = cpu / _own_path("cpu").lstrip("/")
        parents = {k: (v if _writable(v) else (root / k)) for k, v in parents.items()}
        return CgroupLayout(1, parents)
    return None


class WorkerCgroup:
    """The cgroup(s) of one worker. ``paths`` maps the mount name inside the sandbox to the host dir."""

    def __init__(self, layout: CgroupLayout, name: str) -> None:
        self.layout = layout
        self.paths: dict[str, Path] = {}
        if layout.version == 2:
            parent = layout.parents["unified"]
            group = parent / PREFIX
            group.mkdir(exist_ok=True)
            _enable(parent, "+memory +pids")
            _enable(group, "+memory +pids")
            _enable(parent, "+cpu")  # for cpu.idle on yielded runs, where the host delegates it
            _enable(group, "+cpu")
            path = group / name
            path.mkdir(exist_ok=True)
            self.paths["unified"] = path
        else:
            for ctrl, parent in layout.parents.items():
                group = parent / PREFIX
                group.mkdir(exist_ok=True)
                path = group / name
                path.mkdir(exist_ok=True)
                if ctrl == "cpu":  # only yielded runs are moved here: the idle CPU class as a group
                    try:  # the shared parent too: an idle group inside a normal one competes as normal
                        (group / "cpu.idle").write_text("1")
                        (path / "cpu.idle").write_text("1")
                    except OSError:
                        path.rmdir()
                        continue
                self.paths[ctrl] = path
        for path in self.paths.values():
            os.chmod(path, 0o755)

    def remove(self) -> None:
        """Kill whatever is left inside, then remove the directories (best effort, bounded)."""
        for path in self.paths.values():
            _kill_and_rmdir(path)


def _enable(parent: Path, spec: str) -> None:
    try:
        (parent / "cgroup.subtree_control").write_text(spec)
    except OSError:
        pass  # already enabled, or delegated by the host: creation of children tells


def _kill_and_rmdir(path: Path) -> None:
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        try:
            kill = path / "cgroup.kill"  # cgroup v2 since Linux 5.14: the whole tree at once
            if not kill.exists():
                raise FileNotFoundError(kill)
            kill.write_text("1")
        except OSError:
            try:
                for pid in (path / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
            except OSError:
                pass
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def sweep_stale(layout: CgroupLayout) -> int:
    """Remove worker cgroups left by sandboxes whose process died (``<name>`` starts ``p<pid>-``)."""
    removed = 0
    for parent in layout.parents.values():
        group = parent / PREFIX
        if not group.is_dir():
            continue
        for child in group.iterdir():
            if not child.is_dir() or not child.name.startswith("p"):
                continue
            try:
                owner = int(child.name[1:].split("-", 1)[0])
            except ValueError:
                continue
            if owner != os.getpid() and not Path(f"/proc/{owner}").exists():
                _kill_and_rmdir(child)
                removed += 1
    return removed
