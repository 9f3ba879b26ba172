"""AceCoder reward models: the (question, program) input, training on pairs, loading and scoring.

**Input.** :func:`rm_text` is the one definition of what the reward model reads, used alike
when it trains and when it scores: with a chat template, the base model's template over a
user turn (the task's prompt) and an assistant turn (the program as the model wrote it);
without one, the prompt, the program and the end-of-sequence token. The text is tokenised
without adding special tokens (the template holds its own); longer inputs keep their last
``max_length`` tokens when scored (training drops pairs longer than that, as TRL does).

**Model.** Any Hugging Face model that loads with ``AutoModelForSequenceClassification`` and
``num_labels=1``: a causal LM's body with a scalar head (for Llama-style models
``LlamaForSequenceClassification``) reading the hidden state of the last non-pad token.
``RM_DIR`` holds the model, its tokenizer and ``reward_model.json`` (the figures and
settings of the run), so other tools load it as a plain sequence-classification model.

**Training** uses TRL's ``RewardTrainer`` (Bradley-Terry loss ``-log sigmoid(r_chosen -
r_rejected)``, :func:`~codeeval_rl.preference.loss.bradley_terry_loss`) on already tokenised
``chosen_ids`` / ``rejected_ids`` columns, which TRL accepts as they are, so the input is ours
and the same at scoring time. Precision is explicit: fp32 unless ``bf16`` is asked for (TRL
defaults to bf16 and activation (gradient) checkpointing; both are set off here). Pairs are split by task:
``eval_fraction`` of the tasks (seeded) are held out, and the held-out pair accuracy and loss
come from scoring those pairs with the saved model, through :class:`RewardModel`: the same
path best-of-N and the training reward use. Checkpoints every ``save_steps`` let an
interrupted run resume (``resume=True``).
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codeeval_rl.config import check_ranges
from codeeval_rl.errors import ConfigError, InputError, require
from codeeval_rl.preference._trl import common_args, train
from codeeval_rl.preference.loss import bradley_terry_loss, pair_accuracy

__all__ = ["INFO_FILE", "RewardModel", "RewardTrainResult", "RewardTrainSettings", "load_sequence_classifier",
           "rm_input_ids", "rm_text", "split_by_task", "train_reward_model"]

INFO_FILE = "reward_model.json"
"""The run's figures and settings, written into RM_DIR beside the model."""


def rm_text(tokenizer: Any, prompt: str, completion: str) -> str:
    """The text the reward model reads for ``(prompt, completion)`` (see the module docstring)."""
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
        return str(tokenizer.apply_chat_template(messages, tokenize=False))
    return prompt + completion + (tokenizer.eos_token or "")


def rm_input_ids(tokenizer: Any, prompt: str, completion: str) -> list[int]:
    """Token ids of :func:`rm_text` (no special tokens added)."""
    return list(tokenizer(rm_text(tokenizer, prompt, completion), add_special_tokens=False)["input_ids"])


def _device(device: str | None) -> Any:
    torch = require("torch", "train")
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def load_sequence_classifier(path: str | os.PathLike[str], *, dtype: str | None = None,
                             num_labels: int | None = None) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from ``path`` with ``AutoModelForSequenceClassification``; a path
    that does not exist or does not hold a model is an :class:`InputError` naming it. The
    tokenizer gets a pad token (its end-of-sequence token when it has none) and the model's
    config learns its id, which the head needs to find the last non-pad token."""
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    name = str(path)
    looks_local = name.startswith((".", "/", "~")) or os.path.sep in name.rstrip("/").split("/", 1)[-1]
    if looks_local and not Path(name).expanduser().exists():
        raise InputError(f"model path does not exist: {name}")
    torch_dtype = getattr(torch, dtype) if dtype else torch.float32
    if not isinstance(torch_dtype, torch.dtype):
        raise ConfigError(f"dtype ({dtype!r}) is not a torch dtype name such as 'float32' or 'bfloat16'")
    kwargs: dict[str, Any] = {"dtype": torch_dtype}
    if num_labels is not None:
        kwargs["num_labels"] = num_labels
    verbosity = transformers.logging.get_verbosity()
    if num_labels is not None:  # a base model has no head yet: its load report says so, expectedly
        transformers.logging.set_verbosity_error()
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(name)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(name, **kwargs)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot load model {name!r}: {first}") from None
    finally:
        transformers.logging.set_verbosity(verbosity)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


class RewardModel:
    """A trained reward model: ``score(prompts, completions)`` gives one float per input.

    ``path``: RM_DIR (or any single-output sequence-classification model). ``device``: default
    CUDA when available. Scoring runs in batches of ``batch_size`` under ``torch.no_grad``,
    right-padded; an input longer than ``max_length`` tokens keeps its last ``max_length``.
    Thread-safe for concurrent :meth:`score` calls (no state changes)."""

    def __init__(self, path: str | os.PathLike[str], *, device: str | None = None, dtype: str | None = None,
                 batch_size: int = 16, max_length: int = 1024) -> None:
        if batch_size < 1 or max_length < 2:
            raise ConfigError(f"batch_size ({batch_size}) must be >= 1 and max_length ({max_length}) >= 2")
        model, tokenizer = load_sequence_classifier(path, dtype=dtype)
        if getattr(model.config, "num_labels", 1) != 1:
            raise InputError(f"{path}: a reward model has one output, this model has {model.config.num_labels}")
        self.path = str(path)
        self.device = _device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length

    @classmethod
    def from_objects(cls, model: Any, tokenizer: Any, *, batch_size: int = 16, max_length: int = 1024) -> RewardModel:
        """Wrap a model and tokenizer already in memory (tests, notebooks)."""
        self = cls.__new__(cls)
        self.path = type(model).__name__
        self.device = next(model.parameters()).device
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length
        return self

    def score(self, prompts: Sequence[str], completions: Sequence[str]) -> list[float]:
        """One score per ``(prompt, completion)``, in input order."""
        import torch

        if len(prompts) != len(completions):
            raise InputError(f"{len(prompts)} prompts but {len(completions)} completions")
        pad = self.tokenizer.pad_token_id
        out: list[float] = []
        for start in range(0, len(prompts), self.batch_size):
            rows = [rm_input_ids(self.tokenizer, p, c)[-self.max_length:]
                    for p, c in zip(prompts[start:start + self.batch_size], completions[start:start + self.batch_size])]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, r in enumerate(rows):
                ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
                mask[i, :len(r)] = 1
            with torch.no_grad():
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
            out.extend(float(v) for v in logits[:, 0].float().cpu())
        return out


@dataclass(frozen=True)
class RewardTrainSettings:
    """``codeeval-rl rm train``'s settings."""

    epochs: float = 1.0
    batch_size: int = 16
    """Pairs per optimiser step (each pair is two sequences)."""
    learning_rate: float = 1e-5
    """AdamW learning rate (linear decay). A model of a few million parameters wants about 1e-4 to 1e-3."""
    max_length: int = 1024
    """Pairs with a longer chosen or rejected input are left out of training."""
    eval_fraction: float = 0.1
    """Share of the tasks whose pairs are held out for the accuracy figure (0: none)."""
    seed: int = 0
    bf16: bool = False
    """Train in bfloat16 autocast (accelerators only); fp32 otherwise."""
    center_rewards_coefficient: float | None = None
    """TRL's optional term pulling rewards towards mean zero (the paper's 0.01, when set)."""
    save_steps: int = 200
    """Steps between checkpoints (for ``resume``)."""

    def __post_init__(self) -> None:
        checks = {"epochs": self.epochs > 0, "batch_size": self.batch_size >= 1, "learning_rate": self.learning_rate > 0,
                  "max_length": self.max_length >= 2, "eval_fraction": 0 <= self.eval_fraction < 1,
                  "save_steps": self.save_steps >= 1}
        check_ranges("rm train", self, checks)


@dataclass(frozen=True)
class RewardTrainResult:
    """What ``rm train`` produced; also written to ``RM_DIR/reward_model.json``."""

    output: str
    base: str
    train_pairs: int
    heldout_pairs: int
    skipped_long: int
    heldout_accuracy: float | None
    heldout_loss: float | None
    train_loss: float | None
    settings: dict[str, Any]


def split_by_task(rows: Sequence[Mapping[str, Any]], fraction: float, seed: int) -> tuple[list[Any], list[Any]]:
    """``(train, held out)``: the rows of a seeded ``fraction`` of the task ids (at least one task
    when ``fraction`` > 0 and there are two or more) are held out. Pure."""
    ids = sorted({str(r["task_id"]) for r in rows})
    random.Random(seed).shuffle(ids)
    k = 0 if fraction <= 0 or len(ids) < 2 else max(1, math.floor(fraction * len(ids)))
    held = set(ids[:k])
    return [r for r in rows if r["task_id"] not in held], [r for r in rows if r["task_id"] in held]


def train_reward_model(rows: Sequence[Mapping[str, Any]], base: str | os.PathLike[str], output: str | os.PathLike[str],
                       settings: RewardTrainSettings = RewardTrainSettings(), *, resume: bool = False,
                       progress: bool = True, log: Callable[[str], None] | None = None) -> RewardTrainResult:
    """Train a reward model from ``base`` on pair ``rows`` (``task_id``, ``prompt``, ``chosen``,
    ``rejected``) and save it to ``output``; see the module docstring."""
    torch = require("torch", "train")
    require("trl", "train")
    datasets = require("datasets", "train")
    from trl import RewardConfig, RewardTrainer

    out = Path(output)
    train_rows, held_rows = split_by_task(rows, settings.eval_fraction, settings.seed)
    torch.manual_seed(settings.seed)  # the new head's initial weights
    model, tokenizer = load_sequence_classifier(base, num_labels=1)

    def encode(rs: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, list[int]]], int]:
        kept, long = [], 0
        for r in rs:
            c = rm_input_ids(tokenizer, r["prompt"], r["chosen"])
            j = rm_input_ids(tokenizer, r["prompt"], r["rejected"])
            if max(len(c), len(j)) > settings.max_length:
                long += 1
                continue
            kept.append({"chosen_ids": c, "rejected_ids": j})
        return kept, long

    train_enc, skipped = encode(train_rows)
    if not train_enc:
        raise InputError(f"no training pairs left ({len(rows)} pairs, {len(held_rows)} held out, {skipped} longer than "
                         f"max_length {settings.max_length})")
    cpu = not torch.cuda.is_available()
    if settings.bf16 and cpu:
        raise ConfigError("rm train bf16 = True: bfloat16 training needs an accelerator; train in fp32 on the CPU")
    config = RewardConfig(**common_args(settings, out, progress=progress, cpu=cpu),
                          center_rewards_coefficient=settings.center_rewards_coefficient)
    trainer = RewardTrainer(model=model, args=config, train_dataset=datasets.Dataset.from_list(train_enc),
                            processing_class=tokenizer)
    train_loss = train(trainer, out, resume=resume, progress=progress, what="reward model")
    out.mkdir(parents=True, exist_ok=True)
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    accuracy = loss = None
    if held_rows:
        rm = RewardModel(out, device="cuda" if not cpu else "cpu", max_length=settings.max_length)
        chosen = rm.score([r["prompt"] for r in held_rows], [r["chosen"] for r in held_rows])
        rejected = rm.score([r["prompt"] for r in held_rows], [r["rejected"] for r in held_rows])
        accuracy, loss = pair_accuracy(chosen, rejected), bradley_terry_loss(chosen, rejected)
    res = RewardTrainResult(output=str(out), base=str(base), train_pairs=len(train_enc), heldout_pairs=len(held_rows),
                            skipped_long=skipped, heldout_accuracy=accuracy, heldout_loss=loss, train_loss=train_loss,
                            settings=asdict(settings))
    (out / INFO_FILE).write_text(json.dumps(asdict(res), indent=2) + "\n", encoding="utf-8")
    if log is not None:
        acc = "n/a" if accuracy is None else f"{accuracy:.3f}"
        log(f"reward model saved to {out}: {len(train_enc)} training pairs, held-out pair accuracy {acc} "
            f"on {len(held_rows)} pairs")
    return res
