"""Reward models: the input format is one definition for training and scoring, RM_DIR loads with
AutoModelForSequenceClassification and scores as RewardModel does, training lowers the held-out
Bradley-Terry loss, bad input is named; `rm pairs` and `rm train` end to end through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeeval_rl.errors import ConfigError, InputError
from codeeval_rl.preference.loss import bradley_terry_loss

pytestmark = pytest.mark.train
ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT, check=False)


def _toy_pairs(n: int = 48) -> list[dict]:
    """Learnable pairs: the right body adds, the wrong one subtracts."""
    return [{"task_id": f"t{i % 12}", "prompt": f"def shift(x):\n    \"\"\"Return x plus {i}.\"\"\"\n",
             "chosen": f"    return x + {i}\n", "rejected": f"    return x - {i}\n"} for i in range(n)]


def test_rm_text_is_prompt_program_eos_or_the_chat_template(code_model_dir):
    from transformers import AutoTokenizer

    from codeeval_rl.preference.reward_model import rm_input_ids, rm_text

    tok = AutoTokenizer.from_pretrained(str(code_model_dir))
    assert rm_text(tok, "def f(x):\n", "    return x\n") == "def f(x):\n    return x\n<eos>"
    assert rm_input_ids(tok, "def f(x):\n", "    return x\n")[-1] == tok.eos_token_id
    tok.chat_template = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{{ eos_token }}{% endfor %}")
    assert rm_text(tok, "Q", "A") == "<user>Q<eos><assistant>A<eos>"


def test_missing_or_unloadable_models_are_named(tmp_path):
    from codeeval_rl.preference.reward_model import RewardModel, train_reward_model

    with pytest.raises(InputError, match="model path does not exist: .*nowhere"):
        RewardModel(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="cannot load model"):
        RewardModel(tmp_path / "empty")
    with pytest.raises(InputError, match="model path does not exist"):
        train_reward_model(_toy_pairs(), str(tmp_path / "nowhere"), tmp_path / "rm")


def test_trained_rm_dir_loads_as_a_plain_classifier_and_learned_the_pairs(code_model_dir, tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from codeeval_rl.preference.reward_model import (
        INFO_FILE,
        RewardModel,
        RewardTrainSettings,
        load_sequence_classifier,
        rm_input_ids,
        split_by_task,
        train_reward_model,
    )

    torch.set_num_threads(1)
    rows = _toy_pairs()
    settings = RewardTrainSettings(epochs=3, batch_size=8, learning_rate=3e-3, eval_fraction=0.25, seed=1)
    _, held = split_by_task(rows, 0.25, 1)
    assert {r["task_id"] for r in held} and len({r["task_id"] for r in held}) == 3
    # the untrained head, initialised as training initialises it
    torch.manual_seed(1)
    model, tok = load_sequence_classifier(code_model_dir, num_labels=1)
    before = RewardModel.from_objects(model, tok)
    loss_before = bradley_terry_loss(before.score([r["prompt"] for r in held], [r["chosen"] for r in held]),
                                     before.score([r["prompt"] for r in held], [r["rejected"] for r in held]))

    result = train_reward_model(rows, str(code_model_dir), tmp_path / "rm", settings, progress=False)
    assert result.train_pairs == len(rows) - len(held) and result.heldout_pairs == len(held)
    assert result.heldout_loss < loss_before and result.heldout_accuracy > 0.5
    info = json.loads((tmp_path / "rm" / INFO_FILE).read_text())
    assert info["heldout_accuracy"] == result.heldout_accuracy and info["settings"]["learning_rate"] == 3e-3

    # another tool loads RM_DIR as it is and gets RewardModel's scores
    plain = AutoModelForSequenceClassification.from_pretrained(str(tmp_path / "rm")).eval()
    plain_tok = AutoTokenizer.from_pretrained(str(tmp_path / "rm"))
    ids = torch.tensor([rm_input_ids(plain_tok, held[0]["prompt"], held[0]["chosen"])])
    with torch.no_grad():
        direct = float(plain(input_ids=ids).logits[0, 0])
    rm = RewardModel(tmp_path / "rm", device="cpu", batch_size=3)
    scores = rm.score([r["prompt"] for r in held], [r["chosen"] for r in held])
    assert scores[0] == pytest.approx(direct, abs=1e-5)
    # batching and padding do not change a score
    one_by_one = [rm.score([r["prompt"]], [r["chosen"]])[0] for r in held]
    assert scores == pytest.approx(one_by_one, abs=1e-5)
    with pytest.raises(InputError, match="2 prompts but 1 completions"):
        rm.score(["a", "b"], ["c"])


def test_rm_train_settings_are_checked():
    from codeeval_rl.preference.reward_model import RewardTrainSettings

    with pytest.raises(ConfigError, match="eval_fraction"):
        RewardTrainSettings(eval_fraction=1.0)
    with pytest.raises(ConfigError, match="learning_rate"):
        RewardTrainSettings(learning_rate=0)


def test_rm_train_names_the_bad_line_of_a_pair_file(tmp_path):
    bad = tmp_path / "pairs.jsonl"
    bad.write_text(json.dumps(_toy_pairs(1)[0]) + "\n" + json.dumps({"task_id": "t", "prompt": "p", "chosen": "a"}) + "\n")
    p = _cli("rm", "train", "--pairs", str(bad), "--base", str(tmp_path), "--output", str(tmp_path / "rm"), timeout=60)
    assert p.returncode == 2 and "line 2: rejected: missing" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.slow
def test_rm_pairs_then_rm_train_end_to_end(code_model_dir, task_file, tmp_path, full_run):
    pairs = tmp_path / "pairs.jsonl"
    n = "16" if full_run else "8"
    p = _cli("rm", "pairs", "--model", str(code_model_dir), "--dataset", str(task_file), "--n", n,
             "--max-new-tokens", "24", "--output", str(pairs), "--seed", "1", "--json")
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    rows = [json.loads(line) for line in pairs.read_text().splitlines()]
    assert summary["pairs"] == len(rows) > 0 and summary["tasks"] == 12
    assert not (tmp_path / "pairs.jsonl.partial.jsonl").exists()
    for r in rows:
        assert r["chosen_pass_rate"] >= 0.8 and r["chosen_pass_rate"] - r["rejected_pass_rate"] >= 0.4 - 1e-9
        assert r["rejected_pass_rate"] > 0 and r["source"] == {"model": str(code_model_dir), "seed": 1}
    # the same seed samples the same programs
    again = tmp_path / "again.jsonl"
    p = _cli("rm", "pairs", "--model", str(code_model_dir), "--dataset", str(task_file), "--n", n,
             "--max-new-tokens", "24", "--output", str(again), "--seed", "1", "--json")
    assert p.returncode == 0 and again.read_text() == pairs.read_text()

    rm_dir = tmp_path / "rm"
    p = _cli("rm", "train", "--pairs", str(pairs), "--base", str(code_model_dir), "--output", str(rm_dir),
             "--learning-rate", "1e-3", "--batch-size", "8", "--eval-fraction", "0.25", "--json")
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout[p.stdout.index("{\n"):])
    assert result["train_pairs"] + result["heldout_pairs"] == len(rows)
    assert 0.0 <= result["heldout_accuracy"] <= 1.0
    assert (rm_dir / "config.json").is_file() and (rm_dir / "reward_model.json").is_file()
