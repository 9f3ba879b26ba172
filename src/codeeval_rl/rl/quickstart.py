"""The offline quickstart: a tokenizer and a tiny LM from scratch, SFT on noisy solutions,
then GRPO from execution rewards, measured on held-out tasks.

1. train a byte-level BPE tokenizer and a Llama-architecture LM of about a million parameters;
2. supervised warm start on the built-in curriculum (:mod:`.curriculum`), whose training
   solutions are about 30% subtly wrong, so the SFT model writes the wrong variant about as
   often;
3. GRPO with the evaluation engine's binary reward (all tests pass) from the real sandbox;
4. held-out pass@1 (tasks whose constants no training task has) of the SFT model and of the
   RL model: ``n`` samples per task at the training temperature, the unbiased pass@1 estimate
   (the fraction of passing samples), plus greedy pass@1 for reference;
5. ``train_tasks.jsonl`` / ``heldout_tasks.jsonl`` (Task JSONL), ``sft_model/`` and ``grpo/final/``
   (Hugging Face format), ``report.json``, ``report.html`` (reward, pass-rate and KL curves, inline SVG) and the run
   store ``codeeval.db`` holding the GRPO run and the two held-out evaluations, so
   ``codeeval-rl report``, ``errors`` and ``compare`` work on the directory.
"""

from __future__ import annotations

import html
import json
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeeval_rl.errors import TrainingError

__all__ = ["FULL_PLAN", "QUICK_PLAN", "QuickstartPlan", "render_html", "run_quickstart"]


@dataclass(frozen=True)
class QuickstartPlan:
    """Sizes of each stage; :data:`FULL_PLAN` meets the published figures on 2 CPU cores."""

    sft_steps: int = 400
    sft_batch: int = 32
    sft_lr: float = 2e-3
    rl_steps: int = 100
    rl_batch: int = 16
    rl_generations: int = 8
    rl_lr: float = 4e-4
    beta: float = 0.01
    eval_samples: int = 8
    temperature: float = 1.0
    max_new_tokens: int = 32
    hidden: int = 128
    layers: int = 4
    vocab_size: int = 512
    checkpoint_every: int = 25


FULL_PLAN = QuickstartPlan()
QUICK_PLAN = QuickstartPlan(sft_steps=150, rl_steps=6, rl_batch=8, eval_samples=2, checkpoint_every=3)


def _heldout_eval(policy: Any, tasks: Sequence[Any], scorer: Any, samples: int, temperature: float,
                  max_new_tokens: int) -> tuple[float, float, list[tuple[Any, str, Any, int]]]:
    """(sampled pass@1, greedy pass@1, [(task, completion, score, sample_index)])."""
    prompts = [policy.encode(t.prompt) for t in tasks]
    sampled = policy.generate_ids(prompts, n=samples, temperature=temperature, max_new_tokens=max_new_tokens)
    greedy = policy.generate_ids(prompts, n=1, temperature=0.0, max_new_tokens=max_new_tokens)
    pairs = [(t, s.text) for t, row in zip(tasks, sampled) for s in row]
    scores = scorer.score(pairs + [(t, row[0].text) for t, row in zip(tasks, greedy)], "all")
    broken = [sc for sc in scores if sc.status == "sandbox_error"]
    if broken:  # a held-out figure with our own failures in it would be meaningless
        raise TrainingError(f"{len(broken)} of {len(scores)} held-out runs were sandbox errors "
                            f"(first: {broken[0].first_error or 'no detail'}); check `codeeval-rl doctor`")
    sampled_scores, greedy_scores = scores[:len(pairs)], scores[len(pairs):]
    rows = [(t, c, sc, i % samples) for i, ((t, c), sc) in enumerate(zip(pairs, sampled_scores))]
    p1 = sum(sc.passed for sc in sampled_scores) / max(1, len(sampled_scores))
    g1 = sum(sc.passed for sc in greedy_scores) / max(1, len(greedy_scores))
    return p1, g1, rows


def _log_eval(tracker: Any, name: str, rows: list[tuple[Any, str, Any, int]], config: dict[str, Any]) -> str:
    from codeeval_rl.monitoring.tracker import RolloutRecord

    run_id = tracker.start_run("eval", name, config)
    tracker.log_rollouts(run_id, [RolloutRecord(
        task_id=t.id, completion=c, reward=sc.reward, status=sc.status, passed=sc.passed, sample_index=i,
        language=t.language, category=t.category, tier=t.tier, components=dict(sc.components),
        first_error=sc.first_error) for t, c, sc, i in rows])
    p = sum(sc.passed for _, _, sc, _ in rows) / max(1, len(rows))
    tracker.log_metrics(run_id, 0, {"pass@1": p, "reward_mean": sum(sc.reward for _, _, sc, _ in rows) / max(1, len(rows))})
    tracker.finish_run(run_id)
    return run_id


def run_quickstart(output: str | os.PathLike[str], *, seed: int = 0, plan: QuickstartPlan = FULL_PLAN,
                   sandbox: Any = None, log: Callable[[str], None] = print,
                   on_step: Callable[[int, Mapping[str, float]], None] | None = None) -> dict[str, Any]:
    """Run the whole quickstart into ``output``; returns what ``report.json`` holds."""
    import torch

    from codeeval_rl.config import EvaluationSettings, TrainSettings
    from codeeval_rl.data import write_tasks
    from codeeval_rl.monitoring import RunStore
    from codeeval_rl.monitoring.store import STORE_FILENAME
    from codeeval_rl.rl.curriculum import build_curriculum
    from codeeval_rl.rl.grpo import train_grpo
    from codeeval_rl.rl.loop import seed_everything
    from codeeval_rl.rl.policy import LLMAdapter
    from codeeval_rl.rl.scoring import EvaluatorScorer
    from codeeval_rl.rl.sft import sft_train
    from codeeval_rl.rl.tiny import build_tiny_model, train_tokenizer
    from codeeval_rl.sandbox import Sandbox

    started = time.perf_counter()
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)
    own_sandbox = sandbox is None
    sb = Sandbox(workers=2) if own_sandbox else sandbox
    store = RunStore(out / STORE_FILENAME)
    timings: dict[str, float] = {}
    try:
        scorer = EvaluatorScorer.from_settings(EvaluationSettings(shaping="binary", test_timeout=2.0), sb,
                                               tests="all")
        # 1. curriculum, tokenizer, model
        t0 = time.perf_counter()
        cur = build_curriculum(seed)
        tokenizer = train_tokenizer([i.task.prompt + i.body for i in cur.train], plan.vocab_size)
        model = build_tiny_model(len(tokenizer), hidden=plan.hidden, layers=plan.layers,
                                 intermediate=3 * plan.hidden, seed=seed,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        n_params = sum(p.numel() for p in model.parameters())
        wrong = sum(not i.correct for i in cur.train) / len(cur.train)
        log(f"curriculum: {len(cur.train)} SFT examples ({wrong:.0%} wrong) over {len(cur.train_tasks)} tasks, "
            f"{len(cur.heldout)} held-out tasks; model {n_params / 1e6:.2f}M parameters, vocab {len(tokenizer)}")
        timings["build_s"] = time.perf_counter() - t0
        write_tasks(out / "train_tasks.jsonl", cur.train_tasks)
        write_tasks(out / "heldout_tasks.jsonl", cur.heldout)

        # 2. SFT warm start
        t0 = time.perf_counter()
        losses = sft_train(model, tokenizer, [(i.task.prompt, i.body) for i in cur.train], steps=plan.sft_steps,
                           batch_size=plan.sft_batch, learning_rate=plan.sft_lr, seed=seed,
                           on_step=lambda s, loss: log(f"sft step {s + 1}/{plan.sft_steps} loss {loss:.3f}")
                           if (s + 1) % 100 == 0 else None)
        timings["sft_s"] = time.perf_counter() - t0
        policy = LLMAdapter.from_objects(model, tokenizer, device="cpu")
        policy.save(out / "sft_model")
        t0 = time.perf_counter()
        sft_p1, sft_g1, sft_rows = _heldout_eval(policy, cur.heldout, scorer, plan.eval_samples, plan.temperature,
                                                  plan.max_new_tokens)
        timings["eval_sft_s"] = time.perf_counter() - t0
        _log_eval(store, "quickstart-heldout-sft", sft_rows, {"model": "sft", "seed": seed})
        log(f"held-out pass@1 after SFT: {sft_p1:.3f} (greedy {sft_g1:.3f})")

        # 3. GRPO from execution rewards
        t0 = time.perf_counter()
        settings = TrainSettings(
            algorithm="grpo", model="quickstart-tiny", output_dir=str(out / "grpo"), steps=plan.rl_steps,
            batch_size=plan.rl_batch, num_generations=plan.rl_generations, learning_rate=plan.rl_lr,
            temperature=plan.temperature, max_new_tokens=plan.max_new_tokens, beta=plan.beta,
            loss_type="dapo", checkpoint_every=plan.checkpoint_every, seed=seed, reward_tests="all")
        policy.name = "quickstart-tiny"
        result = train_grpo(settings, policy, list(cur.train_tasks), scorer, store, on_step=on_step)
        timings["grpo_s"] = time.perf_counter() - t0

        # 4. held-out after RL
        t0 = time.perf_counter()
        rl_p1, rl_g1, rl_rows = _heldout_eval(policy, cur.heldout, scorer, plan.eval_samples, plan.temperature,
                                              plan.max_new_tokens)
        timings["eval_rl_s"] = time.perf_counter() - t0
        _log_eval(store, "quickstart-heldout-rl", rl_rows, {"model": "rl", "seed": seed})
        log(f"held-out pass@1 after GRPO: {rl_p1:.3f} (greedy {rl_g1:.3f})")
    finally:
        store.close()
        if own_sandbox:
            sb.close()
    wall = time.perf_counter() - started
    report = {
        "heldout_pass@1_sft": sft_p1,
        "heldout_pass@1_rl": rl_p1,
        "improvement_points": 100 * (rl_p1 - sft_p1),
        "heldout_greedy_pass@1_sft": sft_g1,
        "heldout_greedy_pass@1_rl": rl_g1,
        "seed": seed,
        "wall_time_s": wall,
        "timings_s": timings,
        "plan": plan.__dict__,
        "heldout_tasks": len(cur.heldout),
        "eval_samples_per_task": plan.eval_samples,
        "eval_temperature": plan.temperature,
        "train_tasks": len(cur.train_tasks),
        "sft_examples": len(cur.train),
        "sft_wrong_fraction": wrong,
        "sft_final_loss": losses[-1],
        "parameters": n_params,
        "grpo_run_id": result.run_id,
        "history": result.history,
        "host": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version()},
    }
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (out / "report.html").write_text(render_html(report), encoding="utf-8")
    return report


def _svg_line(title: str, xs: Sequence[float], series: dict[str, Sequence[float]], width: int = 420,
              height: int = 220) -> str:
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    pad = 36
    values = [v for ys in series.values() for v in ys]
    if not xs or not values:
        return f"<figure><figcaption>{html.escape(title)}: no data</figcaption></figure>"
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        hi = lo + 1.0
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def px(x: float) -> float:
        return pad + (x - x0) / (x1 - x0) * (width - 2 * pad)

    def py(y: float) -> float:
        return height - pad - (y - lo) / (hi - lo) * (height - 2 * pad)

    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
              f'aria-label="{html.escape(title)}">'),
             f'<rect x="{pad}" y="{pad}" width="{width - 2 * pad}" height="{height - 2 * pad}" fill="none" stroke="#ccc"/>',
             f'<text x="{pad}" y="{pad - 8}" font-size="11">{hi:.3g}</text>',
             f'<text x="{pad}" y="{height - pad + 14}" font-size="11">{lo:.3g}</text>',
             f'<text x="{width - pad}" y="{height - pad + 14}" font-size="11" text-anchor="end">step {x1:g}</text>']
    for k, (name, ys) in enumerate(series.items()):
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys))
        c = colours[k % len(colours)]
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.5" points="{pts}"/>')
        parts.append(f'<text x="{width - pad}" y="{pad + 14 + 13 * k}" font-size="11" fill="{c}" '
                     f'text-anchor="end">{html.escape(name)}</text>')
    parts.append("</svg>")
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{''.join(parts)}</figure>"


def _smooth(ys: Sequence[float], k: int = 5) -> list[float]:
    return [sum(ys[max(0, i - k + 1):i + 1]) / len(ys[max(0, i - k + 1):i + 1]) for i in range(len(ys))]


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page (no scripts, no network) with the figures and the curves."""
    hist = report.get("history", [])
    xs = [h["step"] for h in hist]
    charts = [
        _svg_line("Reward (mean per step; 5-step average)", xs,
                  {"reward": [h["reward_mean"] for h in hist], "avg": _smooth([h["reward_mean"] for h in hist])}),
        _svg_line("Training pass rate", xs, {"pass rate": [h["pass_rate"] for h in hist],
                                             "avg": _smooth([h["pass_rate"] for h in hist])}),
        _svg_line("KL to the SFT model (k3, per token)", xs, {"kl": [h["kl"] for h in hist]}),
    ]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(round(v, 4) if isinstance(v, float) else v))}</td></tr>"
                   for k, v in report.items() if k not in ("history", "plan", "timings_s", "host"))
    timing = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:.1f}</td></tr>" for k, v in report.get("timings_s", {}).items())
    return ("<!doctype html><html><head><meta charset='utf-8'><title>CodeEval RL quickstart</title>"
            "<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}"
            "th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}figure{display:inline-block;margin:1em}"
            "</style></head><body><h1>CodeEval RL quickstart</h1>"
            f"<p>Held-out pass@1: SFT <b>{report['heldout_pass@1_sft']:.3f}</b> &rarr; GRPO "
            f"<b>{report['heldout_pass@1_rl']:.3f}</b> ({report['improvement_points']:+.1f} points), seed "
            f"{report['seed']}, {report['wall_time_s']:.0f} s.</p>"
            + "".join(charts) + f"<h2>Figures</h2><table>{rows}</table><h2>Stage times (s)</h2><table>{timing}</table>"
            "</body></html>")
