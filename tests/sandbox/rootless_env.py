"""An unprivileged user with the project installed as that user would install it, for running
the sandbox's tests in rootless mode from a root CI run.

* The user (``codeeval-rootless``) is created with ``useradd`` when absent.
* Its virtual environment is made from the system ``python3`` (interpreters under ``/root``,
  such as pyenv's, are out of its reach), and gets the project's dependencies and pytest with
  ``pip install --no-index`` from a wheelhouse that root builds once from its own pip cache
  (``pip wheel``); the environment is kept per ``pyproject.toml`` and reused.
* The project itself is built into a wheel from a copy of the working tree (never writing into
  it) and installed into that environment every time, so the code tested is the code here.
* The tests run from a copy the user can read, with ``runuser -u USER``.

Usable as a script too: ``python -m tests.sandbox.rootless_env pytest ARGS...`` runs pytest as
the user on the copied tests (what ``tests/sandbox/test_rootless.py`` does).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

USER = "codeeval-rootless"
REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"
STATE = Path(os.environ.get("CODEEVAL_ROOTLESS_STATE", "/var/tmp/codeeval-rootless"))
EXTRA = ("pytest>=8", "pytest-timeout>=2.3")


def available() -> str:
    """Why this cannot run here, or ``""``."""
    if os.geteuid() != 0:
        return "needs root (to create the user and switch to it)"
    for tool in ("runuser", "useradd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import venv, ensurepip"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "the system Python has no venv/ensurepip (apt-get install python3-venv)"
    return ""


def _run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])}... failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        _run(["useradd", "--create-home", "--shell", "/bin/sh", "--comment", "CodeEval RL rootless tests", USER])
        return pwd.getpwnam(USER)


def as_user(argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as the user, with a clean environment of its own."""
    user = ensure_user()
    base = {"HOME": user.pw_dir, "USER": USER, "LOGNAME": USER, "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8"}
    base.update(env or {})
    cmd = ["runuser", "-u", USER, "--", "env", "-i", *(f"{k}={v}" for k, v in base.items()), *argv]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or user.pw_dir, timeout=timeout, check=False)


def _readable(path: Path) -> None:
    for dirpath, _dirs, files in os.walk(path):
        os.chmod(dirpath, 0o755)
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o644)


def _deps_key() -> str:
    return hashlib.sha256((REPO / "pyproject.toml").read_bytes() + repr(EXTRA).encode()).hexdigest()[:16]


def _copy_tree(dest: Path) -> Path:
    """A copy of the files git tracks (and untracked ones it does not ignore) under ``dest``."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"],
                            capture_output=True, check=False)
    names = [n for n in listed.stdout.decode().split("\0") if n] if listed.returncode == 0 else []
    if not names:  # not a git checkout: the parts a build needs
        shutil.copytree(REPO / "src", dest / "src")
        for n in ("pyproject.toml", "README.md"):
            shutil.copy(REPO / n, dest / n)
        shutil.copytree(REPO / "tests", dest / "tests")
        return dest
    for name in names:
        src = REPO / name
        if not src.is_file():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return dest


def prepare() -> tuple[Path, Path]:
    """(the user's Python, a directory holding a readable copy of the tests), with the project
    installed for the user. Idempotent; the dependencies are installed once per pyproject."""
    user = ensure_user()
    STATE.mkdir(parents=True, exist_ok=True)
    os.chmod(STATE, 0o755)
    with open(STATE / ".lock", "w") as lock:  # one preparation at a time on this host
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _prepare(user)


def _prepare(user: pwd.struct_passwd) -> tuple[Path, Path]:
    for old in STATE.glob("tree-*"):  # earlier runs' copies (not one a run beside us still reads)
        if time.time() - old.stat().st_mtime > 3 * 3600:
            shutil.rmtree(old, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="tree-", dir=STATE))
    tree = _copy_tree(work / "repo")
    wheels = work / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(tree)])
    venv = Path(user.pw_dir) / f"venv-{_deps_key()}"
    python = venv / "bin" / "python"
    if not python.exists():
        for old in [*Path(user.pw_dir).glob("venv-*"), *STATE.glob("wheelhouse-*")]:  # earlier pyprojects'
            shutil.rmtree(old, ignore_errors=True)
        house = STATE / f"wheelhouse-{_deps_key()}"
        if not house.is_dir():
            tmp = Path(tempfile.mkdtemp(prefix="house-", dir=STATE))
            _run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(tmp), str(tree), *EXTRA])
            tmp.rename(house)
        _readable(house)
        made = as_user([SYSTEM_PYTHON, "-m", "venv", str(venv)])
        if made.returncode != 0:
            raise RuntimeError(f"venv for {USER} failed: {made.stderr}")
        own = next(wheels.glob("*.whl"))
        _readable(work)
        got = as_user([str(python), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(house),
                       "--find-links", str(wheels), str(own), *EXTRA])
        if got.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise RuntimeError(f"installing for {USER} failed:\n{got.stdout[-3000:]}\n{got.stderr[-3000:]}")
    _readable(work)
    own = next(wheels.glob("*.whl"))
    got = as_user([str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--force-reinstall", str(own)])
    if got.returncode != 0:
        raise RuntimeError(f"installing the project for {USER} failed:\n{got.stderr[-3000:]}")
    shutil.rmtree(tree / "src")  # the tests must import the installed package, not this copy
    return python, tree


def run_pytest(args: list[str], timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """pytest as the user on the copied tests (``args`` are paths under ``tests/`` and options).
    One run at a time on this host: the user's virtual environment is shared, and a second
    run's reinstall of the project must not pull files from under a run in progress."""
    user = ensure_user()
    STATE.mkdir(parents=True, exist_ok=True)
    os.chmod(STATE, 0o755)
    with open(STATE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        python, tree = _prepare(user)
        env = {"CODEEVAL_FULL": os.environ.get("CODEEVAL_FULL", "")}
        try:
            return as_user([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], env=env,
                           cwd=str(tree), timeout=timeout)
        finally:
            shutil.rmtree(tree.parent, ignore_errors=True)


if __name__ == "__main__":  # python -m tests.sandbox.rootless_env pytest ARGS...
    if sys.argv[1:2] != ["pytest"]:
        sys.exit("usage: python -m tests.sandbox.rootless_env pytest [ARGS...]")
    done = run_pytest(sys.argv[2:])
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    sys.exit(done.returncode)
