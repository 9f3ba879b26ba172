"""Pieces every trainer loop shares: set-up and resume, sampling a batch of groups, reference
log-probs, logging, checkpointing. The loops themselves (``grpo.py``, ``rloo.py``, ``ppo.py``,
``multiturn.py``) read top to bottom and keep their algorithm inline.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from codeeval_rl.config import TrainSettings
from codeeval_rl.errors import InputError, TrainingError
from codeeval_rl.monitoring.tracker import NullTracker, RolloutRecord, RunStatus, Tracker
from codeeval_rl.rl.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from codeeval_rl.rl.losses import AdaptiveKL, FixedKL, policy_loss, value_loss
from codeeval_rl.rl.policy import LLMAdapter, Sample
from codeeval_rl.rl.rollout import TokenBatch, collate, token_logprobs
from codeeval_rl.rl.scoring import AsyncRewards, Score, Scorer
from codeeval_rl.types import Task

__all__ = ["Batch", "Critic", "DataCursor", "ScoredBatches", "StepCallback", "TrainResult", "Trainer", "seed_everything"]

StepCallback = Callable[[int, Mapping[str, float]], None]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


class DataCursor:
    """Deterministic task order: epoch ``e`` is a permutation seeded by ``seed + e``. The whole
    state is ``position`` (tasks handed out so far), so a resume continues exactly."""

    def __init__(self, n: int, seed: int, position: int = 0) -> None:
        if n <= 0:
            raise InputError("the training set has no tasks")
        self.n, self.seed, self.position = n, seed, position
        self._epoch, self._order = -1, np.arange(0)

    def take(self, k: int) -> list[int]:
        out = []
        for _ in range(k):
            epoch, i = divmod(self.position, self.n)
            if epoch != self._epoch:
                self._epoch = epoch
                self._order = np.random.default_rng(self.seed + epoch).permutation(self.n)
            out.append(int(self._order[i]))
            self.position += 1
        return out

    @property
    def epoch(self) -> float:
        return self.position / self.n


@dataclass
class Batch:
    """One step's tasks, ``samples[g][i]`` (group ``g``, sample ``i``), and their scores."""

    tasks: list[Task]
    samples: list[list[Sample]]
    scores: list[list[Score]] = field(default_factory=list)
    generate_s: float = 0.0
    masks: list[list[list[int] | None]] | None = None
    turns: list[list[int]] | None = None

    def pairs(self) -> list[tuple[Task, str]]:
        return [(t, s.text) for t, row in zip(self.tasks, self.samples) for s in row]

    def flat(self) -> list[Sample]:
        return [s for row in self.samples for s in row]

    def set_scores(self, flat: Sequence[Score]) -> None:
        n = len(self.samples[0]) if self.samples else 0
        self.scores = [list(flat[g * n:(g + 1) * n]) for g in range(len(self.samples))]

    def rewards(self) -> torch.Tensor:
        return torch.tensor([[s.reward for s in row] for row in self.scores], dtype=torch.float)

    def tokens(self, pad_id: int) -> TokenBatch:
        flat = self.flat()
        masks = [m for row in self.masks for m in row] if self.masks else None
        return collate([s.prompt_ids for s in flat], [s.completion_ids for s in flat],
                       [s.logprobs for s in flat], pad_id, masks)

    def to_state(self) -> dict[str, Any]:
        return {"task_ids": [t.id for t in self.tasks], "samples": self.samples, "masks": self.masks,
                "turns": self.turns, "scores": self.scores}


@dataclass(frozen=True)
class Critic:
    """PPO's value term for :meth:`Trainer.policy_update`. ``head`` maps the policy's last hidden
    states ``(batch, L, H)`` to per-token values ``(batch, L - 1)`` (:class:`~.ppo.ValueHead`);
    ``old_values`` and ``returns`` are per-token, aligned with the batch's ``loss_mask``."""

    head: torch.nn.Module
    old_values: torch.Tensor
    returns: torch.Tensor


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    steps: int
    history: list[dict[str, float]]
    output_dir: str
    final_path: str | None


class Trainer:
    """Shared state of one training run; the algorithm modules drive it from their loop."""

    def __init__(self, settings: TrainSettings, policy: LLMAdapter, tasks: Sequence[Task],
                 tracker: Tracker | None = None, *, kind: str = "train", extra_modules: Mapping[str, Any] | None = None,
                 extra_params: Sequence[torch.nn.Parameter] = ()) -> None:
        from accelerate import Accelerator

        s = settings
        if not tasks:
            raise InputError("no training tasks")
        if s.algorithm in ("grpo", "rloo") and s.num_generations < 2:
            raise InputError(f"num_generations ({s.num_generations}) must be >= 2 for group baselines")
        self.settings = s
        self.policy = policy
        self.tasks = list(tasks)
        self.by_id = {t.id: t for t in self.tasks}
        seed_everything(s.seed)
        try:
            # The precision is the policy's own dtype: never an autocast inherited from accelerate's
            # process-wide state, which another trainer in this process (TRL's defaults to bf16)
            # may have set.
            self.accelerator = Accelerator(cpu=policy.device.type == "cpu", mixed_precision="no")
        except ValueError as exc:
            raise TrainingError(
                "accelerate's process-wide state was already set up with another precision by a trainer "
                f"earlier in this process ({exc}); ours trains in the model's own dtype: run it in a fresh "
                "process, or give the other trainer mixed precision 'no' (TRL: bf16=False)") from None
        self.output_dir = Path(s.output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.ckpt_dir = self.output_dir / "checkpoints"
        self.extra_modules = dict(extra_modules or {})
        params = [p for p in policy.model.parameters() if p.requires_grad] + list(extra_params)
        if not params:
            raise TrainingError("the model has no trainable parameters")
        self.optimizer = torch.optim.AdamW(params, lr=s.learning_rate, weight_decay=s.weight_decay)
        self.model, self.optimizer = self.accelerator.prepare(policy.model, self.optimizer)
        self.reference = policy.reference_model()
        self.kl_ctl = (AdaptiveKL(s.beta, s.kl_target, s.kl_horizon) if s.kl_control == "adaptive" and s.beta > 0
                       else FixedKL(s.beta))
        per_step = s.batch_size
        self.total_steps = s.steps or max(1, math.ceil(s.epochs * len(self.tasks) / per_step))
        self.cursor = DataCursor(len(self.tasks), s.seed)
        self.step = 0
        self.pending: Batch | None = None
        self.history: list[dict[str, float]] = []
        self.tracker = tracker or NullTracker()
        self.is_main = self.accelerator.is_main_process
        self.run_id = ""
        self.kind = kind

    # --- run lifecycle ---------------------------------------------------------------------
    def start(self, resume: bool) -> None:
        if resume:
            ckpt = latest_checkpoint(self.ckpt_dir)
            if ckpt is not None:
                self._restore(ckpt)
        if self.is_main:
            config = self.settings.model_dump()
            config["resumed_from_step"] = self.step
            self.run_id = self.tracker.start_run(self.kind, f"{self.settings.algorithm}-{self.policy.name}", config)

    def _restore(self, path: Path) -> None:
        model_state, optim_state, state = load_checkpoint(path)
        model = self.accelerator.unwrap_model(self.model)
        model.load_state_dict(model_state, strict=not self.policy.lora)
        self.optimizer.load_state_dict(optim_state)
        for name, module in self.extra_modules.items():
            module.load_state_dict(state["extra"][name])
        self.step = int(state["step"])
        self.cursor.position = int(state["data_position"])
        self.history = list(state.get("history", []))
        self.kl_ctl.value = float(state.get("beta", self.kl_ctl.value))
        pending = state.get("pending")
        if pending:
            missing = [i for i in pending["task_ids"] if i not in self.by_id]
            if missing:
                raise TrainingError(f"checkpoint {path} refers to tasks not in the dataset: {missing[:3]}")
            self.pending = Batch([self.by_id[i] for i in pending["task_ids"]], pending["samples"],
                                 masks=pending.get("masks"), turns=pending.get("turns"))
        set_rng_state(state["rng"])

    def checkpoint(self, force: bool = False) -> Path | None:
        s = self.settings
        due = s.checkpoint_every and self.step % s.checkpoint_every == 0
        if not (due or force) or not self.is_main:
            return None
        model = self.accelerator.unwrap_model(self.model)
        model_state = ({k: v for k, v in model.state_dict().items() if "lora_" in k} if self.policy.lora
                       else model.state_dict())
        state = {"data_position": self.cursor.position, "rng": rng_state(), "history": self.history,
                 "beta": self.kl_ctl.value, "pending": self.pending.to_state() if self.pending else None,
                 "extra": {n: m.state_dict() for n, m in self.extra_modules.items()}}
        return save_checkpoint(self.ckpt_dir, self.step, model_state, self.optimizer.state_dict(), state,
                               keep=s.keep_checkpoints)

    def finish(self, status: RunStatus = RunStatus.FINISHED, save_final: bool = True) -> TrainResult:
        final = None
        if self.is_main:
            if save_final:
                final = str(self.output_dir / "final")
                self.policy.save(final)
            self.tracker.finish_run(self.run_id, status)
        return TrainResult(self.run_id, self.step, self.history, str(self.output_dir), final)

    # --- data and sampling -----------------------------------------------------------------
    def next_tasks(self) -> list[Task]:
        idx = self.cursor.take(self.settings.batch_size)
        acc = self.accelerator
        return [self.tasks[i] for i in idx][acc.process_index::acc.num_processes]

    def sample(self, tasks: list[Task], n: int | None = None) -> Batch:
        s = self.settings
        t0 = time.perf_counter()
        prompts = [self.policy.encode(self.policy.format_prompt(t.prompt)) for t in tasks]
        samples = self.policy.generate_ids(prompts, n=n or s.num_generations, temperature=s.temperature,
                                           top_p=s.top_p, max_new_tokens=s.max_new_tokens)
        return Batch(tasks, samples, generate_s=time.perf_counter() - t0)

    # --- model passes ----------------------------------------------------------------------
    def reference_logprobs(self, tokens: TokenBatch) -> torch.Tensor:
        """Per-token log-probs under the frozen reference (the base model with LoRA disabled)."""
        s = self.settings
        with torch.no_grad():
            if self.reference is not None:
                return token_logprobs(self.reference, self.to_device(tokens), s.temperature)
            model = self.accelerator.unwrap_model(self.model)
            ctx = model.disable_adapter() if hasattr(model, "disable_adapter") else nullcontext()
            with ctx:
                return token_logprobs(model, self.to_device(tokens), s.temperature)

    @property
    def pipelined_rewards(self) -> bool:
        """Whether the sandbox scores a batch while the next one generates (``async_rewards``;
        ``auto``: when the policy is not on the CPU)."""
        setting = self.settings.async_rewards
        return self.accelerator.device.type != "cpu" if setting == "auto" else bool(setting)

    def kl_reference(self, tokens: TokenBatch) -> torch.Tensor | None:
        """The reference log-probs a loss-side KL term needs this step (GRPO, multi-turn): every
        step while the term counts (``beta`` > 0 or adaptive control); with ``beta`` 0 only every
        ``kl_log_every`` steps, to log the KL; else None, and the step skips the reference's
        forward pass."""
        s = self.settings
        if self.kl_ctl.value > 0 or s.kl_control == "adaptive":
            return self.reference_logprobs(tokens)
        if s.kl_log_every and self.step % s.kl_log_every == 0:
            return self.reference_logprobs(tokens)
        return None

    def to_device(self, tokens: TokenBatch) -> TokenBatch:
        d = self.accelerator.device
        return TokenBatch(*(t.to(d) for t in (tokens.input_ids, tokens.attention_mask, tokens.loss_mask,
                                               tokens.old_logprobs, tokens.completion_lengths, tokens.last_index)))

    def micro_batches(self, n_rows: int) -> list[slice]:
        m = self.settings.micro_batch_size or n_rows
        return [slice(i, min(i + m, n_rows)) for i in range(0, n_rows, m)]

    def clip_and_step(self) -> float:
        grad_norm = self.accelerator.clip_grad_norm_(
            [p for g in self.optimizer.param_groups for p in g["params"]], self.settings.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        gn = float(grad_norm)
        if not math.isfinite(gn):
            raise TrainingError(f"gradient norm is {gn} at step {self.step}; lower the learning rate")
        return gn

    def policy_update(self, tokens: TokenBatch, adv: torch.Tensor, ref_lp: torch.Tensor | None, beta: float,
                      critic: Critic | None = None) -> dict[str, float]:
        """The clipped policy-gradient update every algorithm shares (GRPO, RLOO, multi-turn and,
        with a ``critic``, PPO): ``num_iterations`` passes over the batch in micro-batches, each
        weighted by its share of the batch so the accumulated gradient equals the full-batch
        loss's. The policy term's share is the micro-batch's tokens for ``dapo`` (its loss is a
        mean over every active token of the batch) and its rows otherwise (``grpo`` and
        ``dr_grpo`` average over sequences); the critic's value loss, a mean over tokens, is
        always weighted by tokens. ``adv`` is ``(batch,)`` or per token ``(batch, T)``. ``beta``
        0 leaves the KL out of the loss (RLOO and PPO fold it into the reward); it is measured
        whenever ``ref_lp`` is given (None: no KL this step, see :meth:`kl_reference`). Returns the
        batch's loss, KL (only when measured), clip fraction and gradient norm, and with a critic
        its value loss."""
        s = self.settings
        stats = {"loss": 0.0, "kl": 0.0, "clip_fraction": 0.0, "grad_norm": 0.0}
        if ref_lp is None:
            del stats["kl"]
        if critic is not None:
            stats["value_loss"] = 0.0
        rows = tokens.input_ids.shape[0]
        total_tokens = float(tokens.loss_mask.sum().clamp(min=1))
        adv = adv.to(tokens.input_ids.device)
        for _ in range(s.num_iterations):
            for mb in self.micro_batches(rows):
                part = tokens.rows(mb)
                token_share = float(part.loss_mask.sum()) / total_tokens / s.num_iterations
                share = token_share if s.loss_type == "dapo" else (mb.stop - mb.start) / rows / s.num_iterations
                if critic is None:
                    lp = token_logprobs(self.model, part, s.temperature)
                else:
                    lp, hidden = token_logprobs(self.model, part, s.temperature, return_hidden=True)
                out = policy_loss(lp, part.old_logprobs, adv[mb], part.loss_mask, loss_type=s.loss_type,
                                  epsilon=s.epsilon, epsilon_high=s.epsilon_high, ref_logprobs=None if ref_lp is None else ref_lp[mb],
                                  beta=beta, kl_estimator=s.kl_estimator, max_tokens=tokens.loss_mask.shape[1])
                loss = out.loss * share
                if critic is not None:
                    vl = value_loss(critic.head(hidden), critic.old_values[mb], critic.returns[mb], part.loss_mask,
                                    clip=s.value_clip)
                    loss = loss + s.vf_coef * vl * token_share
                    stats["value_loss"] += float(vl.detach()) * token_share
                self.accelerator.backward(loss)
                stats["loss"] += float(out.loss.detach()) * share
                if ref_lp is not None:
                    stats["kl"] += out.kl * share
                stats["clip_fraction"] += out.clip_fraction * share
            stats["grad_norm"] = self.clip_and_step()
        return stats

    @contextmanager
    def session(self, scorer: Scorer, resume: bool, pipelined: bool = True) -> Iterator[AsyncRewards]:
        """Around a training loop: starts (or resumes) the run and yields its reward pool
        (scoring beside generation when ``pipelined`` and ``async_rewards``; with
        ``reward_model`` set, its score mixed into ``scorer``'s rewards). The pool is
        closed on every way out, and a run that raised (or was interrupted) is marked
        ``failed`` in the store."""
        if self.settings.reward_model is not None:  # a learned reward mixed into the execution reward
            from codeeval_rl.preference.reward_mix import mix_reward_model

            scorer = mix_reward_model(scorer, self.settings.reward_model, self.accelerator.device)
        self.start(resume)
        rewards = AsyncRewards(scorer, workers=self.settings.reward_workers,
                               enabled=pipelined and self.pipelined_rewards)
        try:
            yield rewards
        except BaseException:
            if self.is_main and self.run_id:
                self.tracker.finish_run(self.run_id, RunStatus.FAILED)
            raise
        finally:
            rewards.close()

    # --- logging ---------------------------------------------------------------------------
    def log(self, batch: Batch, values: dict[str, float], step_s: float, waited_s: float,
            on_step: StepCallback | None = None) -> dict[str, float]:
        flat_scores = [sc for row in batch.scores for sc in row]
        broken = [sc for sc in flat_scores if sc.status == "sandbox_error"]
        error_rate = len(broken) / len(flat_scores) if flat_scores else 0.0
        if error_rate > self.settings.max_sandbox_error_rate:
            raise TrainingError(
                f"{len(broken)} of {len(flat_scores)} rewards at step {self.step} were sandbox errors "
                f"(first: {broken[0].first_error or broken[0].feedback or 'no detail'}); the sandbox is "
                f"failing, so these rewards say nothing about the model. Check `codeeval-rl doctor`; "
                f"train.max_sandbox_error_rate ({self.settings.max_sandbox_error_rate}) sets this limit")
        completion_tokens = sum(len(s.completion_ids) for s in batch.flat())
        rewards = [sc.reward for sc in flat_scores]
        metrics = {
            "reward_mean": float(np.mean(rewards)) if rewards else 0.0,
            "reward_std": float(np.std(rewards)) if rewards else 0.0,
            "pass_rate": float(np.mean([sc.passed for sc in flat_scores])) if flat_scores else 0.0,
            "completion_tokens_mean": completion_tokens / max(1, len(flat_scores)),
            "tokens_per_s": completion_tokens / step_s if step_s > 0 else 0.0,
            "step_time_s": step_s,
            "generate_time_s": batch.generate_s,
            "reward_wait_s": waited_s,
            "reward_wait_fraction": min(1.0, waited_s / step_s) if step_s > 0 else 0.0,
            "sandbox_error_rate": error_rate,
            "epoch": self.cursor.epoch,
            "beta": self.kl_ctl.value,
            "learning_rate": self.optimizer.param_groups[0]["lr"],
            **values,
        }
        names = sorted({k for sc in flat_scores for k in sc.components})
        for name in names:
            metrics[f"reward/{name}"] = float(np.mean([sc.components.get(name, 0.0) for sc in flat_scores]))
        self.history.append({"step": float(self.step), **metrics})
        if self.is_main:
            self.tracker.log_metrics(self.run_id, self.step, metrics)
            records = []
            for g, (task, row) in enumerate(zip(batch.tasks, batch.scores)):
                for i, sc in enumerate(row):
                    records.append(RolloutRecord(
                        task_id=task.id, completion=batch.samples[g][i].text, reward=sc.reward, status=sc.status,
                        passed=sc.passed, step=self.step, sample_index=i, language=task.language,
                        category=task.category, tier=task.tier, components=dict(sc.components),
                        first_error=sc.first_error, turn=batch.turns[g][i] if batch.turns else 0))
            self.tracker.log_rollouts(self.run_id, records)
        if on_step is not None:
            on_step(self.step, metrics)
        return metrics


class ScoredBatches:
    """The batch stream GRPO, RLOO and PPO share: :meth:`scored` returns this step's batch with
    its rewards; with ``async_rewards`` the next batch is generated while the sandbox scores
    this one (so it comes from the policy before this step's update; the clipped ratio against
    its own log-probs corrects for that), otherwise :meth:`advance` generates it after the
    update. The first batch is the one a checkpoint left generated, if any.

    Per step: ``batch = stream.scored()``, the update, ``stream.advance()``, then
    ``tr.step += 1``, logging and the checkpoint (which saves the pending next batch).
    """

    def __init__(self, trainer: Trainer, rewards: AsyncRewards) -> None:
        self.tr, self.rewards = trainer, rewards
        self.batch = trainer.pending or trainer.sample(trainer.next_tasks())
        self.future = rewards.submit(self.batch.pairs(), trainer.settings.reward_tests)
        self.next: Batch | None = None

    def _last(self) -> bool:
        return self.tr.step + 1 == self.tr.total_steps

    def scored(self) -> Batch:
        tr, tests = self.tr, self.tr.settings.reward_tests
        self.next = tr.sample(tr.next_tasks()) if tr.pipelined_rewards and not self._last() else None
        self.batch.set_scores(self.rewards.wait(self.future))
        if self.next is not None:
            self.future = self.rewards.submit(self.next.pairs(), tests)
        return self.batch

    def advance(self) -> None:
        tr = self.tr
        if self.next is None and not self._last():
            self.next = tr.sample(tr.next_tasks())
            self.future = self.rewards.submit(self.next.pairs(), tr.settings.reward_tests)
        tr.pending = self.next
        if self.next is not None:
            self.batch = self.next
