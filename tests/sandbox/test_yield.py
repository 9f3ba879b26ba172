"""Runaway runs yield: past ``yield_after_s`` a run drops to the idle scheduling class, gives
its normal-priority slot back, and new runs start beside it on a spare worker."""

from __future__ import annotations

import threading
import time

import pytest

from codeeval_rl.sandbox import Limits, Program, Sandbox, Status

LOOP = Program(language="python", source="while True:\n    pass\n")
QUICK = Program(language="python", source="print(sum(range(1000)))")


@pytest.fixture(scope="module")
def one_core_pool():
    """One normal-priority slot, one spare, runs yield after 0.2 s."""
    sb = Sandbox(workers=1, yield_after_s=0.2)
    yield sb
    sb.close()


def test_a_loop_yields_and_the_next_runs_start_beside_it(one_core_pool: Sandbox) -> None:
    limits = Limits(wall_time_s=3.0)
    done: dict[int, float] = {}
    t0 = time.monotonic()
    results = one_core_pool.run_many([LOOP] + [QUICK] * 6, limits,
                                     on_result=lambda i, r: done.__setitem__(i, time.monotonic() - t0))
    loop, quick = results[0], results[1:]
    assert loop.status is Status.TIMEOUT and loop.yielded
    assert loop.wall_time_s >= 2.9  # the limit did not change
    assert all(r.status is Status.OK and r.stdout == "499500\n" and not r.yielded for r in quick)
    # With one slot and no yielding the quick runs would wait the loop's 3 s out.
    assert max(done[i] for i in range(1, 7)) < done[0], done


def test_the_yielded_program_runs_idle_and_cannot_take_priority_back(one_core_pool: Sandbox) -> None:
    src = (
        "import os, threading, time\n"
        "def spin():\n"
        "    while not stop:\n"
        "        pass\n"
        "stop = False\n"
        "t = threading.Thread(target=spin)\n"
        "t.start()\n"
        "time.sleep(0.6)\n"
        "print(os.nice(0), os.sched_getscheduler(0) == os.SCHED_IDLE,"
        " os.sched_getscheduler(t.native_id) == os.SCHED_IDLE)\n"
        "for attempt in (lambda: os.nice(-1),"
        " lambda: os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0)),"
        " lambda: os.setpriority(os.PRIO_PROCESS, 0, 0)):\n"
        "    try:\n"
        "        attempt()\n"
        "        print('allowed')\n"
        "    except OSError:\n"
        "        print('denied')\n"
        "stop = True\n"
        "t.join()\n"
    )
    r = one_core_pool.run(Program(language="python", source=src), Limits(wall_time_s=5.0))
    assert r.status is Status.OK, r.stderr
    assert r.yielded
    assert r.stdout.split("\n")[:4] == ["19 True True", "denied", "denied", "denied"], r.stdout


def test_the_next_run_starts_at_normal_priority(one_core_pool: Sandbox) -> None:
    one_core_pool.run(Program(language="python", source="import time\ntime.sleep(0.4)"), Limits(wall_time_s=2.0))
    r = one_core_pool.run(Program(language="python", source="import os\nprint(os.nice(0), os.sched_getscheduler(0))"))
    assert r.status is Status.OK and not r.yielded
    assert r.stdout.split() == ["0", str(0)]  # nice 0, SCHED_OTHER


def test_a_sleeper_yields_too_and_its_status_is_unchanged(one_core_pool: Sandbox) -> None:
    r = one_core_pool.run(Program(language="python", source="import time\ntime.sleep(0.5)\nprint('woke')"),
                          Limits(wall_time_s=2.0))
    assert r.status is Status.OK and r.stdout == "woke\n" and r.yielded


def test_yielding_off_keeps_one_run_per_slot() -> None:
    with Sandbox(workers=1, yield_after_s=None) as sb:
        assert sb.capabilities()["spare_workers"] == 0
        started = threading.Event()
        timings: dict[str, float] = {}

        def long_run() -> None:
            started.set()
            r = sb.run(Program(language="python", source="import time\ntime.sleep(1.0)"), Limits(wall_time_s=3.0))
            assert not r.yielded
            timings["long"] = time.monotonic()

        th = threading.Thread(target=long_run)
        th.start()
        started.wait()
        time.sleep(0.3)
        r = sb.run(QUICK)
        timings["quick"] = time.monotonic()
        th.join()
        assert r.status is Status.OK
        assert timings["quick"] >= timings["long"]  # it waited for the only worker


def test_max_spare_workers_bounds_the_runs_beside_yielded_ones() -> None:
    with Sandbox(workers=1, yield_after_s=0.1, spare_workers=1, max_spare_workers=1) as sb:
        assert sb.capabilities()["spare_workers"] == 1
        t0 = time.monotonic()
        results = sb.run_many([Program(language="python", source="import time\ntime.sleep(1.0)")] * 3,
                              Limits(wall_time_s=3.0))
        elapsed = time.monotonic() - t0
        assert all(r.status is Status.OK and r.yielded for r in results)
        # Two workers in all: the third sleeper waits for one of the first two.
        assert elapsed > 1.9, elapsed


@pytest.mark.parametrize(("key", "value"), [("yield_after_s", 0), ("yield_after_s", -1.0), ("spare_workers", -1),
                                                     ("max_spare_workers", -1)])
def test_bad_settings_name_the_key(key: str, value: float) -> None:
    from codeeval_rl.errors import ConfigError

    with pytest.raises(ConfigError, match=f"sandbox.{key}"):
        Sandbox(**{key: value})
