"""Many runaways at once: while every worker holds a yielded run, more spare workers start (up to
``max_spare_workers``), so the runaways run their limits side by side instead of in waves."""

from __future__ import annotations

import time

from codeeval_rl.sandbox import Limits, Program, Sandbox, Status

LOOP = Program(language="python", source="while True:\n    pass\n")
QUICK = Program(language="python", source="print(6 * 7)")


def test_runaways_run_side_by_side_not_in_waves() -> None:
    k, limit = 8, 1.5
    with Sandbox(workers=2, spare_workers=0, yield_after_s=0.1, max_spare_workers=k) as sb:
        sb.start()
        done: dict[int, float] = {}
        t0 = time.monotonic()
        results = sb.run_many([LOOP] * k + [QUICK] * 20, Limits(wall_time_s=limit),
                              on_result=lambda i, r: done.__setitem__(i, time.monotonic() - t0))
        grown = len(sb._workers)
    assert all(r.status is Status.TIMEOUT and r.wall_time_s >= limit - 0.05 for r in results[:k])
    assert all(r.status is Status.OK and r.stdout == "42\n" for r in results[k:])
    assert grown > 2  # spares started for the yielded runs
    # In waves of 2 (the workers alone) the last runaway could not end before 4 limits (6 s);
    # side by side each starts within about k / 2 yield delays plus a spare's start.
    assert max(done[i] for i in range(k)) < 3 * limit, done


def test_the_cap_bounds_the_pool_and_the_batch_still_finishes() -> None:
    with Sandbox(workers=1, spare_workers=0, yield_after_s=0.1, max_spare_workers=2) as sb:
        results = sb.run_many([LOOP] * 5 + [QUICK] * 3, Limits(wall_time_s=0.6))
        assert len(sb._workers) <= 3
    assert [r.status for r in results] == [Status.TIMEOUT] * 5 + [Status.OK] * 3


def test_without_yielding_no_spare_starts() -> None:
    with Sandbox(workers=1, yield_after_s=None, max_spare_workers=8) as sb:
        results = sb.run_many([LOOP] * 2 + [QUICK], Limits(wall_time_s=0.5))
        assert len(sb._workers) == 1
    assert [r.status for r in results] == [Status.TIMEOUT, Status.TIMEOUT, Status.OK]


def test_a_yielded_run_moves_to_an_idle_cpu_group_where_the_host_has_one() -> None:
    """Per-task SCHED_IDLE is not enough where the kernel groups sessions (autogroup): the run's
    group would compete at full weight. On a cgroup v1 host with ``cpu.idle`` the yielded run
    is moved into the worker's idle cpu cgroup; normal runs stay outside it."""
    import pytest

    from codeeval_rl.sandbox.cgroups import detect

    layout = detect()
    if layout is None or layout.version != 1 or "cpu" not in layout.parents:
        pytest.skip("no cgroup v1 cpu hierarchy with cpu.idle on this host")
    src = ("import time\nt = time.time()\nwhile time.time() - t < 0.6:\n    pass\n"
           "print([l for l in open('/proc/self/cgroup').read().splitlines() if ':cpu' in l])\n")
    with Sandbox(workers=1, yield_after_s=0.1) as sb:
        yielded = sb.run(Program(language="python", source=src), Limits(wall_time_s=5.0))
        normal = sb.run(Program(language="python", source="print(open('/proc/self/cgroup').read())"))
    assert yielded.status is Status.OK and yielded.yielded, yielded
    assert "/codeeval-rl/" in yielded.stdout, yielded.stdout
    assert "codeeval-rl" not in next(l for l in normal.stdout.splitlines() if ":cpu" in l), normal.stdout
