"""Run statuses are one enum whose values are the strings stores hold: they round-trip, old
stores read back, and nothing else gets in."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from codeeval_rl.errors import StoreError
from codeeval_rl.monitoring import RecordingTracker, RunStatus, RunStore


def test_values_are_the_stored_strings():
    assert [s.value for s in RunStatus] == ["running", "finished", "failed"]
    for s in RunStatus:
        assert s == s.value and str(s) == s.value and f"{s}" == s.value and json.dumps(s) == f'"{s.value}"'
        assert {s.value: 1}[s] == 1  # dicts keyed by the old strings still find them


@pytest.mark.parametrize("final", [RunStatus.FINISHED, RunStatus.FAILED, "finished", "failed"])
def test_status_round_trips_through_the_store(tmp_path: Path, final):
    path = tmp_path / "s.db"
    store = RunStore(path)
    run = store.start_run("train", "r", {})
    assert store.get_run(run).status is RunStatus.RUNNING
    store.finish_run(run, final)
    store.close()
    info = RunStore(path, create=False).get_run(run)  # a fresh reader
    assert info.status is RunStatus(final) and info.to_dict()["status"] == str(final)
    assert type(info.to_dict()["status"]) is str
    with sqlite3.connect(path) as db:  # on disk it is the plain string
        assert db.execute("select status from runs").fetchone() == (str(final),)


def test_a_store_written_with_plain_strings_reads_back(tmp_path: Path):
    path = tmp_path / "old.db"
    store = RunStore(path)
    ids = [store.start_run("eval", name, {}) for name in ("a", "b", "c")]
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("update runs set status = 'finished' where id = ?", (ids[1],))
        db.execute("update runs set status = 'failed' where id = ?", (ids[2],))
    runs = RunStore(path, create=False).list_runs()
    assert [r.status for r in runs] == [RunStatus.RUNNING, RunStatus.FINISHED, RunStatus.FAILED]
    assert [r.running for r in runs] == [True, False, False]
    assert "failed" in runs[2].note() and "still running" in runs[0].note()


@pytest.mark.parametrize("bad", ["running", RunStatus.RUNNING, "crashed", "FINISHED", ""])
def test_a_run_only_finishes_as_finished_or_failed(tmp_path: Path, bad):
    store = RunStore(tmp_path / "s.db")
    run = store.start_run("eval", "r", {})
    with pytest.raises(StoreError, match="finishes as 'finished' or 'failed'"):
        store.finish_run(run, bad)
    assert store.get_run(run).status is RunStatus.RUNNING


def test_an_unknown_stored_status_is_a_store_error_naming_it(tmp_path: Path):
    path = tmp_path / "s.db"
    store = RunStore(path)
    run = store.start_run("eval", "r", {})
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("update runs set status = 'crashed'")
    with pytest.raises(StoreError, match=f"run '{run}'.*unknown status 'crashed'"):
        RunStore(path, create=False).list_runs()


def test_the_fake_tracker_keeps_the_enum():
    tracker = RecordingTracker()
    run = tracker.start_run("train", "r", {})
    assert tracker.runs[run]["status"] is RunStatus.RUNNING
    tracker.finish_run(run, "failed")
    assert tracker.runs[run]["status"] is RunStatus.FAILED


def test_the_runs_table_shows_every_status(tmp_path: Path):
    from typer.testing import CliRunner

    from codeeval_rl.cli import app

    path = tmp_path / "s.db"
    store = RunStore(path)
    for name, final in (("a", None), ("b", RunStatus.FINISHED), ("c", RunStatus.FAILED)):
        run = store.start_run("eval", name, {})
        if final is not None:
            store.finish_run(run, final)
    store.close()
    result = CliRunner().invoke(app, ["runs", "--store", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert all(s.value in result.output for s in RunStatus)
