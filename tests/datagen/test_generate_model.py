"""``datasets generate --endpoint`` and ``--model``: a model writes the question and extra
asserts (AceCoder's shape); its asserts pass the same oracle check as every other test."""

from __future__ import annotations

import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codeeval_rl.data import read_tasks

CLI = [str(Path(sys.executable).parent / "codeeval-rl")]
SOURCE = '''
def initials(name: str) -> str:
    """The upper-case initials of the words of ``name``."""
    return "".join(word[0].upper() for word in name.split() if word)
'''
QUESTION = "Given a full name, return the first letter of each word, upper-cased, joined together."
GOOD = ["assert initials('ada lovelace') == 'AL'", "assert initials('grace brewster hopper') == 'GBH'",
        "assert initials('') == ''"]
WRONG = ["assert initials('alan turing') == 'at'"]


class _StandIn(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint: questions for `initials`, solutions otherwise."""

    requests: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        text = body["messages"][-1]["content"]
        if "programming problem" in text or "test cases" in text:
            content = json.dumps({"question": QUESTION, "tests": GOOD + WRONG})
        else:  # a tiering sample: a correct solution
            content = "```python\n" + SOURCE.strip() + "\n```"
        n = body.get("n", 1)
        reply = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                 "choices": [{"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                             for i in range(n)]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def endpoint():
    _StandIn.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "names.py").write_text(SOURCE)
    return src


def test_endpoint_writes_the_question_and_its_asserts_are_oracle_checked(tmp_path, endpoint):
    out = tmp_path / "t.jsonl"
    res = __import__("subprocess").run(
        [*CLI, "datasets", "generate", str(_tree(tmp_path)), "--output", str(out), "--endpoint", endpoint,
         "--endpoint-model", "stand-in", "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    (task,) = read_tasks(out)
    assert QUESTION in task.prompt
    codes = "\n".join(t.code for t in task.tests)
    assert "'GBH'" in codes  # a model assert the original passes is kept
    assert "'at'" not in codes  # the one it fails is dropped
    assert re.fullmatch(r"stand-in@http://127\.0\.0\.1:\d+\S* prompt:[0-9a-f]{12}", task.provenance["generator"])
    assert task.tier == "easy"  # the stand-in's samples all pass the hidden tests
    first = _StandIn.requests[0]
    assert first["model"] == "stand-in" and "initials" in first["messages"][-1]["content"]
    summary = json.loads(res.stdout)
    tests_stage = next(s for s in summary["stages"] if s["stage"] == "tests")
    assert any("original fails" in r for r in tests_stage["reasons"])


@pytest.mark.train
def test_a_tiny_local_model_runs_the_model_path(tmp_path):
    pytest.importorskip("transformers")
    import torch

    from codeeval_rl.rl.tiny import build_tiny_model, train_tokenizer

    torch.set_num_threads(1)
    tok = train_tokenizer([SOURCE, QUESTION, *GOOD] * 4, vocab_size=300)
    model = build_tiny_model(len(tok), hidden=32, layers=1, heads=2, intermediate=64, max_positions=4096,
                             pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    model_dir = tmp_path / "tiny"
    model.save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    from codeeval_rl.datagen.pipeline import GenerateSettings, generate
    from codeeval_rl.datagen.question import ModelQuestionWriter

    writer = ModelQuestionWriter.from_model(model_dir, max_new_tokens=24)
    result = generate(_tree(tmp_path), GenerateSettings(tier_samples=2), writer=writer)
    (task,) = result.tasks  # a random model writes no usable question: the original's docstring is used
    assert task.provenance["generator"].startswith(f"{model_dir} prompt:")
    assert task.tier == "hard"  # its samples pass nothing
    assert "upper-case initials" in task.prompt
