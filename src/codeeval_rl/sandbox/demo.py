"""A built-in set of programs, one per language plus a few hostile ones, run through the
sandbox: the host check behind ``codeeval-rl doctor`` and the first step of the quickstart.
The capabilities in the report name the mode (root or rootless) and, per guarantee, whether it
holds in that mode (:mod:`codeeval_rl.sandbox.mode`)."""

from __future__ import annotations

from typing import Any

from codeeval_rl.sandbox.sandbox import Sandbox
from codeeval_rl.types import Limits, Program, Status

__all__ = ["DEMO_PROGRAMS", "check_host"]

#: (label, language, source, stdin, expected status, expected stdout)
DEMO_PROGRAMS: tuple[tuple[str, str, str, str, Status, str], ...] = (
    ("python", "python", "print(sum(map(int, input().split())))", "2 40", Status.OK, "42"),
    ("javascript", "javascript",
     "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(' ').map(Number); console.log(a + b);",
     "2 40", Status.OK, "42"),
    ("java", "java", "import java.util.*;\npublic class Main { public static void main(String[] x) { "
     "Scanner s = new Scanner(System.in); System.out.println(s.nextInt() + s.nextInt()); } }", "2 40", Status.OK, "42"),
    ("cpp", "cpp", "#include <iostream>\nint main(){ long a, b; std::cin >> a >> b; std::cout << a + b << std::endl; }",
     "2 40", Status.OK, "42"),
    ("c", "c", "#include <stdio.h>\nint main(){ long a, b; scanf(\"%ld %ld\", &a, &b); printf(\"%ld\\n\", a + b); }",
     "2 40", Status.OK, "42"),
    ("rust", "rust", "use std::io::Read;\nfn main(){ let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); "
     "let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!(\"{}\", v[0] + v[1]); }",
     "2 40", Status.OK, "42"),
    ("infinite loop", "python", "while True:\n    pass", "", Status.TIMEOUT, ""),
    ("memory bomb", "python", "a = []\nwhile True:\n    a.append(b'x' * 10_000_000 + bytes(len(a)))", "",
     Status.MEMORY_LIMIT, ""),
    ("network", "python", "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=1)", "",
     Status.RUNTIME_ERROR, ""),
    ("fork bomb", "python", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass", "",
     Status.TIMEOUT, ""),
    ("missing package", "python", "import numpy", "", Status.MISSING_DEPENDENCY, ""),
)


def check_host(config: str | None = None, workers: int = 2) -> dict[str, Any]:
    """Run :data:`DEMO_PROGRAMS`; ``ok`` is True when each did what it should."""
    limits = Limits(wall_time_s=2.0, memory_mb=256, max_processes=32)
    with Sandbox(config, workers=workers) as sb:
        caps = sb.capabilities()
        programs = [Program(lang, src, stdin=stdin) for _, lang, src, stdin, _, _ in DEMO_PROGRAMS]
        results = sb.run_many(programs, limits)
    rows = []
    for (label, lang, _, _, want_status, want_out), r in zip(DEMO_PROGRAMS, results):
        ok = r.status is want_status and (not want_out or r.stdout.strip() == want_out)
        rows.append({"language": label, "status": r.status.value, "expected": want_status.value, "ok": ok,
                     "output": (r.stdout.strip() or r.reason), "wall_ms": r.wall_time_s * 1000,
                     "compile_ms": r.compile_time_s * 1000, "reason": r.reason})
    return {"ok": all(row["ok"] for row in rows), "capabilities": caps, "languages": rows}
