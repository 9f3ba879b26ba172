"""``dpo train``: DPO (or RPO) on preference pairs with TRL's ``DPOTrainer``.

The pairs are tokenised as the policy samples (:class:`~codeeval_rl.rl.policy.LLMAdapter`):
the prompt formatted by :meth:`~codeeval_rl.rl.policy.LLMAdapter.format_prompt` (the chat
template with its generation prompt, when the tokenizer has one) and encoded on its own, then
the completion encoded on its own, then the end-of-sequence token the policy stops on (a
completion the sampler cut at ``max_new_tokens`` is trained as if it had ended). TRL's
``DPOTrainer`` tokenises text itself, ``prompt + completion`` in one piece, and a byte-level
BPE merges tokens across that boundary (``"\n"`` + ``"    return"`` becomes ``"\n   "`` +
``" return"``), so the trained sequences would differ from the sampled ones; the trainer here
(:func:`_trainer_class`) is TRL's with one change: a dataset that already holds
``prompt_ids`` / ``chosen_ids`` / ``rejected_ids`` is used as it is. Pairs longer than
``max_length`` tokens (prompt and the longer completion) are left out and counted.

The loss is DPO's sigmoid loss ``-log sigmoid(beta * (log-ratio chosen - log-ratio rejected))``
against a frozen copy of the starting model. CodeDPO trains with a weighted sum of it and an
SFT term on the chosen program; ``rpo_alpha`` offers that (RPO: TRL's ``loss_type=["sigmoid",
"sft"]`` with weights ``[1, rpo_alpha]``, the SFT term being the mean negative log-likelihood
per chosen token). Precision is explicit (fp32 unless ``bf16``); TRL's bf16 and activation
checkpointing defaults are set off. ``kinds`` picks the pair kinds trained on. The output
directory holds the model, its tokenizer and ``dpo.json`` (settings, pair counts, loss);
checkpoints every ``save_steps`` let an interrupted run resume.
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codeeval_rl.config import check_ranges
from codeeval_rl.errors import ConfigError, InputError, require
from codeeval_rl.preference._trl import common_args, train

__all__ = ["DPO_INFO_FILE", "DpoTrainResult", "DpoTrainSettings", "tokenize_pairs", "train_dpo"]

DPO_INFO_FILE = "dpo.json"


@dataclass(frozen=True)
class DpoTrainSettings:
    """``codeeval-rl dpo train``'s settings."""

    epochs: float = 1.0
    batch_size: int = 8
    learning_rate: float = 5e-7
    """AdamW learning rate (linear decay); a model of a few million parameters wants about 1e-4."""
    beta: float = 0.1
    rpo_alpha: float | None = None
    """Weight of the SFT term on the chosen program (RPO, as CodeDPO trains); None: plain DPO."""
    max_length: int = 1024
    seed: int = 0
    bf16: bool = False
    save_steps: int = 200
    kinds: tuple[str, ...] = ()
    """Pair kinds to train on (``correctness``, ``efficiency``); empty: every pair."""

    def __post_init__(self) -> None:
        checks = {"epochs": self.epochs > 0, "batch_size": self.batch_size >= 1, "learning_rate": self.learning_rate > 0,
                  "beta": self.beta > 0, "rpo_alpha": self.rpo_alpha is None or self.rpo_alpha >= 0,
                  "max_length": self.max_length >= 2, "save_steps": self.save_steps >= 1}
        check_ranges("dpo train", self, checks)


@dataclass(frozen=True)
class DpoTrainResult:
    output: str
    model: str
    pairs: int
    skipped_long: int
    kinds: dict[str, int]
    train_loss: float | None
    settings: dict[str, Any]


def tokenize_pairs(policy: Any, rows: Sequence[Mapping[str, Any]], max_length: int) -> tuple[list[dict[str, Any]], int]:
    """``(token-id rows, pairs left out for length)``: each row's ``prompt_ids``, ``chosen_ids``
    and ``rejected_ids`` as the policy samples them (see the module docstring)."""
    eos = policy.tokenizer.eos_token_id
    out, long = [], 0
    for r in rows:
        prompt = policy.encode(policy.format_prompt(r["prompt"]))
        chosen = policy.encode(r["chosen"]) + [eos]
        rejected = policy.encode(r["rejected"]) + [eos]
        if len(prompt) + max(len(chosen), len(rejected)) > max_length:
            long += 1
            continue
        out.append({"prompt_ids": prompt, "chosen_ids": chosen, "rejected_ids": rejected})
    return out, long


def _trainer_class() -> Any:
    from trl import DPOTrainer

    class TokenizedDPOTrainer(DPOTrainer):  # type: ignore[misc]
        """TRL's DPOTrainer, fed token ids as the policy samples them."""

        def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, dataset_name: str) -> Any:
            if "prompt_ids" in dataset.column_names:
                return dataset
            return super()._prepare_dataset(dataset, processing_class, args, dataset_name)

    return TokenizedDPOTrainer


def train_dpo(rows: Sequence[Mapping[str, Any]], model: str | os.PathLike[str] | Any, output: str | os.PathLike[str],
              settings: DpoTrainSettings = DpoTrainSettings(), *, resume: bool = False, progress: bool = True,
              log: Callable[[str], None] | None = None) -> DpoTrainResult:
    """Train ``model`` (a path, or an :class:`~codeeval_rl.rl.policy.LLMAdapter`) on pair ``rows``
    and save it to ``output``; see the module docstring."""
    torch = require("torch", "train")
    require("trl", "train")
    datasets = require("datasets", "train")
    from trl import DPOConfig

    from codeeval_rl.rl.policy import LLMAdapter

    chosen_rows = [r for r in rows if not settings.kinds or r.get("kind") in settings.kinds]
    if not chosen_rows:
        raise InputError(f"no pairs of kind {', '.join(settings.kinds)} among {len(rows)} pairs")
    cpu = not torch.cuda.is_available()
    if settings.bf16 and cpu:
        raise ConfigError("dpo train bf16 = True: bfloat16 training needs an accelerator; train in fp32 on the CPU")
    torch.manual_seed(settings.seed)
    policy = model if isinstance(model, LLMAdapter) else LLMAdapter(str(model), device="cpu" if cpu else None,
                                                                   dtype="float32")
    name = policy.name
    encoded, skipped = tokenize_pairs(policy, chosen_rows, settings.max_length)
    if not encoded:
        raise InputError(f"no pairs left: all {len(chosen_rows)} are longer than max_length {settings.max_length}")
    reference = copy.deepcopy(policy.model).eval()
    loss_type, weights = (["sigmoid"], None) if settings.rpo_alpha is None else (["sigmoid", "sft"],
                                                                               [1.0, settings.rpo_alpha])
    out = Path(output)
    config = DPOConfig(**common_args(settings, out, progress=progress, cpu=cpu), beta=settings.beta,
                       loss_type=loss_type, loss_weights=weights)
    trainer = _trainer_class()(model=policy.model, ref_model=reference, args=config,
                               train_dataset=datasets.Dataset.from_list(encoded), processing_class=policy.tokenizer)
    loss = train(trainer, out, resume=resume, progress=progress, what="DPO")
    policy.model = trainer.model
    policy.model.eval()
    out.mkdir(parents=True, exist_ok=True)
    trainer.save_model(str(out))
    policy.tokenizer.save_pretrained(str(out))
    kinds = dict(Counter(str(r.get("kind", "")) for r in chosen_rows))
    res = DpoTrainResult(output=str(out), model=name, pairs=len(encoded), skipped_long=skipped, kinds=kinds,
                         train_loss=loss, settings=asdict(settings))
    (out / DPO_INFO_FILE).write_text(json.dumps(asdict(res), indent=2) + "\n", encoding="utf-8")
    if log is not None:
        counts = ", ".join(f"{k or 'unlabelled'} {v}" for k, v in kinds.items())
        log(f"DPO model saved to {out}: {len(encoded)} pairs ({counts}; {skipped} too long), train loss "
            f"{'n/a' if loss is None else round(loss, 4)}")
    return res
