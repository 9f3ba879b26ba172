"""The one-object facade over the four layers (docs/architecture.md)::

    framework = CodeEvalRL(model_adapter=LLMAdapter("path/or/hub-id"),
                           evaluation_config="configs/eval_config.yaml",
                           sandbox_config="configs/sandbox_config.yaml")
    framework.train(dataset_path="datasets/python_challenges", epochs=10, batch_size=32, learning_rate=1e-5)
    results = framework.evaluate(test_dataset="datasets/test_challenges")
    print(results.summary())
    code = framework.generate_code(prompt="Write a function to find the nth Fibonacci number", language="python")

It wires the layers together and adds nothing of its own: training is
:func:`codeeval_rl.rl.grpo.train_grpo` (or the algorithm named in ``train_settings``), rewards
come from :class:`codeeval_rl.evaluation.Evaluator` over one shared
:class:`codeeval_rl.sandbox.Sandbox`, runs go to the tracker (the run store by default).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codeeval_rl.config import EvaluationSettings, SandboxSettings, TrainSettings, load_evaluation_settings
from codeeval_rl.errors import InputError
from codeeval_rl.monitoring.tracker import RolloutRecord, Tracker
from codeeval_rl.types import Task

__all__ = ["CodeEvalRL", "EvaluationReport"]


@dataclass(frozen=True)
class EvaluationReport:
    """Per-sample results of :meth:`CodeEvalRL.evaluate` with pass@k over them."""

    dataset: str
    records: tuple[dict[str, Any], ...]
    pass_at_k: Mapping[int, float] = field(default_factory=dict)

    @property
    def num_tasks(self) -> int:
        return len({r["task_id"] for r in self.records})

    @property
    def mean_reward(self) -> float:
        return sum(r["reward"] for r in self.records) / len(self.records) if self.records else 0.0

    def summary(self) -> str:
        """A few lines: tasks, samples, pass@k, mean reward and the commonest outcomes."""
        outcomes: dict[str, int] = {}
        for r in self.records:
            outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
        lines = [f"dataset: {self.dataset}", f"tasks: {self.num_tasks}, samples: {len(self.records)}"]
        lines += [f"pass@{k}: {v:.3f}" for k, v in sorted(self.pass_at_k.items())]
        lines.append(f"mean reward: {self.mean_reward:.3f}")
        top = sorted(outcomes.items(), key=lambda kv: -kv[1])[:5]
        lines.append("outcomes: " + ", ".join(f"{k} {v}" for k, v in top))
        return "\n".join(lines)


class CodeEvalRL:
    """Train, evaluate and sample a code model with execution feedback.

    ``model_adapter``: an :class:`~codeeval_rl.rl.policy.LLMAdapter`. ``evaluation_config`` /
    ``sandbox_config``: YAML paths or settings objects (``None``: defaults). ``train_settings``:
    a :class:`TrainSettings` (or mapping) whose fields the ``train`` arguments override.
    ``tracker``: where runs go (default: the run store at ``output_dir/codeeval.db``).
    """

    def __init__(self, model_adapter: Any, evaluation_config: str | os.PathLike[str] | EvaluationSettings | None = None,
                 sandbox_config: str | os.PathLike[str] | SandboxSettings | None = None, *,
                 train_settings: TrainSettings | Mapping[str, Any] | None = None, tracker: Tracker | None = None,
                 sandbox: Any = None) -> None:
        self.policy = model_adapter
        self.evaluation_settings = (evaluation_config if isinstance(evaluation_config, EvaluationSettings)
                                    else load_evaluation_settings(evaluation_config))
        self.sandbox_config = sandbox_config
        if isinstance(train_settings, Mapping):
            train_settings = TrainSettings(**train_settings)
        self.train_settings = train_settings or TrainSettings()
        self.tracker = tracker
        self._sandbox = sandbox
        self._owns_sandbox = sandbox is None

    # --- shared resources ------------------------------------------------------------------
    @property
    def sandbox(self) -> Any:
        if self._sandbox is None:
            from codeeval_rl.sandbox import Sandbox

            self._sandbox = Sandbox(self.sandbox_config)
        return self._sandbox

    def close(self) -> None:
        if self._owns_sandbox and self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __enter__(self) -> CodeEvalRL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _evaluator(self) -> Any:
        from codeeval_rl.evaluation import Evaluator

        return Evaluator(self.evaluation_settings, self.sandbox)

    def _tracker(self, output_dir: str) -> Tracker:
        if self.tracker is None:
            from codeeval_rl.monitoring import RunStore

            os.makedirs(output_dir, exist_ok=True)
            from codeeval_rl.monitoring.store import STORE_FILENAME

            self.tracker = RunStore(self.train_settings.store or os.path.join(output_dir, STORE_FILENAME))
        return self.tracker

    @staticmethod
    def _tasks(dataset: str | os.PathLike[str] | Sequence[Task]) -> list[Task]:
        if isinstance(dataset, (str, os.PathLike)):
            from codeeval_rl.data import load_dataset

            return load_dataset(dataset)
        tasks = list(dataset)
        if not all(isinstance(t, Task) for t in tasks):
            raise InputError("dataset must be a name, a path, or a sequence of Task")
        return tasks

    # --- the three verbs -------------------------------------------------------------------
    def train(self, dataset_path: str | os.PathLike[str] | Sequence[Task], epochs: float = 1, batch_size: int | None = None,
              learning_rate: float | None = None, **overrides: Any) -> Any:
        """Train on ``dataset_path`` with the configured algorithm; returns its
        :class:`~codeeval_rl.rl.loop.TrainResult`. ``overrides`` set other :class:`TrainSettings` fields."""
        from codeeval_rl.rl.generation import get_trainer
        from codeeval_rl.rl.scoring import EvaluatorScorer

        fields: dict[str, Any] = {"epochs": epochs, **overrides}
        if batch_size is not None:
            fields["batch_size"] = batch_size
        if learning_rate is not None:
            fields["learning_rate"] = learning_rate
        if isinstance(dataset_path, (str, os.PathLike)):
            fields["dataset"] = str(dataset_path)
        settings = self.train_settings.model_copy(update=fields)
        settings = TrainSettings(**settings.model_dump())  # validate the merged values
        tasks = self._tasks(dataset_path)
        scorer = EvaluatorScorer(self._evaluator(), tests=settings.reward_tests)
        trainer = get_trainer(settings.algorithm)
        return trainer(settings, self.policy, tasks, scorer, self._tracker(settings.output_dir))

    def evaluate(self, test_dataset: str | os.PathLike[str] | Sequence[Task], n: int = 1, temperature: float = 0.0,
                 max_new_tokens: int = 512, ks: Sequence[int] = (1,)) -> EvaluationReport:
        """Sample ``n`` completions per task (greedy by default), evaluate them on the hidden
        tests, and return per-sample records with pass@k; the run is logged to the tracker."""
        from codeeval_rl.evaluation import pass_at_k
        from codeeval_rl.rl.generation import generate_samples

        tasks = self._tasks(test_dataset)
        samples = generate_samples(self.policy, tasks, n=n, temperature=temperature, max_new_tokens=max_new_tokens)
        evaluator = self._evaluator()
        by_id = {t.id: t for t in tasks}
        items = [(by_id[s["task_id"]], evaluator.completion_to_code(by_id[s["task_id"]], s["completion"]))
                 for s in samples]
        results = evaluator.evaluate_many(items, tests="hidden")
        records = tuple({**s, "passed": r.passed, "outcome": r.outcome, "reward": r.reward.total,
                         "components": dict(r.reward.components), "feedback": r.feedback}
                        for s, r in zip(samples, results))
        per_task: dict[str, list[bool]] = {}
        for rec in records:
            per_task.setdefault(rec["task_id"], []).append(rec["passed"])
        scores = {k: sum(pass_at_k(len(v), sum(v), k) for v in per_task.values()) / max(1, len(per_task))
                  for k in ks if k <= n}
        tracker = self._tracker(self.train_settings.output_dir)
        run_id = tracker.start_run("eval", f"eval-{getattr(self.policy, 'name', 'model')}", {"dataset": str(test_dataset), "n": n})
        tracker.log_rollouts(run_id, [RolloutRecord(
            task_id=rec["task_id"], completion=rec["completion"], reward=rec["reward"], status=rec["outcome"],
            passed=rec["passed"], sample_index=rec["sample_index"], language=by_id[rec["task_id"]].language,
            category=by_id[rec["task_id"]].category, tier=by_id[rec["task_id"]].tier,
            components=rec["components"], first_error=(rec["feedback"] or "").strip().split("\n")[0][:200])
            for rec in records])
        tracker.log_metrics(run_id, 0, {f"pass@{k}": v for k, v in scores.items()})
        tracker.finish_run(run_id)
        return EvaluationReport(str(test_dataset) if isinstance(test_dataset, (str, os.PathLike)) else "tasks",
                                records, scores)

    def generate_code(self, prompt: str, language: str = "python", temperature: float = 0.0,
                      max_new_tokens: int = 512) -> str:
        """Code for ``prompt`` in ``language``: the model's answer with the code extracted."""
        from codeeval_rl.evaluation import extract_code

        if not prompt.strip():
            raise InputError("prompt is empty")
        sample = self.policy.generate([prompt], n=1, temperature=temperature, max_new_tokens=max_new_tokens)[0][0]
        return extract_code(sample.text, language)
