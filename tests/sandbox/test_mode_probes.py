"""What rootless mode does where a container runtime withholds part of what it needs: a masked
/proc makes rootless mode unavailable with a message naming the fix; a refused sethostname
leaves the workers' hostname as the host's and reports that guarantee weaker. The probes are
replaced here; docs/deploy.md records them inside the real image."""

from __future__ import annotations

import pytest

from codeeval_rl.sandbox import mode
from codeeval_rl.sandbox.worker import bwrap_argv

REFUSED = "bwrap: Can't set hostname to sandbox: Operation not permitted"


def _argv(rootless: bool) -> list[str]:
    return bwrap_argv("/usr/bin/python3", 256, {"uid": 0}, {}, rootless=rootless)


def test_a_refused_hostname_keeps_the_uts_namespace_without_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mode, "hostname_refused", lambda: REFUSED)
    rootless = _argv(True)
    assert "--unshare-uts" in rootless and "--hostname" not in rootless
    root = _argv(False)
    assert root[root.index("--hostname") + 1] == "sandbox"  # root mode never drops it
    row = next(r for r in mode.guarantees("rootless") if r["name"] == "own hostname")
    assert row["holds"] is False and REFUSED in str(row["how"])
    assert all(r["holds"] for r in mode.guarantees("root"))


def test_where_the_hostname_is_allowed_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mode, "hostname_refused", lambda: "")
    argv = _argv(True)
    assert argv[argv.index("--hostname") + 1] == "sandbox"
    assert next(r for r in mode.guarantees("rootless") if r["name"] == "own hostname")["holds"] is True


def test_a_masked_proc_makes_rootless_mode_unavailable_and_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    proc = "bwrap: Can't mount proc on /newroot/proc: Operation not permitted"
    monkeypatch.setattr(mode, "_bwrap_refuses", lambda *args: proc if "--proc" in args else "")
    problem = mode.userns_problem()
    assert proc in problem and "unmask" in problem and "procMount: Unmasked" in problem
    # a host without user namespaces at all gets no /proc story
    monkeypatch.setattr(mode, "_bwrap_refuses", lambda *args: "bwrap: No permissions to create new namespace")
    assert "mount a fresh /proc" not in mode.userns_problem()


def test_this_host_refuses_neither() -> None:
    assert mode._bwrap_refuses() == "" and mode._bwrap_refuses("--unshare-pid", "--proc", "/proc") == ""
    assert mode.hostname_refused() == ""
