"""Typed settings, loaded from YAML and validated once.

Every field has a docstring; a wrong value raises :class:`~codeeval_rl.errors.ConfigError`
naming the key path and the value, e.g. ``evaluation.test_timeout = -1: must be > 0``.
The CLI and YAML files only fill these classes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from codeeval_rl.errors import ConfigError

__all__ = [
    "CONFIG_DIR",
    "CodeQualitySettings",
    "EvaluationSettings",
    "RaySettings",
    "RewardModelSettings",
    "SandboxSettings",
    "Settings",
    "TrainSettings",
    "check_ranges",
    "load_evaluation_settings",
    "load_ray_settings",
    "load_sandbox_settings",
    "load_yaml",
    "parse_settings",
]

CONFIG_DIR = Path(__file__).resolve().parent / "configs"

S = TypeVar("S", bound="Settings")


class Settings(BaseModel):
    """Base: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class SandboxSettings(Settings):
    """How the sandbox isolates and limits programs (``sandbox:`` section)."""

    workers: int = Field(0, ge=0, le=256)
    """Parallel workers (fork servers); 0 means one per CPU core."""
    yield_after_s: float | None = Field(0.25, gt=0, le=3600)
    """A run still going after this many seconds *yields*: its processes drop to the lowest
    CPU priority (nice 19) and it stops counting against ``workers``, so the next program
    starts on a spare worker beside it. Infinite loops and sleepers then cost only CPU that
    other runs leave idle, instead of a whole core each until their wall limit. Limits are
    unchanged, but a yielded program's speed depends on load: on a busy pool one that needs
    more than this much CPU may time out where it would pass alone. ``null`` turns yielding
    off (every run keeps a core to itself until it ends)."""
    spare_workers: int | None = Field(None, ge=0, le=256)
    """Extra fork servers that start new runs while yielded ones finish; ``null`` means as
    many as ``workers``. Unused when ``yield_after_s`` is ``null``."""
    max_spare_workers: int | None = Field(None, ge=0, le=256)
    """The most spare fork servers at once. When every worker holds a yielded run and more
    programs wait, one more spare starts (and stays for later batches), up to this many, so k
    runaways cost a batch about one wall limit while k <= this, instead of one limit per
    ``spare_workers`` runaways. Each yielded run may hold up to its memory limit, so ``null``
    means as many as half the host's memory holds at ``memory_mb`` each (at most 64, at least
    ``spare_workers``). Unused when ``yield_after_s`` is ``null``."""
    wall_time_s: float = Field(10.0, gt=0, le=3600)
    """Default wall-clock limit per run, seconds."""
    cpu_time_s: float | None = Field(None, gt=0, le=3600)
    """Default CPU-time limit per run; ``null`` means equal to the wall limit."""
    memory_mb: int = Field(512, ge=16, le=1 << 20)
    """Default memory limit per run (cgroup), MiB."""
    max_processes: int = Field(64, ge=1, le=100000)
    """Default limit on processes and threads per run."""
    output_bytes: int = Field(1 << 20, ge=1024)
    """Default cap on stdout and on stderr, bytes each; more is cut and flagged."""
    file_size_bytes: int = Field(16 << 20, ge=0)
    """Largest file a run may write (RLIMIT_FSIZE)."""
    open_files: int = Field(256, ge=16, le=1 << 20)
    """RLIMIT_NOFILE per run."""
    compile_wall_time_s: float = Field(30.0, gt=0, le=3600)
    """Wall-clock limit for compiling one program."""
    compile_memory_mb: int = Field(2048, ge=64)
    """Memory limit for compiling one program, MiB."""
    cache_dir: str = ""
    """Compile cache directory; empty means ``$XDG_CACHE_HOME/codeeval-rl/compile``."""
    python_executable: str = "/usr/bin/python3"
    """Interpreter of the Python fork server; it must live outside /root (the sandbox user cannot read it)."""
    seccomp: bool = True
    """Install the seccomp filter where libseccomp's Python binding is available."""
    require_seccomp: bool = False
    """Fail instead of running without a seccomp filter when libseccomp is missing."""
    uid_base: int = Field(61000, ge=1000, le=(1 << 31) - 1000)
    """First of the unprivileged user ids given to workers (one per worker)."""


class CodeQualitySettings(Settings):
    """``evaluation.code_quality``: the quality level's checks."""

    enable_pep8: bool = True
    """Run ruff's style and bug rules on Python code."""
    max_complexity: int = Field(10, ge=1, le=1000)
    """Cyclomatic complexity above which a function loses quality score."""
    security_checks: bool = True
    """Run bandit's security checks on Python code."""


class EvaluationSettings(Settings):
    """The ``evaluation:`` section users write. The weight, limit and ``code_quality`` keys are
    a fixed public contract (docs/architecture.md, "Public names"); later keys only add to them."""

    syntax_weight: float = Field(0.2, ge=0)
    """Weight of the syntax level."""
    execution_weight: float = Field(0.3, ge=0)
    """Weight of the execution level."""
    test_case_weight: float = Field(0.3, ge=0)
    """Weight of the tests level."""
    quality_weight: float = Field(0.1, ge=0)
    """Weight of the quality level."""
    efficiency_weight: float = Field(0.1, ge=0)
    """Weight of the efficiency level."""
    test_timeout: float = Field(5.0, gt=0, le=3600)
    """Wall-clock limit per test run, seconds."""
    memory_limit: int = Field(512, ge=16)
    """Memory limit per test run, MiB."""
    code_quality: CodeQualitySettings = Field(default_factory=lambda: CodeQualitySettings())
    """Quality checks."""
    shaping: Literal["binary", "partial", "graded"] = "graded"
    """How levels become a reward: ``binary`` (1 iff all tests pass), ``partial``
    (fraction of tests passed), ``graded`` (weighted sum of the five levels)."""
    quality_requires_pass: bool = True
    """Quality and efficiency count only when all tests pass (against reward hacking)."""
    deduplicate: bool = True
    """Identical submissions in one batch (same task, tests and code) are evaluated once and
    share the result, as GRPO groups and low-temperature samples repeat themselves often.
    Turn off to run every copy, e.g. to measure how flaky nondeterministic programs are."""
    loops_first: bool = True
    """Send programs with an unbounded loop (``while``, ``for (;;)``, ``loop {``) to the sandbox
    first, so that runaways spend their wall limit beside the rest of the batch instead of
    after it (see :mod:`codeeval_rl.evaluation.schedule`). Only the order changes; turn off
    to dispatch in input order."""
    profile: str = ""
    """Runtime profile of tasks whose ``runtime`` is empty, where it serves the task's language
    (``python-datascience``, ``node``, ``java``; built with ``codeeval-rl sandbox build-env``).
    Empty: such tasks run with no profile (Python: the standard library only). A task's own
    ``runtime`` always wins."""
    missing_dependency: Literal["neutral", "fail"] = "neutral"
    """How a sample whose runtime profile lacks a package it imports (outcome
    ``missing_dependency``) counts. ``neutral``: it is not judged (``EvaluationResult.judged``
    is false) and its reward is the mean reward of the judged samples of the same task in the
    batch (0 when there are none), so GRPO and RLOO give it zero advantage; evaluation leaves it
    out of pass@k. ``fail``: it counts as the program's failure, scored like a runtime error."""

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if not value:
            return value
        from codeeval_rl.sandbox.profiles import PROFILES

        if value not in PROFILES:
            raise ValueError(f"unknown runtime profile; known: {', '.join(PROFILES)}")
        return value


def check_ranges(what: str, settings: object, checks: Mapping[str, bool]) -> None:
    """Raise :class:`ConfigError` for the first field of ``settings`` whose check is false,
    naming ``what`` (the command or section), the field and its value. For the frozen settings
    dataclasses that validate themselves in ``__post_init__``."""
    for name, ok in checks.items():
        if not ok:
            raise ConfigError(f"{what}: {name} = {getattr(settings, name)!r} is out of range")


def _describe(err: Any, section: str) -> str:
    loc = ".".join(str(p) for p in (section, *err.get("loc", ())) if p != "")
    value = err.get("input")
    msg = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        return f"{loc}: unknown key"
    if err.get("type") == "missing":
        return f"{loc}: required key is missing"
    return f"{loc} = {value!r}: {msg}"


def parse_settings(model: type[S], data: Any, section: str = "", source: str = "") -> S:
    """Validate ``data`` into ``model``; raise :class:`ConfigError` naming every bad key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        where = f" in {source}" if source else ""
        raise ConfigError(f"{section or 'settings'}{where} must be a mapping, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = f"{source}: " if source else ""
        lines = [_describe(e, section) for e in exc.errors()]
        raise ConfigError(where + "; ".join(lines)) from None


def load_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML mapping; a missing or malformed file raises :class:`ConfigError`."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: top level must be a mapping, got {type(data).__name__}")
    return data


def _load_section(model: type[S], path: str | os.PathLike[str] | None, section: str) -> S:
    if path is None:
        return model()
    data = load_yaml(path)
    if section in data:
        body = data[section]
    elif data and not data.keys() - model.model_fields.keys():
        body = data  # a flat file holding only this section's keys
    else:
        body = {}  # a combined config without this section: defaults
    return parse_settings(model, body, section=section, source=str(path))


def load_sandbox_settings(path: str | os.PathLike[str] | None = None) -> SandboxSettings:
    """Settings from the ``sandbox:`` section of ``path`` (defaults when ``None``)."""
    return _load_section(SandboxSettings, path, "sandbox")


def load_evaluation_settings(path: str | os.PathLike[str] | None = None) -> EvaluationSettings:
    """Settings from the ``evaluation:`` section of ``path`` (defaults when ``None``)."""
    return _load_section(EvaluationSettings, path, "evaluation")


class RaySettings(Settings):
    """The ``ray:`` section: run the sandbox on a Ray cluster instead of this machine
    (:mod:`codeeval_rl.distributed`). Each Ray actor holds a local sandbox (a fork-server pool
    of ``cpus_per_actor`` workers); a batch is spread over the actors in chunks, results come
    back in input order, and runs lost with an actor are retried on another."""

    address: str = Field("auto", min_length=1)
    """``auto``: join the running cluster (``RAY_ADDRESS``, or the one ``ray start`` left on this
    machine), or start a local one when none runs; ``local``: always start a local one; else
    ``HOST:PORT`` of a cluster's head (its GCS port, 6379 by default) or ``ray://HOST:PORT``."""
    actors: int = Field(0, ge=0, le=4096)
    """Sandbox actors to start; 0: as many as the cluster's CPUs hold at ``cpus_per_actor`` each
    when the sandbox starts (at least one). On an autoscaling cluster set it: actors that do not
    fit yet are what makes the autoscaler add worker nodes."""
    cpus_per_actor: int = Field(4, ge=1, le=256)
    """CPUs each actor reserves, and the fork-server workers of its sandbox (a cluster with
    fewer CPUs in all gets one actor of what it has)."""
    resources: dict[str, float] = Field(default_factory=dict)
    """Extra Ray resources each actor asks for, e.g. ``{sandbox: 1}`` to keep actors on the
    nodes started with that resource (the CPU workers, not the GPU nodes)."""
    chunk_size: int = Field(0, ge=0, le=100000)
    """Programs per actor call; 0: twice the actor's workers, fewer for small batches so every
    actor gets work. Smaller chunks balance better; each call costs a Ray round trip."""
    in_flight: int = Field(2, ge=1, le=64)
    """Chunks a batch keeps queued at each actor, so an actor never idles between chunks."""
    start_timeout_s: float = Field(300.0, gt=0, le=86400)
    """How long a batch waits for at least one actor to be ready (starting, or restarting after
    a loss) before it fails with a sandbox error instead of waiting forever."""
    max_losses: int = Field(2, ge=1, le=10)
    """A run in flight when its actor was lost this many times (the program itself may be what
    kills it) gets ``sandbox_error`` instead of another retry."""


def load_ray_settings(path: str | os.PathLike[str] | None) -> RaySettings | None:
    """The ``ray:`` section of ``path``, or ``None`` when there is no file or no such section
    (the sandbox then runs on this machine). ``ray: auto`` or ``ray: HOST:PORT`` is short for
    ``ray: {address: ...}``."""
    if path is None:
        return None
    data = load_yaml(path)
    if "ray" not in data:
        return None
    body = data["ray"]
    if isinstance(body, str):
        body = {"address": body}
    return parse_settings(RaySettings, body, section="ray", source=str(path))


class RewardModelSettings(Settings):
    """``train.reward_model``: a trained reward model (``codeeval-rl rm train``) mixed into the
    execution reward, ``reward = (1 - weight) * execution + weight * sigmoid(score)``; its
    part, ``sigmoid(score)``, is logged as the reward component ``reward_model``
    (:mod:`codeeval_rl.preference.reward_mix`)."""

    path: str = Field(min_length=1)
    """RM_DIR: a directory that loads with ``AutoModelForSequenceClassification`` (one output)."""
    weight: float = Field(0.5, ge=0, le=1)
    """The reward model's share of the reward; 0 logs its score without using it."""
    batch_size: int = Field(16, ge=1)
    """Inputs per reward-model forward pass."""
    max_length: int = Field(1024, ge=2)
    """Longer inputs keep their last this many tokens."""
    device: str | None = None
    """Where the reward model runs; default: the policy's device."""


class TrainSettings(Settings):
    """The ``train:`` section of a training config (``codeeval-rl train --config FILE``)."""

    algorithm: Literal["grpo", "ppo", "rloo", "multiturn"] = "grpo"
    """Which trainer runs: GRPO, PPO (value head + GAE), RLOO, or multi-turn repair (RLEF, GRPO updates)."""
    model: str = ""
    """Local path or hub id of the Hugging Face causal LM to train."""
    dataset: str = ""
    """Task JSONL path or built-in dataset name (``codeeval_rl.data.load_dataset``)."""
    output_dir: str = "runs/train"
    """Checkpoints, the final model and the run store go here."""
    steps: int = Field(0, ge=0)
    """Optimisation steps; 0 means ``epochs`` passes over the dataset."""
    epochs: float = Field(1.0, gt=0)
    """Passes over the dataset when ``steps`` is 0."""
    batch_size: int = Field(8, ge=1)
    """Prompts (tasks) per step."""
    num_generations: int = Field(8, ge=1)
    """Completions sampled per prompt (the GRPO/RLOO group)."""
    learning_rate: float = Field(1e-5, gt=0)
    """AdamW learning rate."""
    weight_decay: float = Field(0.0, ge=0)
    """AdamW weight decay."""
    max_grad_norm: float = Field(1.0, gt=0)
    """Gradient norm clip."""
    temperature: float = Field(1.0, gt=0)
    """Sampling temperature (also divides the logits when computing log-probs)."""
    top_p: float = Field(1.0, gt=0, le=1)
    """Nucleus sampling."""
    max_new_tokens: int = Field(256, ge=1)
    """Completion length cap, tokens."""
    loss_type: Literal["grpo", "dr_grpo", "dapo"] = "dapo"
    """Loss aggregation (see ``codeeval_rl.rl.losses``)."""
    scale_rewards: Literal["group", "batch", "none"] = "group"
    """GRPO advantage scaling."""
    epsilon: float = Field(0.2, ge=0)
    """Lower clip range of the probability ratio."""
    epsilon_high: float = Field(0.28, ge=0)
    """Upper clip range (DAPO's clip-higher)."""
    num_iterations: int = Field(1, ge=1)
    """Optimisation passes over each batch (PPO epochs)."""
    micro_batch_size: int = Field(0, ge=0)
    """Rows per forward/backward pass (gradient accumulation); 0 means the whole batch."""
    beta: float = Field(0.0, ge=0)
    """KL penalty coefficient to the frozen reference (KL is logged even when 0)."""
    kl_log_every: int = Field(10, ge=0)
    """With ``beta`` 0 (fixed control) the KL to the reference is not in the GRPO or multi-turn
    loss, so it is only measured every this many steps, for the logs (0: never): each measurement
    is one more forward pass of the reference over the batch, which TRL skips with ``beta`` 0.
    With a KL term it is measured every step."""
    kl_estimator: Literal["k1", "k3"] = "k3"
    """Per-token KL estimator."""
    kl_control: Literal["fixed", "adaptive"] = "fixed"
    """Fixed ``beta`` or the adaptive controller steering KL towards ``kl_target``."""
    kl_target: float = Field(0.1, gt=0)
    """Target KL of the adaptive controller."""
    kl_horizon: int = Field(10000, ge=1)
    """Horizon of the adaptive controller."""
    gamma: float = Field(1.0, ge=0, le=1)
    """PPO discount."""
    lam: float = Field(0.95, ge=0, le=1)
    """PPO GAE lambda."""
    vf_coef: float = Field(0.1, ge=0)
    """PPO value loss weight."""
    value_clip: float = Field(0.2, ge=0)
    """PPO value clip range."""
    max_turns: int = Field(3, ge=1, le=20)
    """Multi-turn: turns per episode."""
    invalid_code_penalty: float = Field(0.2, ge=0)
    """Multi-turn: subtracted for each turn without valid code."""
    reward_tests: Literal["hidden", "public", "all"] = "hidden"
    """Tests that make the final reward."""
    max_sandbox_error_rate: float = Field(0.25, ge=0, le=1)
    """Stop with an error when more than this share of a step's rewards are sandbox errors (our
    fault, not the model's): training on them would learn from noise. 1 disables the check."""
    async_rewards: bool | Literal["auto"] = "auto"
    """Score a batch in the sandbox while the policy generates the next one (that batch is then
    one update stale; the clipped ratio corrects for it). ``auto``: on when the policy runs on an
    accelerator, whose generation leaves the CPU cores to the sandbox; off when it runs on the
    CPU, where generation, the update and the sandbox share the same cores, so overlapping them
    cannot add CPU time (on 2 cores bench/train_step.py measured no consistent difference either
    way), and the synchronous step stays on-policy."""
    reward_workers: int = Field(2, ge=1, le=256)
    """Threads calling the sandbox."""
    checkpoint_every: int = Field(50, ge=0)
    """Steps between checkpoints (0: only at the end)."""
    keep_checkpoints: int = Field(2, ge=1)
    """Checkpoints kept on disk."""
    seed: int = 0
    """Seeds Python, NumPy, torch and the data order."""
    lora: dict[str, Any] | None = None
    """``{r, alpha, target_modules}`` to train LoRA adapters instead of all weights."""
    dtype: str | None = None
    """Model dtype (``float32``, ``bfloat16``...); default: as saved."""
    store: str = ""
    """Run store (SQLite path or SQLAlchemy URL); empty: ``output_dir/codeeval.db``."""
    reward_model: RewardModelSettings | None = None
    """``{path, weight}``: mix a reward model's score into the execution reward (GRPO, RLOO, PPO;
    multi-turn's reward is its pass/fail, so it refuses one)."""

    @field_validator("reward_model")
    @classmethod
    def _reward_model_fits(cls, value: RewardModelSettings | None, info: ValidationInfo) -> RewardModelSettings | None:
        if value is not None and info.data.get("algorithm") == "multiturn":
            raise ValueError("multi-turn training rewards pass/fail only; use grpo, rloo or ppo with a reward model")
        return value
