"""CodeDPO: pair choice by hand, the program x test matrix through the real sandbox with a scripted
model (a wrong test loses trust, a slow right program loses the efficiency pair), the verification
report, DPO training on token ids as the policy samples them, and `dpo pairs` / `dpo train` end to end."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import ConfigError, InputError
from codeeval_rl.preference.verify import (
    CodeDpoSettings,
    ask_for_tests,
    build_dpo_pairs,
    correctness_pair,
    efficiency_pair,
    timed_speedup,
    verification_report,
)
from codeeval_rl.rl.policy import FakePolicy
from codeeval_rl.types import Task, TestCase

ROOT = Path(__file__).resolve().parents[2]


def test_correctness_pair_takes_the_extremes_and_skips_near_ties():
    assert correctness_pair([0.2, 0.5, 0.1, 0.2], list("abcd"), 0.1) == (1, 2)
    assert correctness_pair([0.5, 0.46], ["a", "b"], 0.1) is None      # 0.04 < 0.1 * 0.5
    assert correctness_pair([0.5, 0.44], ["a", "b"], 0.1) == (0, 1)    # 0.06 >= 0.05
    assert correctness_pair([0.6, 0.4], ["same", "same"], 0.1) is None
    assert correctness_pair([0.3, 0.3, 0.3], list("abc"), 0.0) is None  # equal scores are a tie at any min_gap


def test_efficiency_pair_needs_eligible_distinct_programs_and_the_speedup_after_the_floor():
    texts = ["fast", "slow", "wrong", "mid"]
    # (0.020 + 0.005) / (0.001 + 0.005) = 4.17
    assert efficiency_pair([0.001, 0.020, 0.0, 0.004], [True, True, False, True], texts, 1.5) == (0, 1)
    # (0.003 + 0.005) / (0.001 + 0.005) = 1.33 < 1.5
    assert efficiency_pair([0.001, 0.003, 0.0, 0.002], [True, True, False, True], texts, 1.5) is None
    assert efficiency_pair([0.001, 0.020], [True, False], texts[:2], 1.5) is None
    assert efficiency_pair([0.001, 0.020], [True, True], ["x", "x"], 1.5) is None


def test_timed_speedup_uses_each_programs_least_time():
    # (min slow 0.010 + 0.005) / (min fast 0.0 + 0.005) = 3
    assert timed_speedup([0.004, 0.0, 0.002], [0.020, 0.010]) == pytest.approx(3.0)


class _Run:
    def __init__(self, cpu: float, passed: bool = True):
        from types import SimpleNamespace

        self.passed = passed
        self.test_results = [SimpleNamespace(execution=SimpleNamespace(cpu_time_s=cpu))]


class _TimingEvaluator:
    """Answers the timing batch from a script: {code: [cpu of repeat 0, 1, 2]}."""

    def __init__(self, script):
        self.script, self.batches = script, []

    def completion_to_code(self, task, completion):
        return completion

    def evaluate_many(self, items, tests="all"):
        self.batches.append([(t.id, c) for t, c in items])
        return [_Run(self.script[c][int(t.id.rsplit("#timing", 1)[1])]) for t, c in items]


def test_a_timing_that_repeats_do_not_confirm_is_no_pair():
    from codeeval_rl.preference.verify import _confirm

    def record(fast, slow, cpu_fast, cpu_slow):
        cand = {"task_id": "inc", "prompt": "p", "chosen": fast, "rejected": slow, "kind": "efficiency",
                "chosen_cpu_s": cpu_fast, "rejected_cpu_s": cpu_slow, "trusted": list(_task().tests[:1])}
        return {"pairs": [], "candidate": cand}

    noisy = record("a", "b", 0.0001, 0.009)       # one slow reading of an equally fast program
    real = record("c", "d", 0.0001, 0.060)
    ev = _TimingEvaluator({"a": [0.0002] * 3, "b": [0.0001, 0.008, 0.0003], "c": [0.0003] * 3,
                           "d": [0.050, 0.055, 0.052]})
    _confirm(ev, [_task(), _task()], [noisy, real], CodeDpoSettings())
    assert len(ev.batches) == 1 and len(ev.batches[0]) == 12  # one batch: 2 candidates x 3 repeats x 2 programs
    assert len({tid for tid, _ in ev.batches[0]}) == 3        # repeats differ, so none is deduplicated
    assert noisy["pairs"] == [] and "candidate" not in noisy
    assert real["pairs"] == [{"task_id": "inc", "prompt": "p", "chosen": "c", "rejected": "d", "kind": "efficiency",
                              "chosen_cpu_s": 0.0001, "rejected_cpu_s": 0.050}]
    unconfirmed = record("a", "b", 0.0001, 0.009)
    _confirm(_TimingEvaluator({}), [_task()], [unconfirmed], CodeDpoSettings(timing_repeats=0))
    assert [p["rejected"] for p in unconfirmed["pairs"]] == ["b"]  # no repeats: the first timing decides


def test_verification_report_by_hand():
    records = [
        {"scores": [0.5, 0.3, 0.2], "pass_count": [1.0, 1.0, 0.0], "truth": [1.0, 0.5, 0.0], "tests": ["t"]},
        {"scores": [0.1, 0.9], "pass_count": [0.0, 1.0], "truth": [1.0, 0.0], "tests": ["t"]},
        {"scores": [0.5, 0.5], "pass_count": [0.5, 0.5], "truth": [1.0, 1.0], "tests": ["t"]},  # rho undefined
        {"scores": [0.5, 0.5], "pass_count": [0.0, 0.0], "truth": [], "tests": ["t"]},          # no truth
    ]
    r = verification_report(records)
    assert r["tasks_with_truth"] == 3
    mv, pc = r["mutual_verification"], r["pass_count"]
    assert mv["tasks_defined"] == 2 and mv["mean_task_spearman"] == pytest.approx((1.0 - 1.0) / 2)
    # pass count, task 1: ranks [2.5, 2.5, 1] vs [3, 2, 1] -> 0.866; task 2: -1
    assert pc["mean_task_spearman"] == pytest.approx((math.sqrt(3) / 2 - 1.0) / 2)
    assert -1.0 <= mv["pooled_spearman"] <= 1.0


def _task() -> Task:
    tests = (TestCase(kind="assert", code="assert inc(0) == 1", id="p"),
             TestCase(kind="assert", code="assert inc(7) == 8", id="h1"),
             TestCase(kind="assert", code="assert inc(-3) == -2", id="h2"))
    return Task(id="inc", language="python", prompt="def inc(x):\n", entry_point="inc", tests=tests,
                public_test_ids=("p",))


SLOW = "    t = 0\n    for _ in range(3000000):\n        t += 1\n    return x + 1\n"
PROGRAMS = ["    return x + 1\n", "    return x + 2\n", SLOW, "    return 1 + x\n", "    return x + 2\n"]
# two right tests and one that only the wrong program passes
MODEL_TESTS = "assert inc(1) == 2\nassert inc(5) == 6\nassert inc(2) == 4\nassert print(1)\nnot a test"


def _policy() -> FakePolicy:
    return FakePolicy(lambda prompt, i: MODEL_TESTS if "Write" in prompt else PROGRAMS[i % len(PROGRAMS)])


@pytest.fixture
def evaluator(sandbox):
    from codeeval_rl.evaluation import Evaluator

    return Evaluator(EvaluationSettings(shaping="binary", test_timeout=5.0), sandbox)


def test_matrix_scores_and_pairs_with_model_tests(evaluator, tmp_path):
    settings = CodeDpoSettings(codes=5, tests=5, test_samples=1, seed=2)
    result = build_dpo_pairs(_policy(), [_task()], evaluator, settings, model_name="fake",
                             journal=tmp_path / "j.jsonl")
    assert result.model_tests_mean == 3  # print() and the prose line are not tests
    rows = {r["kind"]: r for r in result.rows}
    assert set(rows) == {"correctness", "efficiency"}
    c = rows["correctness"]
    assert c["chosen"] in (PROGRAMS[0], SLOW, PROGRAMS[3]) and c["rejected"] == PROGRAMS[1]
    assert c["chosen_score"] > c["rejected_score"] and c["source"] == {"model": "fake", "seed": 2}
    # the wrong test is not trusted, so every right program is eligible; the slow one loses
    e = rows["efficiency"]
    assert e["rejected"] == SLOW and e["chosen"] in (PROGRAMS[0], PROGRAMS[3])
    assert (e["rejected_cpu_s"] + 0.005) / (e["chosen_cpu_s"] + 0.005) >= 1.5
    report = result.report
    assert report["tasks_with_truth"] == 1
    # the mutual-verification score orders the programs as the hidden tests do
    assert report["mutual_verification"]["mean_task_spearman"] == pytest.approx(1.0)
    # the same settings reuse the journal: a policy that would now write nothing is not asked
    again = build_dpo_pairs(FakePolicy(lambda p, i: ""), [_task()], evaluator, settings, model_name="fake",
                            journal=tmp_path / "j.jsonl")
    assert again.rows == result.rows


def test_task_tests_are_borrowed_and_a_task_without_them_is_named(evaluator):
    only_programs = FakePolicy(lambda prompt, i: PROGRAMS[i % len(PROGRAMS)])
    result = build_dpo_pairs(only_programs, [_task()], evaluator,
                             CodeDpoSettings(codes=5, tests_from="task", task_tests="public"))
    assert only_programs.calls and all("Write" not in t for texts, _ in only_programs.calls for t in texts)
    # one public test: the right programs tie at the top, and it is the only trusted test
    assert [r["kind"] for r in result.rows] == ["correctness", "efficiency"]
    assert result.rows[0]["rejected"] == PROGRAMS[1] and result.rows[1]["rejected"] == SLOW
    hidden_only = Task(id="hid", language="python", prompt="def inc(x):\n", entry_point="inc", tests=_task().tests)
    with pytest.raises(InputError, match="hid"):
        build_dpo_pairs(only_programs, [hidden_only], evaluator, CodeDpoSettings(codes=2, tests_from="task"))


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="codes"):
        CodeDpoSettings(codes=1)
    with pytest.raises(ConfigError, match="tests_from"):
        CodeDpoSettings(tests_from="oracle")  # type: ignore[arg-type]
    assert "inc" in ask_for_tests(_task(), 4) and "4 test cases" in ask_for_tests(_task(), 4)


def _seq_logprob(policy, prompt: str, completion: str) -> float:
    import torch

    ids = policy.encode(prompt) + policy.encode(completion) + [policy.tokenizer.eos_token_id]
    n_prompt = len(policy.encode(prompt))
    with torch.no_grad():
        logits = policy.model(input_ids=torch.tensor([ids])).logits[0, :-1].float()
    lp = torch.log_softmax(logits, -1).gather(-1, torch.tensor(ids[1:]).unsqueeze(-1)).squeeze(-1)
    return float(lp[n_prompt - 1:].sum())


@pytest.mark.train
def test_dpo_raises_the_chosen_over_the_rejected_on_the_policys_own_tokens(code_model_dir, tmp_path):
    import torch

    from codeeval_rl.preference.dpo import DPO_INFO_FILE, DpoTrainSettings, tokenize_pairs, train_dpo
    from codeeval_rl.rl.policy import LLMAdapter

    torch.set_num_threads(1)
    prompt = 'def plus(x):\n    """Return x plus 7."""\n'
    rows = [{"task_id": "t", "prompt": prompt, "chosen": "    return x + 7\n", "rejected": "    return x - 7\n",
             "kind": "correctness"}] * 8
    policy = LLMAdapter(str(code_model_dir), device="cpu")
    encoded, long = tokenize_pairs(policy, rows, 1024)
    assert long == 0 and encoded[0]["prompt_ids"] == policy.encode(prompt)
    assert encoded[0]["chosen_ids"] == policy.encode("    return x + 7\n") + [policy.tokenizer.eos_token_id]
    assert tokenize_pairs(policy, rows, 5) == ([], 8)
    before = _seq_logprob(policy, prompt, rows[0]["chosen"]) - _seq_logprob(policy, prompt, rows[0]["rejected"])
    result = train_dpo(rows, policy, tmp_path / "dpo", DpoTrainSettings(learning_rate=1e-3, epochs=2, batch_size=4,
                                                                        rpo_alpha=0.5), progress=False)
    after = _seq_logprob(policy, prompt, rows[0]["chosen"]) - _seq_logprob(policy, prompt, rows[0]["rejected"])
    assert after > before + 1.0
    assert result.pairs == 8 and result.kinds == {"correctness": 8}
    info = json.loads((tmp_path / "dpo" / DPO_INFO_FILE).read_text())
    assert info["settings"]["rpo_alpha"] == 0.5
    reloaded = LLMAdapter(str(tmp_path / "dpo"), device="cpu")
    assert _seq_logprob(reloaded, prompt, rows[0]["chosen"]) == pytest.approx(
        _seq_logprob(policy, prompt, rows[0]["chosen"]), abs=1e-4)
    with pytest.raises(InputError, match="no pairs of kind efficiency"):
        train_dpo(rows, policy, tmp_path / "x", DpoTrainSettings(kinds=("efficiency",)), progress=False)


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT, check=False)


def test_dpo_commands_name_bad_input(tmp_path, task_file):
    bad = tmp_path / "pairs.jsonl"
    bad.write_text(json.dumps({"task_id": "t", "prompt": "p", "chosen": "a", "rejected": "b",
                               "chosen_score": "high"}) + "\n")
    p = _cli("dpo", "train", "--pairs", str(bad), "--model", str(tmp_path), "--output", str(tmp_path / "o"),
             timeout=60)
    assert p.returncode == 2 and "line 1: chosen_score: must be a number" in p.stderr
    p = _cli("dpo", "pairs", "--model", str(tmp_path / "none"), "--dataset", str(task_file), "--output",
             str(tmp_path / "d.jsonl"), "--tests-from", "oracle", timeout=60)
    assert p.returncode == 2 and "--tests-from 'oracle'" in p.stderr


@pytest.mark.train
@pytest.mark.slow
def test_dpo_pairs_then_dpo_train_end_to_end(code_model_dir, task_file, tmp_path, full_run):
    out = tmp_path / "dpo.jsonl"
    p = _cli("dpo", "pairs", "--model", str(code_model_dir), "--dataset", str(task_file), "--codes",
             "15" if full_run else "6", "--tests-from", "both", "--test-samples", "1", "--max-new-tokens", "24",
             "--test-max-new-tokens", "32", "--output", str(out), "--seed", "4", "--json")
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary["pairs"] == len(rows) > 0 and summary["tasks"] == 12
    assert summary["verification"]["tasks_with_truth"] == 12
    assert json.loads((tmp_path / "dpo.report.json").read_text()) == summary
    assert all(r["kind"] in ("correctness", "efficiency") and r["chosen"] != r["rejected"] for r in rows)
    model_dir = tmp_path / "dpo_model"
    p = _cli("dpo", "train", "--pairs", str(out), "--model", str(code_model_dir), "--output", str(model_dir),
             "--learning-rate", "1e-4", "--rpo-alpha", "1.0", "--batch-size", "4", "--json")
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout[p.stdout.index("{\n"):])
    assert result["pairs"] == len(rows) and result["settings"]["rpo_alpha"] == 1.0
    from transformers import AutoModelForCausalLM

    assert type(AutoModelForCausalLM.from_pretrained(str(model_dir))).__name__ == "LlamaForCausalLM"
