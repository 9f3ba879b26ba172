"""One data row per language: where the source goes, how to compile it, how to run it.

Adding a language is adding one :class:`Language` to :data:`LANGUAGES`; everything else that
knows language names is derived from these rows (:data:`ALIASES`, the fence tags of
``evaluation.extract``, the extension guess of ``codeeval-rl run``). Argument templates
may use ``{src}`` (source file name), ``{artifact}`` (a directory holding a copy of the
build output made for the run, read-only to it; the compile cache itself is out of the
program's reach), ``{heap_mb}`` (a heap size below the memory limit, for runtimes that need
to be told) and ``{main}`` (Java's class name). A Java runtime profile's jars join the class
path of both commands (``-cp``; see ``Sandbox._request``).

Compilers and runtimes must be the system's (``/usr/bin``): toolchains under ``/root``
(rustup, pyenv) are invisible to the unprivileged sandbox user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codeeval_rl.errors import InputError

__all__ = ["ALIASES", "LANGUAGES", "Language", "get_language", "java_main_class"]


@dataclass(frozen=True)
class Language:
    """How to build and run one language.

    ``forkserver``: the source runs inside the warm Python fork server instead of a fresh
    interpreter (Python only). ``compile_argv`` is ``None`` for interpreted languages.
    ``heap_fraction``: share of the memory limit handed to the runtime's own heap flag,
    leaving room for its code, stacks and buffers (the cgroup limit is the real one).
    ``syntax_argv``: a syntax-only check (the evaluation engine's syntax level).
    ``aliases``: other lower-case names for the language, accepted wherever a language is
    named (task files, the CLI, :func:`get_language`) and as the tag of a fenced code block in
    a completion. ``extensions``: source file suffixes, the first one the canonical suffix.
    ``rootless_data_mb``: in rootless mode (no memory cgroup) RLIMIT_DATA is the memory limit
    plus this much, for address space the runtime maps writable and never touches (thread
    stacks, the JVM's reserved regions); the run's resident memory is what is held to the limit.
    """

    name: str
    source_file: str
    run_argv: tuple[str, ...]
    compile_argv: tuple[str, ...] | None = None
    forkserver: bool = False
    heap_fraction: float = 0.75
    min_memory_mb: int = 16
    min_processes: int = 1
    syntax_argv: tuple[str, ...] | None = None
    version_argv: tuple[str, ...] = ()
    extensions: tuple[str, ...] = field(default_factory=tuple)
    aliases: tuple[str, ...] = field(default_factory=tuple)
    rootless_data_mb: int = 64

    @property
    def compiled(self) -> bool:
        return self.compile_argv is not None


LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        Language(
            name="python",
            source_file="main.py",
            run_argv=("{python}", "-S", "-I", "{src}"),
            forkserver=True,
            syntax_argv=("{python}", "-S", "-I", "-m", "py_compile", "{src}"),
            version_argv=("{python}", "--version"),
            extensions=(".py",),
            aliases=("py", "python3", "py3"),
        ),
        Language(
            name="javascript",
            source_file="main.js",
            run_argv=("/usr/bin/node", "--max-old-space-size={heap_mb}", "--stack-size=4096", "{src}"),
            min_memory_mb=96,
            min_processes=16,
            rootless_data_mb=512,
            syntax_argv=("/usr/bin/node", "--check", "{src}"),
            version_argv=("/usr/bin/node", "--version"),
            extensions=(".js", ".mjs"),
            aliases=("js", "node", "nodejs", "mjs"),
        ),
        Language(
            name="java",
            source_file="{main}.java",
            compile_argv=("/usr/bin/javac", "-J-Xmx512m", "-J-XX:+UseSerialGC", "-J-Xshare:auto",
                          "-encoding", "UTF-8", "-nowarn", "-d", ".", "{src}"),
            run_argv=("/usr/bin/java", "-Xmx{heap_mb}m", "-Xss64m", "-XX:+UseSerialGC",
                      "-XX:CompressedClassSpaceSize=64m", "-XX:ReservedCodeCacheSize=64m",
                      "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xshare:auto",
                      "-cp", "{artifact}", "{main}"),
            heap_fraction=0.6,
            min_memory_mb=192,
            min_processes=48,
            rootless_data_mb=1536,
            version_argv=("/usr/bin/java", "-version"),
            extensions=(".java",),
        ),
        Language(
            name="cpp",
            source_file="main.cpp",
            compile_argv=("/usr/bin/g++", "-O2", "-std=gnu++17", "-pipe", "-o", "main", "{src}", "-lm"),
            run_argv=("{artifact}/main",),
            syntax_argv=("/usr/bin/g++", "-std=gnu++17", "-fsyntax-only", "{src}"),
            version_argv=("/usr/bin/g++", "--version"),
            extensions=(".cpp", ".cc", ".cxx"),
            aliases=("c++", "cc", "cxx", "hpp"),
        ),
        Language(
            name="c",
            source_file="main.c",
            compile_argv=("/usr/bin/gcc", "-O2", "-std=gnu11", "-pipe", "-o", "main", "{src}", "-lm"),
            run_argv=("{artifact}/main",),
            syntax_argv=("/usr/bin/gcc", "-std=gnu11", "-fsyntax-only", "{src}"),
            version_argv=("/usr/bin/gcc", "--version"),
            extensions=(".c",),
            aliases=("h",),
        ),
        Language(
            name="rust",
            source_file="main.rs",
            # Without debug info a hello-world binary is 0.45 MB instead of 4.3 MB, and every run copies it.
            compile_argv=("/usr/bin/rustc", "-O", "--edition", "2021", "-C", "strip=debuginfo", "-o", "main", "{src}"),
            run_argv=("{artifact}/main",),
            min_processes=4,
            syntax_argv=("/usr/bin/rustc", "--edition", "2021", "--crate-type", "bin", "--emit=metadata", "-o", "/tmp/syntax.rmeta", "{src}"),
            version_argv=("/usr/bin/rustc", "--version"),
            extensions=(".rs",),
            aliases=("rs",),
        ),
    )
}

ALIASES: dict[str, str] = {alias: lang.name for lang in LANGUAGES.values() for alias in lang.aliases}
"""Every other name of a language -> its canonical name (derived from the rows)."""


def get_language(name: str) -> Language:
    """The row for ``name`` (case-insensitive, common aliases allowed) or :class:`InputError`."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    try:
        return LANGUAGES[key]
    except KeyError:
        raise InputError(
            f"unknown language {name!r}; supported: {', '.join(sorted(LANGUAGES))}"
        ) from None


_JAVA_PUBLIC_CLASS = re.compile(r"^\s*public\s+(?:final\s+|abstract\s+)*class\s+([A-Za-z_$][\w$]*)", re.MULTILINE)
_JAVA_MAIN = re.compile(r"class\s+([A-Za-z_$][\w$]*)[^{]*\{(?:(?!\bclass\b).)*?static\s+void\s+main\s*\(", re.DOTALL)


def java_main_class(source: str) -> str:
    """The class whose file name javac requires: the public class, else the one with ``main``."""
    m = _JAVA_PUBLIC_CLASS.search(source)
    if m:
        return m.group(1)
    m = _JAVA_MAIN.search(source)
    return m.group(1) if m else "Main"
