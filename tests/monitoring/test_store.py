"""The run store: round trips, lookups, bad input, concurrent processes."""

from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codeeval_rl.errors import StoreError
from codeeval_rl.monitoring import RolloutRecord, RunStore, Tracker
from codeeval_rl.monitoring.store import STORE_FILENAME, resolve_store_url

WRITER = Path(__file__).with_name("_writer_process.py")


def _rec(i: int, step: int = 0, **kw) -> RolloutRecord:
    base = {"task_id": f"task-{i}", "completion": f"def f():\n    return {i}\n", "reward": i * 0.1,
                "status": "ok", "passed": bool(i % 2), "step": step, "sample_index": i, "language": "python",
                "category": "strings", "tier": "easy", "components": {"syntax": 1.0, "tests": i * 0.1},
                "first_error": "", "turn": 0}
    base.update(kw)
    return RolloutRecord(**base)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.db")
    assert isinstance(store, Tracker)
    run = store.start_run("eval", "baseline", {"lr": 1e-5, "nested": {"a": [1, 2]}})
    recs = [_rec(i, step=i // 2, first_error=f"E{i}", turn=i % 3, language="rust") for i in range(5)]
    store.log_rollouts(run, recs)
    store.log_metrics(run, 0, {"loss": 0.5, "kl": 0.0})
    store.log_metrics(run, 1, {"loss": 0.25, "kl": 0.01})
    assert store.rollouts(run) == recs
    assert store.metrics(run) == {"loss": [(0, 0.5), (1, 0.25)], "kl": [(0, 0.0), (1, 0.01)]}
    assert store.metrics(run, names=["kl"]) == {"kl": [(0, 0.0), (1, 0.01)]}
    assert [r.step for r in store.rollouts(run, step_from=2)] == [2]
    info = store.get_run(run)
    assert (info.kind, info.name, info.status, info.n_rollouts, info.n_metrics, info.last_step) == \
        ("eval", "baseline", "running", 5, 4, 2)
    assert info.config == {"lr": 1e-5, "nested": {"a": [1, 2]}}
    store.finish_run(run)
    done = store.get_run(run)
    assert done.status == "finished" and done.finished_at is not None and done.note() == ""


def test_ambiguous_prefix_names_the_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    ids = iter(["abc111", "abc222"])
    monkeypatch.setattr("codeeval_rl.monitoring.store.uuid.uuid4",
                        lambda: uuid.UUID(next(ids).ljust(32, "0")))
    store = RunStore(tmp_path / "s.db")
    store.start_run("eval", "one", {})
    store.start_run("eval", "two", {})
    with pytest.raises(StoreError, match=r"prefix 'abc' is ambiguous.*one \(abc111.*two \(abc222"):
        store.get_run("abc")
    assert store.get_run("abc2").name == "two"


def test_non_finite_values_come_back_as_nan(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.db")
    run = store.start_run("train", "nan", {})
    store.log_rollouts(run, [_rec(1, reward=float("nan"), components={"q": float("inf")})])
    store.log_metrics(run, 0, {"loss": float("nan")})
    (back,) = store.rollouts(run)
    assert math.isnan(back.reward) and math.isnan(back.components["q"])
    assert math.isnan(store.metrics(run)["loss"][0][1])


def test_lookup_by_prefix_name_and_errors(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.db")
    with pytest.raises(StoreError, match="holds no runs yet"):
        store.get_run("anything")
    a = store.start_run("train", "alpha", {})
    b = store.start_run("eval", "beta", {})
    assert store.get_run(a[:6]).id == a
    assert store.get_run("beta").id == b
    again = store.start_run("eval", "beta", {})
    assert store.get_run("beta").id == again  # a reused name means the latest
    assert store.latest_run().id == again and store.latest_run("train").id == a
    with pytest.raises(StoreError) as exc:
        store.get_run("gamma")
    assert "no run 'gamma'" in str(exc.value) and "alpha" in str(exc.value) and a in str(exc.value)
    with pytest.raises(StoreError, match="no run ''"):
        store.get_run("")  # an empty reference is never a prefix of everything

    with pytest.raises(StoreError, match="call start_run first"):
        store.log_metrics("nope", 0, {"x": 1.0})
    with pytest.raises(StoreError, match="kind"):
        store.start_run("bogus", "x", {})
    with pytest.raises(StoreError, match="finishes as"):
        store.finish_run(a, "running")
    store.delete_run(b)
    assert [r.id for r in store.list_runs()] == [a, again]


def test_reading_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "runs.db"
    with pytest.raises(StoreError, match=str(missing)):
        RunStore(missing, create=False)
    assert not missing.exists() and not missing.parent.exists()
    with pytest.raises(StoreError, match=f"{STORE_FILENAME} is missing"):
        RunStore(tmp_path, create=False)
    assert not (tmp_path / STORE_FILENAME).exists()


def test_corrupt_and_foreign_files_are_refused_and_kept(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    payload = b"this is not a database\n" * 200
    bad.write_bytes(payload)
    for create in (False, True):
        with pytest.raises(StoreError, match="corrupt or not an SQLite database"):
            RunStore(bad, create=create)
    assert bad.read_bytes() == payload  # nothing lost
    foreign = tmp_path / "other.db"
    con = sqlite3.connect(foreign)
    con.execute("create table songs (title text)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a CodeEval RL run store.*songs"):
        RunStore(foreign, create=False)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(StoreError, match="empty database"):
        RunStore(empty, create=False)


def test_directory_means_its_store_file(tmp_path: Path) -> None:
    out = tmp_path / "quickstart"
    out.mkdir()
    writer = RunStore(out)
    run = writer.start_run("train", "qs", {})
    assert (out / STORE_FILENAME).exists()
    assert RunStore(out, create=False).get_run(run).name == "qs"
    url, path = resolve_store_url(f"sqlite:///{out / STORE_FILENAME}")
    assert path == out / STORE_FILENAME and url.startswith("sqlite:///")
    assert resolve_store_url("postgresql://u:pw@h/db") == ("postgresql://u:pw@h/db", None)


def test_a_running_run_is_readable_with_a_note(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.db")
    run = store.start_run("train", "live", {})
    info = store.get_run(run)
    assert info.empty and info.running
    store.log_metrics(run, 7, {"loss": 1.0})
    note = store.get_run(run).note(now=time.time() + 3 * 3600)
    assert "still running at step 7" in note and "3.0 h ago" in note
    store.finish_run(run, "failed")
    assert "failed" in store.get_run(run).note()


def test_wal_mode_is_on(tmp_path: Path) -> None:
    RunStore(tmp_path / "s.db").start_run("eval", "x", {})
    con = sqlite3.connect(tmp_path / "s.db")
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    con.close()


def _spawn_writer(store: Path, name: str, steps: int, batch: int, ready: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen([sys.executable, str(WRITER), str(store), name, str(steps), str(batch),
                             str(ready)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_concurrent_writer_processes_and_a_reader(tmp_path: Path) -> None:
    """Two 'trainers' in separate processes write while this process keeps reading."""
    db = tmp_path / "shared.db"
    RunStore(db)  # created up front, as `make quickstart` or the first trainer would
    steps, batch = 40, 16
    procs = [_spawn_writer(db, f"w{k}", steps, batch, tmp_path / f"ready{k}") for k in range(2)]
    reader = RunStore(db, create=False)
    reads, seen_partial = 0, False
    deadline = time.time() + 60
    while any(p.poll() is None for p in procs) and time.time() < deadline:
        for info in reader.list_runs():
            rows = reader.rollouts(info.id)
            assert len(rows) % batch == 0  # a batch is one transaction: never half visible
            if info.running and 0 < len(rows) < steps * batch:
                seen_partial = True
        reads += 1
    for p in procs:
        _out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    runs = reader.list_runs()
    assert sorted(r.name for r in runs) == ["w0", "w1"]
    for info in runs:
        assert info.status == "finished"
        assert info.n_rollouts == steps * batch and info.n_metrics == steps * 2
        assert [s for s, _ in reader.metrics(info.id)["loss"]] == list(range(steps))
    assert reads > 1
    assert seen_partial, "the reader never saw a run in progress"
