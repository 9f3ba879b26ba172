"""cgroup detection on fake v1 and v2 trees (production hosts mostly have v2; this one has v1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeeval_rl.errors import SandboxUnavailable
from codeeval_rl.sandbox import Sandbox
from codeeval_rl.sandbox import cgroups as cg


def _v2_tree(root: Path, controllers: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text(controllers)
    (root / "cgroup.subtree_control").write_text("")


def test_v2_with_controllers_is_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _v2_tree(tmp_path, "cpu memory pids io")
    monkeypatch.setattr(cg, "_own_path", lambda field: "/")
    layout = cg.detect(tmp_path)
    assert layout is not None and layout.version == 2 and layout.parents == {"unified": tmp_path}


def test_v2_without_memory_falls_back_to_v1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _v2_tree(tmp_path / "unified", "hugetlb")
    for ctrl, probe in (("memory", "memory.limit_in_bytes"), ("pids", "pids.max")):
        (tmp_path / ctrl).mkdir()
        (tmp_path / ctrl / probe).write_text("max")
    monkeypatch.setattr(cg, "_own_path", lambda field: "/")
    layout = cg.detect(tmp_path)
    assert layout is not None and layout.version == 1
    assert set(layout.parents) == {"memory", "pids"}


def test_nothing_usable(tmp_path: Path) -> None:
    assert cg.detect(tmp_path) is None


def test_worker_cgroup_v1_create_and_remove(tmp_path: Path) -> None:
    for ctrl in ("memory", "pids"):
        (tmp_path / ctrl).mkdir()
    layout = cg.CgroupLayout(1, {"memory": tmp_path / "memory", "pids": tmp_path / "pids"})
    w = cg.WorkerCgroup(layout, "p1-w0")
    assert set(w.paths) == {"memory", "pids"}
    assert all(p.is_dir() and p.parent.name == cg.PREFIX for p in w.paths.values())
    w.remove()
    assert not any(p.exists() for p in w.paths.values())


def test_stale_worker_cgroups_of_dead_processes_are_swept(tmp_path: Path) -> None:
    group = tmp_path / "memory" / cg.PREFIX
    dead = group / "p999999999-w0-u61000"
    dead.mkdir(parents=True)
    mine = group / f"p{__import__('os').getpid()}-w0-u61001"
    mine.mkdir()
    layout = cg.CgroupLayout(1, {"memory": tmp_path / "memory"})
    assert cg.sweep_stale(layout) == 1
    assert not dead.exists() and mine.exists()


def test_non_root_runs_rootless_or_is_refused_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from codeeval_rl.sandbox import sandbox as sandbox_module

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    sb = Sandbox(workers=1)
    assert sb.mode == "rootless"
    monkeypatch.setattr(sandbox_module, "userns_problem", lambda: "the kernel allows no user namespaces")
    with pytest.raises(SandboxUnavailable, match="rootless mode .* unavailable: the kernel allows no user namespaces"):
        sb._preflight()


def test_interpreter_in_a_home_directory_is_refused() -> None:
    with pytest.raises(SandboxUnavailable, match="home directory"):
        Sandbox(workers=1, python_executable="/root/.pyenv/versions/3.11.7/bin/python3")._preflight()
