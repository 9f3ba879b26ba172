"""What ``rm train`` and ``dpo train`` share around TRL's trainers: the arguments both set
alike, and the run (quiet logging, resuming, a failed or non-finite loss as a
:class:`TrainingError`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from codeeval_rl.errors import TrainingError


def common_args(settings: Any, out: Path, *, progress: bool, cpu: bool) -> dict[str, Any]:
    """TRL config arguments from ``settings`` (``epochs``, ``batch_size``, ``learning_rate``,
    ``max_length``, ``seed``, ``bf16``, ``save_steps``): linear decay, explicit precision, no
    activation checkpointing, checkpoints in ``out/checkpoints``."""
    return {
        "output_dir": str(out / "checkpoints"), "num_train_epochs": settings.epochs,
        "per_device_train_batch_size": settings.batch_size, "learning_rate": settings.learning_rate,
        "lr_scheduler_type": "linear", "bf16": settings.bf16, "fp16": False, "activation_checkpointing": False,
        "max_length": settings.max_length, "seed": settings.seed, "data_seed": settings.seed, "save_strategy": "steps",
        "save_steps": settings.save_steps, "save_total_limit": 2, "logging_steps": max(1, min(10, settings.save_steps)),
        "report_to": [], "disable_tqdm": not progress, "dataloader_num_workers": 0, "use_cpu": cpu}


def train(trainer: Any, out: Path, *, resume: bool, progress: bool, what: str) -> float | None:
    """Run ``trainer`` (from the newest checkpoint in ``out/checkpoints`` with ``resume``) and
    return its training loss; ``what`` names the training in errors."""
    if not progress:  # quiet: no per-step log lines either
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    checkpoint = True if resume and any((out / "checkpoints").glob("checkpoint-*")) else None
    try:
        result = trainer.train(resume_from_checkpoint=checkpoint)
    except ValueError as exc:
        raise TrainingError(f"{what} training failed: {exc}") from None
    loss = float(result.training_loss) if result.training_loss is not None else None
    if loss is not None and not math.isfinite(loss):
        raise TrainingError(f"{what} training loss is {loss}; lower the learning rate")
    return loss
