"""Optional sinks (TensorBoard, MLflow, Weights & Biases) and the fan-out tracker.

Every sink is a :class:`~codeeval_rl.monitoring.tracker.Tracker`. The external ones share
one small interface, :class:`ScalarSink`: a sink only has to open a run, write named
scalars at a step, and close the run; rollouts reach it as per-step aggregates
(``rollouts/pass_rate``, ``rollouts/reward_mean``, ``rollouts/<component>_mean``). Each
imports its library lazily through :func:`~codeeval_rl.errors.require`, so a missing
library fails with ``pip install 'codeeval-rl[trackers]'`` when the sink is created,
never at import time.

:class:`MultiTracker` sends everything to several trackers: the first (normally the
:class:`RunStore`) is authoritative and its errors propagate; an error in any other one
is reported once through :mod:`warnings` and that tracker is dropped for the run, so a
dashboard service going down never stops a training.
"""

from __future__ import annotations

import math
import time
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from codeeval_rl.errors import require
from codeeval_rl.monitoring.tracker import RolloutRecord, RunStatus, Tracker

__all__ = [
    "MLflowSink",
    "MultiTracker",
    "ScalarSink",
    "TensorBoardSink",
    "WandbSink",
    "flatten_config",
    "rollout_scalars",
]


def rollout_scalars(records: Sequence[RolloutRecord]) -> dict[int, dict[str, float]]:
    """Per step: pass rate, mean reward and mean of each component (finite values only)."""
    by_step: dict[int, list[RolloutRecord]] = defaultdict(list)
    for r in records:
        by_step[r.step].append(r)
    out: dict[int, dict[str, float]] = {}
    for step, rs in sorted(by_step.items()):
        vals: dict[str, float] = {"rollouts/pass_rate": sum(r.passed for r in rs) / len(rs),
                                  "rollouts/count": float(len(rs))}
        rewards = [r.reward for r in rs if math.isfinite(r.reward)]
        if rewards:
            vals["rollouts/reward_mean"] = math.fsum(rewards) / len(rewards)
        comps: dict[str, list[float]] = defaultdict(list)
        for r in rs:
            for k, v in r.components.items():
                if math.isfinite(v):
                    comps[k].append(v)
        for k, vs in comps.items():
            vals[f"rollouts/{k}_mean"] = math.fsum(vs) / len(vs)
        out[step] = vals
    return out


def flatten_config(config: Mapping[str, Any], prefix: str = "", max_len: int = 250) -> dict[str, str]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": "1"}``; values cut to ``max_len`` characters."""
    out: dict[str, str] = {}
    for k, v in config.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten_config(v, key + ".", max_len))
        else:
            text = str(v)
            out[key] = text if len(text) <= max_len else text[: max_len - 1] + "…"
    return out


class ScalarSink:
    """Base of the external sinks. Subclasses implement ``_open``, ``_scalars`` and
    ``_close``; non-finite values never reach them."""

    prefix = "sink"

    def __init__(self) -> None:
        self._handles: dict[str, Any] = {}

    def _open(self, kind: str, name: str, config: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def _scalars(self, handle: Any, step: int, values: Mapping[str, float]) -> None:
        raise NotImplementedError

    def _close(self, handle: Any, status: RunStatus) -> None:
        raise NotImplementedError

    def start_run(self, kind: str, name: str, config: Mapping[str, Any]) -> str:
        run_id = f"{self.prefix}-{len(self._handles) + 1}"
        self._handles[run_id] = self._open(kind, name, config)
        return run_id

    def log_rollouts(self, run_id: str, records: Sequence[RolloutRecord]) -> None:
        for step, values in rollout_scalars(records).items():
            self.log_metrics(run_id, step, values)

    def log_metrics(self, run_id: str, step: int, values: Mapping[str, float]) -> None:
        clean = {k: float(v) for k, v in values.items() if math.isfinite(float(v))}
        if clean:
            self._scalars(self._handles[run_id], int(step), clean)

    def finish_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> None:
        handle = self._handles.pop(run_id, None)
        if handle is not None:
            self._close(handle, status)


class TensorBoardSink(ScalarSink):
    """Event files under ``log_dir/<run name>`` (through ``torch.utils.tensorboard``)."""

    prefix = "tensorboard"

    def __init__(self, log_dir: str = "runs/tensorboard") -> None:
        super().__init__()
        require("tensorboard", "trackers")
        self._writer_cls = require("torch.utils.tensorboard", "train").SummaryWriter
        self.log_dir = log_dir

    def _open(self, kind: str, name: str, config: Mapping[str, Any]) -> Any:
        import os

        writer = self._writer_cls(log_dir=os.path.join(self.log_dir, name or kind))
        writer.add_text("config", "\n".join(f"    {k}: {v}" for k, v in flatten_config(config).items()), 0)
        return writer

    def _scalars(self, handle: Any, step: int, values: Mapping[str, float]) -> None:
        for k, v in values.items():
            handle.add_scalar(k, v, step)

    def _close(self, handle: Any, status: RunStatus) -> None:
        handle.add_text("status", str(status), 0)
        handle.close()


class MLflowSink(ScalarSink):
    """One MLflow run per run, in ``experiment`` (created when missing)."""

    prefix = "mlflow"

    def __init__(self, tracking_uri: str | None = None, experiment: str = "codeeval-rl") -> None:
        super().__init__()
        mlflow = require("mlflow", "trackers")
        self._entities = require("mlflow.entities", "trackers")
        self.client = mlflow.tracking.MlflowClient(tracking_uri=tracking_uri)
        exp = self.client.get_experiment_by_name(experiment)
        self.experiment_id = exp.experiment_id if exp is not None else self.client.create_experiment(experiment)

    def _open(self, kind: str, name: str, config: Mapping[str, Any]) -> Any:
        run = self.client.create_run(self.experiment_id, run_name=name, tags={"codeeval.kind": kind})
        run_id = run.info.run_id
        params = [self._entities.Param(k, v) for k, v in list(flatten_config(config).items())[:100]]
        if params:
            self.client.log_batch(run_id, params=params)
        return run_id

    def _scalars(self, handle: Any, step: int, values: Mapping[str, float]) -> None:
        now = int(time.time() * 1000)
        self.client.log_batch(handle, metrics=[self._entities.Metric(k.replace("/", "."), v, now, step)
                                               for k, v in values.items()])

    def _close(self, handle: Any, status: RunStatus) -> None:
        self.client.set_terminated(handle, "FINISHED" if status == RunStatus.FINISHED else "FAILED")


class WandbSink(ScalarSink):
    """One Weights & Biases run per run. ``mode="offline"`` writes locally only."""

    prefix = "wandb"

    def __init__(self, project: str = "codeeval-rl", entity: str | None = None, mode: str | None = None) -> None:
        super().__init__()
        self._wandb = require("wandb", "trackers")
        self.project, self.entity, self.mode = project, entity, mode

    def _open(self, kind: str, name: str, config: Mapping[str, Any]) -> Any:
        return self._wandb.init(project=self.project, entity=self.entity, name=name, job_type=kind,
                                config=dict(config), mode=self.mode, reinit=True)

    def _scalars(self, handle: Any, step: int, values: Mapping[str, float]) -> None:
        handle.log(dict(values), step=step)

    def _close(self, handle: Any, status: RunStatus) -> None:
        handle.finish(exit_code=0 if status == RunStatus.FINISHED else 1)


class MultiTracker:
    """Fan out to ``primary`` and ``others``. Run ids are the primary's; the others' ids
    are mapped internally. See the module docstring for what happens on errors."""

    def __init__(self, primary: Tracker, *others: Tracker) -> None:
        self.primary = primary
        self.others = others
        self._ids: dict[str, dict[int, str]] = {}

    def start_run(self, kind: str, name: str, config: Mapping[str, Any]) -> str:
        run_id = self.primary.start_run(kind, name, config)
        ids: dict[int, str] = {}
        for i, t in enumerate(self.others):
            try:
                ids[i] = t.start_run(kind, name, config)
            except Exception as exc:  # noqa: BLE001 - a secondary sink must not stop the run
                self._warn(t, exc)
        self._ids[run_id] = ids
        return run_id

    def _each(self, run_id: str, call: str, *args: Any) -> None:
        getattr(self.primary, call)(run_id, *args)
        ids = self._ids.get(run_id, {})
        for i in list(ids):
            t = self.others[i]
            try:
                getattr(t, call)(ids[i], *args)
            except Exception as exc:  # noqa: BLE001 - see the module docstring
                self._warn(t, exc)
                del ids[i]

    def log_rollouts(self, run_id: str, records: Sequence[RolloutRecord]) -> None:
        self._each(run_id, "log_rollouts", records)

    def log_metrics(self, run_id: str, step: int, values: Mapping[str, float]) -> None:
        self._each(run_id, "log_metrics", step, values)

    def finish_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> None:
        self._each(run_id, "finish_run", status)
        self._ids.pop(run_id, None)

    @staticmethod
    def _warn(tracker: Tracker, exc: Exception) -> None:
        warnings.warn(f"tracker {type(tracker).__name__} failed and is dropped for this run: "
                      f"{type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=3)
