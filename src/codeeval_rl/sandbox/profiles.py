"""Runtime profiles: named sets of packages a sandboxed program may use, built once, mounted read-only.

==================== ========== ===============================================================
profile              language   what it holds
==================== ========== ===============================================================
python-stdlib        python     the standard library only (nothing to build; the default)
python-datascience   python     numpy, pandas, scipy and scikit-learn, pinned, with their
                                dependencies pinned too (wheels from PyPI)
node                 javascript a shared ``node_modules`` of common packages (npm registry)
java                 java       common jars (Apache Commons, Guava, Gson), copied from the
                                Debian packages in ``/usr/share/java`` or from ``--jars DIR``
==================== ========== ===============================================================

``codeeval-rl sandbox build-env PROFILE`` builds one into ``<profiles dir>/<name>`` (default
``$XDG_CACHE_HOME/codeeval-rl/profiles``, or ``$CODEEVAL_RL_PROFILES``): packages come from the
registries then and only then; running programs never downloads anything. A build goes to a
temporary directory beside the final one and replaces it in one rename, so a sandbox never
sees half a profile. Files are world-readable and nothing in them is writable from inside:
the whole profiles directory is mounted read-only at ``/runtime`` in every worker.

A Python profile is built for the sandbox's interpreter (``sandbox.python_executable``, the
system Python): its manifest records that interpreter's ``packages_distributions()`` over the
profile, which is how the sandbox knows which import names the profile provides. Java's
profile: Maven Central is not among the registries these machines reach, so the jars come from
Debian's packages (``libcommons-lang3-java``, ``libguava-java``, ...) or a directory the user
provides.

``--resolve`` overlays (:func:`resolve_overlay`) add packages from a local wheel cache (pip
``--no-index``, never the network) into ``<profiles dir>/.overlays/<key>``, one per profile and
set of packages, reused by every task that needs the same set.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeeval_rl.errors import InputError, SandboxError

__all__ = [
    "MOUNT",
    "PROFILES",
    "BuiltProfile",
    "ProfileSpec",
    "build_profile",
    "default_profiles_dir",
    "get_profile",
    "list_profiles",
    "load_profile",
    "resolve_overlay",
    "runtime_for",
]

MOUNT = "/runtime"  # where the profiles directory appears inside the sandbox
MANIFEST = "profile.json"
OVERLAYS = ".overlays"
DEBIAN_JARS = Path("/usr/share/java")


@dataclass(frozen=True)
class ProfileSpec:
    """One profile: its name, the language whose programs it serves, and what goes in it
    (pip requirements, npm package specs, or jar base names). ``smoke``: imports (Python) or
    modules (node) that must load after a build. ``builtin``: nothing to build."""

    name: str
    language: str
    description: str
    packages: tuple[str, ...] = ()
    smoke: tuple[str, ...] = ()
    builtin: bool = False
    debian: tuple[str, ...] = field(default_factory=tuple)  # Debian packages that carry the jars


PROFILES: dict[str, ProfileSpec] = {
    p.name: p
    for p in (
        ProfileSpec("python-stdlib", "python", "the standard library only", builtin=True),
        ProfileSpec(
            "python-datascience", "python", "numpy, pandas, scipy, scikit-learn (pinned)",
            packages=("numpy==2.2.6", "pandas==2.2.3", "scipy==1.15.3", "scikit-learn==1.6.1",
                      "python-dateutil==2.9.0.post0", "pytz==2025.2", "tzdata==2025.2", "six==1.17.0",
                      "joblib==1.5.1", "threadpoolctl==3.6.0"),
            smoke=("numpy", "pandas", "scipy", "sklearn"),
        ),
        ProfileSpec(
            "node", "javascript", "lodash, underscore, ramda, dayjs, decimal.js, priority queues",
            packages=("lodash@4.17.21", "underscore@1.13.7", "ramda@0.30.1", "dayjs@1.11.13",
                      "decimal.js@10.5.0", "@datastructures-js/priority-queue@6.3.3"),
            smoke=("lodash", "underscore", "ramda", "dayjs", "decimal.js", "@datastructures-js/priority-queue"),
        ),
        ProfileSpec(
            "java", "java", "Apache Commons (lang3, math3, io, collections4, text), Guava, Gson",
            packages=("commons-lang3", "commons-math3", "commons-io", "commons-collections4", "commons-text",
                      "guava", "failureaccess", "gson"),
            debian=("libcommons-lang3-java", "libcommons-math3-java", "libcommons-io-java",
                    "libcommons-collections4-java", "libcommons-text-java", "libguava-java", "libgoogle-gson-java"),
        ),
    )
}
"""Every profile by name (one row each; a new profile is one row)."""


def runtime_for(runtime: str, language: str, default: str | None) -> str:
    """The profile a task's programs run in: its own ``runtime``, else ``default`` (a command's
    ``--profile``) where that profile serves the task's ``language``, else none (``""``)."""
    if runtime or not default:
        return runtime
    from codeeval_rl.sandbox.languages import get_language

    return default if get_profile(default).language == get_language(language).name else ""


def default_profiles_dir() -> Path:
    """``$CODEEVAL_RL_PROFILES``, else ``$XDG_CACHE_HOME/codeeval-rl/profiles`` (``~/.cache``)."""
    explicit = os.environ.get("CODEEVAL_RL_PROFILES")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "codeeval-rl" / "profiles"


def get_profile(name: str) -> ProfileSpec:
    """The row for ``name``, or :class:`InputError` naming the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise InputError(f"unknown runtime profile {name!r}; known: {', '.join(PROFILES)}") from None


@dataclass(frozen=True)
class BuiltProfile:
    """A profile as built on this host: its row, its host directory and its manifest."""

    spec: ProfileSpec
    path: Path
    manifest: Mapping[str, Any]

    @property
    def inside(self) -> str:
        """The profile's directory as programs see it."""
        return f"{MOUNT}/{self.spec.name}"

    @property
    def imports(self) -> frozenset[str]:
        """Top-level import names the profile provides (Python)."""
        return frozenset(self.manifest.get("imports", {}))

    @property
    def key(self) -> str:
        """Changes whenever the profile is rebuilt (compile cache keys and overlays use it)."""
        return str(self.manifest.get("key", self.spec.name))

    def python_paths(self) -> list[str]:
        return [f"{self.inside}/site-packages"] if self.spec.language == "python" and not self.spec.builtin else []

    def env(self) -> dict[str, str]:
        return {"NODE_PATH": f"{self.inside}/node_modules"} if self.spec.language == "javascript" else {}

    def classpath(self) -> str:
        """Java: the jars, as a class path entry (``/runtime/java/jars/*``); empty otherwise."""
        return f"{self.inside}/jars/*" if self.spec.language == "java" else ""


def load_profile(name: str, root: Path | None = None) -> BuiltProfile:
    """The built profile ``name``; :class:`InputError` (with the command that builds it) when it
    is not built, or is unknown. ``python-stdlib`` is always there."""
    spec = get_profile(name)
    root = root or default_profiles_dir()
    if spec.builtin:
        return BuiltProfile(spec, root / name, {"name": name, "imports": {}, "key": name})
    path = root / name
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"runtime profile {name!r} is not built (no {path / MANIFEST}); "
                         f"build it with: codeeval-rl sandbox build-env {name}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"runtime profile {name!r} at {path} is unreadable ({exc}); "
                         f"rebuild it with: codeeval-rl sandbox build-env {name}") from None
    return BuiltProfile(spec, path, manifest)


def list_profiles(root: Path | None = None) -> list[dict[str, Any]]:
    """Every profile with whether it is built here, for ``codeeval-rl sandbox profiles``."""
    root = root or default_profiles_dir()
    rows = []
    for spec in PROFILES.values():
        try:
            manifest, built = load_profile(spec.name, root).manifest, True
        except InputError:  # not built, or unreadable
            manifest, built = {}, False
        rows.append({"name": spec.name, "language": spec.language, "built": built,
                     "description": spec.description, "packages": dict(manifest.get("packages", {})),
                     "path": "" if spec.builtin else str(root / spec.name)})
    return rows


# ---- building ------------------------------------------------------------------------------
Log = Callable[[str], None]


def build_profile(name: str, root: Path | None = None, *, python: str = "/usr/bin/python3",
                  jars: Path | None = None, log: Log | None = None) -> BuiltProfile:
    """Build profile ``name`` into ``root`` (replacing an earlier build) and return it.

    Python: ``pip install --target`` of the pinned requirements with this environment's pip,
    wheels only (``--only-binary=:all:``), for ``python``'s version; then ``python`` itself
    records ``packages_distributions()`` over the result and imports each ``smoke`` module.
    Node: ``npm install --ignore-scripts`` of the pinned specs. Java: the jars named in the row,
    from ``jars`` or Debian's ``/usr/share/java``. Raises :class:`InputError` for an unknown or
    built-in profile and missing tools or jars, :class:`SandboxError` when a build step fails."""
    spec = get_profile(name)
    if spec.builtin:
        raise InputError(f"runtime profile {name!r} is built in: there is nothing to build")
    root = root or default_profiles_dir()
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    say = log or (lambda _msg: None)
    tmp = root / f".build-{name}-{os.getpid()}-{int(time.time())}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(mode=0o755)
    try:
        builder = {"python": _build_python, "javascript": _build_node, "java": _build_java}[spec.language]
        manifest = builder(spec, tmp, python=python, jars=jars, say=say)
        manifest.update(name=name, language=spec.language, built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        manifest["key"] = f"{name}-" + hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:16]
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        _world_readable(tmp)
        _replace(tmp, root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"built {name} in {root / name}")
    return load_profile(name, root)


def _run(argv: Sequence[str], what: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)
    except FileNotFoundError:
        raise InputError(f"{what} needs {argv[0]}, which is not installed") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
        raise SandboxError(f"{what} failed (exit {proc.returncode}): " + " | ".join(tail))
    return proc


def _python_version(python: str) -> str:
    out = _run([python, "-S", "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
               f"reading the version of {python}").stdout
    return out.strip()


_INSPECT = r"""
import importlib, importlib.metadata as md, json, sys
site = sys.argv[1]
sys.path.insert(0, site)
imports = {k: v for k, v in md.packages_distributions().items()}
dists = {d.metadata['Name']: d.version for d in md.distributions(path=[site])}
ours = {n.lower() for n in dists}
imports = {k: [n for n in v if n.lower() in ours] for k, v in imports.items()}
imports = {k: v for k, v in imports.items() if v and not k.startswith('_')}
failed = {}
for name in sys.argv[2:]:
    try:
        importlib.import_module(name)
    except Exception as e:
        failed[name] = '%s: %s' % (type(e).__name__, e)
print(json.dumps({'imports': imports, 'packages': dists, 'failed': failed}))
"""


def _pip_install(argv_tail: Sequence[str], what: str) -> None:
    pip = [sys.executable, "-m", "pip"]
    _run(pip + ["--version"], "finding pip")
    _run(pip + ["install", "--quiet", "--disable-pip-version-check", "--no-input", *argv_tail], what)


def _build_python(spec: ProfileSpec, tmp: Path, *, python: str, jars: Path | None, say: Log) -> dict[str, Any]:
    site = tmp / "site-packages"
    version = _python_version(python)
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    extra = [] if version == here else ["--python-version", version, "--no-compile"]
    say(f"pip install {' '.join(spec.packages)} for Python {version} (wheels only)")
    _pip_install(["--target", str(site), "--only-binary=:all:", *extra, *spec.packages], f"building {spec.name}")
    info = json.loads(_run([python, "-S", "-I", "-c", _INSPECT, str(site), *spec.smoke],
                           f"checking {spec.name} with {python}").stdout)
    if info["failed"]:
        raise SandboxError(f"{spec.name}: built, but {python} cannot import: "
                           + "; ".join(f"{k} ({v})" for k, v in info["failed"].items()))
    return {"python": version, "packages": info["packages"], "imports": info["imports"]}


def _build_node(spec: ProfileSpec, tmp: Path, *, python: str, jars: Path | None, say: Log) -> dict[str, Any]:
    npm = shutil.which("npm")
    if npm is None:
        raise InputError("building the node profile needs npm (apt-get install npm)")
    say(f"npm install {' '.join(spec.packages)}")
    (tmp / "package.json").write_text('{"name": "codeeval-rl-node-profile", "private": true}\n')
    _run([npm, "install", "--prefix", str(tmp), "--no-audit", "--no-fund", "--ignore-scripts",
          "--omit=dev", "--no-package-lock", *spec.packages], "building node", cwd=tmp)
    node = shutil.which("node") or "/usr/bin/node"
    check = "for (const m of process.argv.slice(1)) require(m); console.log('ok')"
    _run([node, "-e", check, *spec.smoke], "checking node", env={"NODE_PATH": str(tmp / "node_modules"),
                                                                 "PATH": os.environ.get("PATH", "")})
    packages = {}
    for spec_str in spec.packages:
        pkg = spec_str.rsplit("@", 1)[0] if spec_str.rfind("@") > 0 else spec_str
        meta = tmp / "node_modules" / pkg / "package.json"
        try:
            packages[pkg] = json.loads(meta.read_text())["version"]
        except (OSError, ValueError, KeyError):
            packages[pkg] = "?"
    return {"packages": packages, "imports": {p: [p] for p in packages}}


def _build_java(spec: ProfileSpec, tmp: Path, *, python: str, jars: Path | None, say: Log) -> dict[str, Any]:
    source = jars or DEBIAN_JARS
    out = tmp / "jars"
    out.mkdir(mode=0o755)
    packages: dict[str, str] = {}
    for base in spec.packages:
        jar = _find_jar(source, base)
        if jar is None:
            continue
        shutil.copyfile(jar, out / f"{base}.jar")
        packages[base] = _jar_version(jar, base)
    if not packages:
        hint = (f"pass --jars DIR with {', '.join(j + '.jar' for j in spec.packages)}" if jars else
                "install Debian's " + " ".join(spec.debian) + " (apt-get install), or pass --jars DIR")
        raise InputError(f"no jars for the java profile in {source}: {hint}")
    say(f"jars from {source}: {', '.join(f'{k} {v}' for k, v in packages.items())}")
    missing = [b for b in spec.packages if b not in packages]
    if missing:
        say(f"not found (left out): {', '.join(missing)}")
    return {"packages": packages, "source": str(source), "imports": {}}


def _find_jar(directory: Path, base: str) -> Path | None:
    exact = directory / f"{base}.jar"
    if exact.is_file():
        return exact.resolve()
    versioned = sorted(directory.glob(f"{base}-[0-9]*.jar"))
    return versioned[-1].resolve() if versioned else None


def _jar_version(jar: Path, base: str) -> str:
    stem = jar.name[:-4]
    return stem[len(base) + 1:] if stem.startswith(base + "-") else "?"


def _world_readable(top: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(top):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            p = Path(dirpath) / name
            if not p.is_symlink():
                mode = p.stat().st_mode
                os.chmod(p, 0o755 if mode & 0o100 else 0o644)


def _replace(new: Path, final: Path) -> None:
    """Put ``new`` at ``final`` in one rename; an earlier build is moved aside and removed."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}-{int(time.time() * 1000)}")
        final.rename(old)
    new.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---- --resolve ------------------------------------------------------------------------------
def resolve_overlay(profile: BuiltProfile, distributions: Sequence[str], wheels: Path,
                    root: Path | None = None) -> Path | None:
    """A directory (host path) holding ``distributions`` installed from the wheel cache
    ``wheels`` (pip ``--no-index --find-links``: no network), built once per profile and set
    of distributions under ``<root>/.overlays``; None when the cache cannot satisfy them.
    Python profiles only. Its ``site-packages`` is what a program's ``sys.path`` gains."""
    if profile.spec.language != "python" or not distributions:
        return None
    root = root or default_profiles_dir()
    wanted = sorted(set(distributions))
    key = hashlib.sha256(json.dumps([profile.key, wanted]).encode()).hexdigest()[:20]
    final = root / OVERLAYS / key
    if (final / MANIFEST).is_file():
        return final
    if not wheels.is_dir():
        return None
    (root / OVERLAYS).mkdir(parents=True, exist_ok=True)
    os.chmod(root / OVERLAYS, 0o755)
    tmp = root / OVERLAYS / f".build-{key}-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir(mode=0o755)
    try:
        _pip_install(["--target", str(tmp / "site-packages"), "--no-index", "--find-links", str(wheels),
                      "--only-binary=:all:", *wanted], f"resolving {', '.join(wanted)} from {wheels}")
        (tmp / MANIFEST).write_text(json.dumps({"profile": profile.key, "packages": wanted}) + "\n")
        _world_readable(tmp)
        try:
            tmp.rename(final)
        except OSError:  # another process made the same overlay first
            shutil.rmtree(tmp, ignore_errors=True)
    except (SandboxError, InputError):
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    return final
