"""Sinks and the fan-out tracker."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from codeeval_rl.errors import MissingDependency
from codeeval_rl.monitoring import (
    MLflowSink,
    MultiTracker,
    RecordingTracker,
    RolloutRecord,
    RunStore,
    ScalarSink,
    TensorBoardSink,
    Tracker,
    WandbSink,
)
from codeeval_rl.monitoring.sinks import flatten_config, rollout_scalars


class _ListSink(ScalarSink):
    prefix = "list"

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple] = []

    def _open(self, kind, name, config):
        self.events.append(("open", kind, name))
        return name

    def _scalars(self, handle, step, values):
        self.events.append(("scalars", handle, step, dict(values)))

    def _close(self, handle, status):
        self.events.append(("close", handle, status))


class _Broken(RecordingTracker):
    def log_metrics(self, run_id, step, values):
        raise ConnectionError("service down")


def _recs() -> list[RolloutRecord]:
    return [RolloutRecord("a", "", 1.0, "ok", True, step=0, components={"q": 0.5}),
            RolloutRecord("b", "", 0.0, "runtime_error", False, step=0, components={"q": float("nan")}),
            RolloutRecord("c", "", float("nan"), "ok", True, step=1)]


def test_rollout_scalars() -> None:
    assert rollout_scalars(_recs()) == {
        0: {"rollouts/pass_rate": 0.5, "rollouts/count": 2.0, "rollouts/reward_mean": 0.5, "rollouts/q_mean": 0.5},
        1: {"rollouts/pass_rate": 1.0, "rollouts/count": 1.0},
    }
    assert flatten_config({"a": {"b": 1, "c": "x" * 300}}) == {"a.b": "1", "a.c": "x" * 249 + "…"}


def test_scalar_sink_protocol_and_nan_filtering() -> None:
    sink = _ListSink()
    assert isinstance(sink, Tracker)
    run = sink.start_run("train", "r1", {})
    sink.log_metrics(run, 3, {"loss": 0.5, "kl": float("nan")})
    sink.log_metrics(run, 4, {"kl": float("inf")})  # nothing finite: no call
    sink.finish_run(run, "failed")
    assert sink.events == [("open", "train", "r1"), ("scalars", "r1", 3, {"loss": 0.5}), ("close", "r1", "failed")]


def test_multitracker_fans_out_and_survives_a_broken_secondary(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.db")
    rec, broken, sink = RecordingTracker(), _Broken(), _ListSink()
    multi = MultiTracker(store, rec, broken, sink)
    assert isinstance(multi, Tracker)
    run = multi.start_run("train", "fan", {"lr": 1})
    multi.log_rollouts(run, _recs())
    with pytest.warns(RuntimeWarning, match="_Broken failed and is dropped.*service down"):
        multi.log_metrics(run, 0, {"loss": 1.0})
    multi.log_metrics(run, 1, {"loss": 0.5})  # the broken one is gone: no second warning
    multi.finish_run(run)
    assert store.get_run(run).status == "finished" and store.metrics(run) == {"loss": [(0, 1.0), (1, 0.5)]}
    (only,) = rec.runs.values()
    assert len(only["rollouts"]) == 3 and only["metrics"] == [(0, {"loss": 1.0}), (1, {"loss": 0.5})]
    assert only["status"] == "finished"
    assert ("scalars", "fan", 1, {"loss": 0.5}) in sink.events and sink.events[-1] == ("close", "fan", "finished")


def test_primary_errors_propagate(tmp_path: Path) -> None:
    multi = MultiTracker(_Broken(), RecordingTracker())
    run = multi.start_run("eval", "x", {})
    with pytest.raises(ConnectionError):
        multi.log_metrics(run, 0, {"a": 1.0})


@pytest.mark.parametrize(("cls", "module"), [(TensorBoardSink, "tensorboard"), (MLflowSink, "mlflow"),
                                             (WandbSink, "wandb")])
def test_missing_libraries_name_the_extra(monkeypatch, cls, module) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    with pytest.raises(MissingDependency, match=rf"{module}.*pip install 'codeeval-rl\[trackers\]'"):
        cls()


def test_wandb_sink_calls(monkeypatch) -> None:
    calls: list[tuple] = []

    class _Run:
        def log(self, values, step):
            calls.append(("log", dict(values), step))

        def finish(self, exit_code):
            calls.append(("finish", exit_code))

    fake = types.ModuleType("wandb")
    fake.init = lambda **kw: calls.append(("init", kw["project"], kw["name"], kw["config"], kw["mode"])) or _Run()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    sink = WandbSink(project="p", mode="offline")
    run = sink.start_run("train", "w", {"lr": 0.1})
    sink.log_rollouts(run, _recs()[:1])
    sink.finish_run(run, "failed")
    assert calls == [("init", "p", "w", {"lr": 0.1}, "offline"),
                     ("log", {"rollouts/pass_rate": 1.0, "rollouts/count": 1.0, "rollouts/reward_mean": 1.0,
                              "rollouts/q_mean": 0.5}, 0),
                     ("finish", 1)]
