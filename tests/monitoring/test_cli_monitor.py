"""codeeval-rl runs / report / errors / compare through the real entry point (exit codes, messages)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from codeeval_rl.cli import main
from codeeval_rl.monitoring import STORE_FILENAME, RunStore

from .synthetic import make_run


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["codeeval-rl", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "160")
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def quickstart_dir(tmp_path: Path) -> Path:
    """An output directory as the quickstart leaves it: one store file with one run."""
    out = tmp_path / "quickstart"
    out.mkdir()
    make_run(RunStore(out), name="quickstart", steps=3, tasks=12, samples=2)
    return out


def test_commands_work_on_a_quickstart_output_directory(quickstart_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    code, out, err = _cli(monkeypatch, capsys, "report", quickstart_dir, "--output", tmp_path / "r.html")
    assert code == 0, err
    assert "wrote" in out and (tmp_path / "r.html").stat().st_size > 10_000
    code, out, err = _cli(monkeypatch, capsys, "errors", quickstart_dir, "--json", "--top", "3")
    data = json.loads(out)
    assert code == 0 and data["failures"] > 0 and len(data["patterns"]) == 3
    assert data["patterns"][0]["count"] >= data["patterns"][1]["count"]
    assert sum(data["kinds"].values()) == data["failures"]
    code, out, err = _cli(monkeypatch, capsys, "errors", quickstart_dir)
    assert code == 0 and "error patterns" in out and "failures by kind" in out
    code, out, err = _cli(monkeypatch, capsys, "compare", quickstart_dir, quickstart_dir, "--json")
    data = json.loads(out)
    assert code == 0 and data["tests"]["pass_rate"]["p_value"] == 1.0
    assert data["summary"][0].startswith("No significant difference in pass rate")


def test_compare_two_runs_by_name(tmp_path: Path, monkeypatch, capsys) -> None:
    db = tmp_path / "runs.db"
    store = RunStore(db)
    make_run(store, name="base", steps=1, tasks=40, samples=4, seed=1, kind="eval")
    make_run(store, name="better", steps=1, tasks=40, samples=4, seed=2, skill=0.5, kind="eval")
    code, out, _err = _cli(monkeypatch, capsys, "compare", "base", "better", "--store", db, "--json",
                          "--permutations", "2000", "--bootstrap", "2000")
    data = json.loads(out)
    t = data["tests"]["pass_rate"]
    assert code == 0 and t["n"] == 40 and t["diff"] > 0.3 and t["significant"] and t["p_value"] < 0.01
    code, out, _err = _cli(monkeypatch, capsys, "compare", "base", "better", "--store", db)
    assert code == 0 and "better's pass rate is" in out and "significant at alpha = 0.05" in out
    code, out, _err = _cli(monkeypatch, capsys, "runs", "--store", db, "--json")
    assert [r["name"] for r in json.loads(out)] == ["base", "better"]


def test_bad_input_gets_a_clear_message_and_exit_2(tmp_path: Path, quickstart_dir: Path, monkeypatch, capsys) -> None:
    code, _, err = _cli(monkeypatch, capsys, "report", "x", "--store", tmp_path / "none.db")
    assert code == 2 and "no run store at" in err and "none.db" in err
    assert not (tmp_path / "none.db").exists()
    code, _, err = _cli(monkeypatch, capsys, "errors", "ghost", "--store", quickstart_dir)
    assert code == 2 and "no run 'ghost'" in err and "quickstart" in err
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"garbage" * 1000)
    code, _, err = _cli(monkeypatch, capsys, "errors", "--store", bad)
    assert code == 2 and "corrupt" in err
    assert bad.read_bytes() == b"garbage" * 1000
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    code, _, err = _cli(monkeypatch, capsys, "report", empty_dir)
    assert code == 2 and STORE_FILENAME in err


def test_running_and_empty_runs(tmp_path: Path, monkeypatch, capsys) -> None:
    db = tmp_path / "runs.db"
    store = RunStore(db)
    store.start_run("train", "nothing-yet", {})
    code, _, err = _cli(monkeypatch, capsys, "report", "nothing-yet", "--store", db, "-o", tmp_path / "r.html")
    assert code == 2 and "has no rollouts or metrics yet" in err and "still running" in err
    assert not (tmp_path / "r.html").exists()
    make_run(store, name="live", steps=2, tasks=6, finish=False)
    code, _out, err = _cli(monkeypatch, capsys, "report", "live", "--store", db, "-o", tmp_path / "r.html")
    assert code == 0 and "note:" in err and "still running" in err and (tmp_path / "r.html").exists()


def test_a_directory_with_another_store_file_name_and_several_runs(tmp_path: Path, monkeypatch, capsys) -> None:
    """The quickstart writes runs.sqlite with an eval before, a training and an eval after."""
    out = tmp_path / "qs"
    out.mkdir()
    store = RunStore(out / "runs.sqlite")
    make_run(store, name="eval-before", steps=1, tasks=24, samples=2, seed=1, kind="eval")
    make_run(store, name="train", steps=3, tasks=12, samples=2, seed=2)
    make_run(store, name="eval-after", steps=1, tasks=24, samples=2, seed=3, skill=0.3, kind="eval")
    code, out_text, err = _cli(monkeypatch, capsys, "errors", out, "--json")
    assert code == 0 and "holds 3 runs; using the latest, eval-after" in err.replace("\n", " ")
    assert json.loads(out_text)["run"] == store.get_run("eval-after").id
    code, out_text, err = _cli(monkeypatch, capsys, "compare", "eval-before", "eval-after", "--store", out,
                               "--json")
    assert code == 0, err
    assert json.loads(out_text)["tests"]["pass_rate"]["n"] == 24


def test_report_on_a_directory_opens_its_training_run(tmp_path: Path, monkeypatch, capsys) -> None:
    """The quickstart logs held-out evaluations after its training run; the report shows the training."""
    out = tmp_path / "qs"
    out.mkdir()
    store = RunStore(out)
    make_run(store, name="heldout-sft", steps=1, tasks=8, samples=2, seed=1, kind="eval")
    make_run(store, name="grpo-tiny", steps=3, tasks=8, samples=2, seed=2)
    make_run(store, name="heldout-rl", steps=1, tasks=8, samples=2, seed=3, kind="eval")
    code, out_text, err = _cli(monkeypatch, capsys, "report", out, "-o", tmp_path / "r.html", "--json")
    assert code == 0, err
    assert json.loads(out_text)["run"] == store.get_run("grpo-tiny").id
    err = " ".join(err.split())
    assert "holds 3 runs; reporting the latest training run, grpo-tiny" in err
    assert "(NAME: heldout-sft, heldout-rl)" in err
    assert "<h1>grpo-tiny</h1>" in (tmp_path / "r.html").read_text()
    # another run, named as the note says
    code, out_text, err = _cli(monkeypatch, capsys, "report", "heldout-rl", "--store", out, "-o",
                               tmp_path / "e.html", "--json")
    assert code == 0 and json.loads(out_text)["run"] == store.get_run("heldout-rl").id and "note" not in err
    # the other commands still mean the latest run
    code, out_text, _err = _cli(monkeypatch, capsys, "errors", out, "--json")
    assert code == 0 and json.loads(out_text)["run"] == store.get_run("heldout-rl").id


def test_report_on_a_directory_without_training_runs_opens_the_latest(tmp_path: Path, monkeypatch, capsys) -> None:
    store = RunStore(tmp_path / "runs.db")
    make_run(store, name="eval-a", steps=1, tasks=6, samples=2, seed=1, kind="eval")
    make_run(store, name="eval-b", steps=1, tasks=6, samples=2, seed=2, kind="eval")
    code, out_text, err = _cli(monkeypatch, capsys, "report", tmp_path / "runs.db", "-o", tmp_path / "r.html", "--json")
    assert code == 0 and json.loads(out_text)["run"] == store.get_run("eval-b").id
    assert "reporting the latest run, eval-b" in " ".join(err.split())
