"""Fixtures of the preference tests: a tiny code model that writes the curriculum's one-line
bodies (about a third of them wrong, as its SFT data), saved as a Hugging Face directory, and
the curriculum tasks it was trained on."""

from __future__ import annotations

from pathlib import Path

import pytest

FAMILIES = ("add", "mul", "below")


@pytest.fixture(scope="session")
def curriculum():
    from codeeval_rl.rl.curriculum import build_curriculum

    return build_curriculum(0)


@pytest.fixture(scope="session")
def small_tasks(curriculum):
    """Twelve training tasks of three families: the model's pass rates on them are mixed."""
    tasks = [t for t in curriculum.train_tasks if t.category in FAMILIES]
    return tasks[::len(tasks) // 12][:12]


@pytest.fixture(scope="session")
def code_model_dir(tmp_path_factory, curriculum) -> Path:
    """A 2-layer model after 300 SFT steps on three families (about 15 s on one thread)."""
    torch = pytest.importorskip("torch")
    from codeeval_rl.rl.policy import LLMAdapter
    from codeeval_rl.rl.sft import sft_train
    from codeeval_rl.rl.tiny import build_tiny_model, train_tokenizer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    items = [i for i in curriculum.train if i.task.category in FAMILIES]
    tok = train_tokenizer([i.task.prompt + i.body for i in curriculum.train], 400)
    model = build_tiny_model(len(tok), hidden=64, layers=2, heads=2, intermediate=128, seed=0,
                             pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    sft_train(model, tok, [(i.task.prompt, i.body) for i in items], steps=300, batch_size=32, learning_rate=3e-3,
              seed=0)
    out = tmp_path_factory.mktemp("code_model")
    LLMAdapter.from_objects(model, tok, device="cpu").save(out)
    return out


@pytest.fixture(scope="session")
def task_file(tmp_path_factory, small_tasks) -> Path:
    from codeeval_rl.data import write_tasks

    path = tmp_path_factory.mktemp("tasks") / "tasks.jsonl"
    write_tasks(path, small_tasks)
    return path
