"""What runaway programs cost a batch: k programs that spin until the wall limit, dispatched
first, beside 400 quick programs, through ``Sandbox.run_many`` with the shipped sandbox settings
(one worker per core, runs yield after 0.25 s, spare workers started while every worker holds a
yielded run, up to ``max_spare_workers``).

For each k it prints the batch's wall time, the time the last runaway ended, and two bounds:
one wall limit (what a batch of runaways side by side cannot beat) and ``ceil(k / (workers +
spares at start)) * limit``, what the batch would take if runaways ran in waves on the workers
the pool starts with.

Then what runaways cost the programs beside them: ``--beside`` quick programs (enough to keep
both cores busy past the limit) alone, beside 3 programs that sleep until the limit, and beside
3 that spin until it, each twice in turn. Sleepers take no CPU, so the sleepers' row is the
floor; what the spinners add on top is what spinning costs the batch.

    python bench/runaways.py [--limit 3] [--k 0,2,8,22] [--beside 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

from codeeval_rl.sandbox import Limits, Program, Sandbox, Status

LOOP = Program(language="python", source="while True:\n    pass\n")
SLEEP = Program(language="python", source="import time\ntime.sleep(3600)\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=float, default=3.0, help="wall limit per run, seconds (default 3)")
    ap.add_argument("--k", default="0,2,8,22", help="runaway counts, comma-separated")
    ap.add_argument("--quick", type=int, default=400, help="quick programs beside them")
    ap.add_argument("--beside", type=int, default=2000, help="quick programs beside 3 sleepers or spinners")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    counts = [int(x) for x in args.k.split(",") if x.strip()]
    quick = [Program(language="python", source=f"print({i} * 2)") for i in range(args.quick)]
    rows = []
    with Sandbox() as sb:
        sb.start()
        at_start = len(sb._workers)
        cap = sb.size + sb.max_spares
        sb.run_many(quick[:100], Limits(wall_time_s=args.limit))  # warm-up
        for k in counts:
            ends: dict[int, float] = {}
            t0 = time.perf_counter()
            results = sb.run_many([LOOP] * k + quick, Limits(wall_time_s=args.limit),
                                  on_result=lambda i, r, ends=ends, t0=t0: ends.__setitem__(i, time.perf_counter() - t0))
            wall = time.perf_counter() - t0
            ok = (all(r.status is Status.TIMEOUT for r in results[:k])
                  and all(r.status is Status.OK for r in results[k:]))
            rows.append({"runaways": k, "batch_s": wall, "last_runaway_s": max((ends[i] for i in range(k)), default=0.0),
                         "one_limit_s": args.limit if k else 0.0,
                         "waves_bound_s": math.ceil(k / at_start) * args.limit, "workers_now": len(sb._workers),
                         "verdicts_ok": ok})
        beside = [Program(language="python", source=f"print({i} * 3)") for i in range(args.beside)]
        cost: dict[str, list[float]] = {"alone": [], "3 sleeping": [], "3 spinning": []}
        for _ in range(2):
            for name, extra in (("alone", []), ("3 sleeping", [SLEEP] * 3), ("3 spinning", [LOOP] * 3)):
                t0 = time.perf_counter()
                sb.run_many(extra + beside, Limits(wall_time_s=args.limit))
                cost[name].append(time.perf_counter() - t0)
    report = {"limit_s": args.limit, "quick_programs": args.quick, "workers_at_start": at_start,
              "max_workers": cap, "rows": rows, "beside": args.beside, "beside_s": cost}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.quick} quick programs, wall limit {args.limit:g} s, {at_start} workers at start "
              f"(at most {cap})")
        print(f"{'runaways':>9} {'batch s':>8} {'last runaway s':>15} {'in waves (bound) s':>19} {'workers':>8}")
        for r in rows:
            print(f"{r['runaways']:>9} {r['batch_s']:>8.2f} {r['last_runaway_s']:>15.2f} {r['waves_bound_s']:>19.1f} "
                  f"{r['workers_now']:>8}")
        print(f"{args.beside} quick programs beside 3 runaways (two runs each, in turn):")
        for name, times in cost.items():
            print(f"  {name:<11} " + "  ".join(f"{t:6.2f} s" for t in times))
    return 0 if all(r["verdicts_ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
