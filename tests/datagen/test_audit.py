"""The hash-chained audit log (codeeval_rl.datagen.audit) and ``codeeval-rl datasets audit``."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codeeval_rl.cli import app, main
from codeeval_rl.datagen.audit import (
    GENESIS_HASH,
    REQUIRED_KEYS,
    append_record,
    canonical_json,
    record_hash,
    verify_chain,
)
from codeeval_rl.errors import InputError


def _payload(i: int) -> dict[str, object]:
    return {
        "command": f"codeeval-rl datasets generate src/ --out run{i}.jsonl",
        "inputs_hash": hashlib.sha256(f"in{i}".encode()).hexdigest(),
        "output_hash": hashlib.sha256(f"out{i}".encode()).hexdigest(),
        "counts": {"tasks": 10 + i, "dropped": i, "findings": 2 * i},
    }


def _chain(path: Path, n: int = 5) -> list[str]:
    for i in range(n):
        append_record(path, _payload(i))
    return path.read_text().splitlines()


def _write(path: Path, lines: list[str], newline: bool = True) -> None:
    path.write_text("\n".join(lines) + ("\n" if newline else ""))


def _rehash(rec: dict[str, object]) -> dict[str, object]:
    rec = dict(rec)
    rec["hash"] = record_hash(rec)
    return rec


def test_a_chain_of_records_verifies(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    records = [append_record(log, _payload(i)) for i in range(5)]
    assert [r.seq for r in records] == [0, 1, 2, 3, 4]
    assert records[0].prev_hash == GENESIS_HASH
    assert all(records[i].prev_hash == records[i - 1].hash for i in range(1, 5))
    verdict = verify_chain(log)
    assert verdict.ok and verdict.records == 5 and verdict.first_bad is None
    assert verdict.last_hash == records[-1].hash


def test_records_hold_the_payload_who_and_when_and_a_correct_hash(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    rec = append_record(log, {**_payload(0), "tool_version": "0.1.0"})
    line = log.read_text().splitlines()[0]
    stored = json.loads(line)
    assert set(REQUIRED_KEYS) <= set(stored) and stored["tool_version"] == "0.1.0"
    assert stored["counts"] == {"tasks": 10, "dropped": 0, "findings": 0}
    assert stored["user"] and stored["host"]
    assert stored["time"].endswith("+00:00") and "T" in stored["time"]
    assert line == canonical_json(stored)  # written canonically
    body = {k: v for k, v in stored.items() if k != "hash"}
    expected = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")).hexdigest()
    assert stored["hash"] == expected == rec.hash


@pytest.mark.parametrize("k", [0, 2, 4])
def test_tampering_with_one_field_names_that_record(tmp_path: Path, k: int) -> None:
    log = tmp_path / "audit.jsonl"
    lines = _chain(log)
    rec = json.loads(lines[k])
    rec["counts"]["tasks"] += 1
    lines[k] = canonical_json(rec)
    _write(log, lines)
    verdict = verify_chain(log)
    assert not verdict.ok
    assert verdict.first_bad == k and verdict.line == k + 1 and verdict.records == k
    assert "hash does not match its contents" in verdict.reason


def test_a_rewritten_record_with_a_fresh_hash_breaks_the_next_link(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    lines = _chain(log)
    rec = json.loads(lines[2])
    rec["command"] = "something else"
    lines[2] = canonical_json(_rehash(rec))
    _write(log, lines)
    verdict = verify_chain(log)
    assert (verdict.ok, verdict.first_bad) == (False, 3)
    assert "prev_hash does not match record 2" in verdict.reason


def test_deleting_a_record_is_caught_where_it_was(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    lines = _chain(log)
    _write(log, lines[:2] + lines[3:])
    verdict = verify_chain(log)
    assert (verdict.ok, verdict.first_bad) == (False, 2)
    assert "seq is 3, expected 2" in verdict.reason


def test_reordering_records_is_caught(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    lines = _chain(log)
    lines[1], lines[3] = lines[3], lines[1]
    _write(log, lines)
    verdict = verify_chain(log)
    assert (verdict.ok, verdict.first_bad) == (False, 1)


def test_editing_prev_hash_is_caught_with_or_without_a_fresh_hash(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    lines = _chain(log)
    rec = json.loads(lines[3])
    rec["prev_hash"] = "f" * 64
    _write(log, [*lines[:3], canonical_json(rec), *lines[4:]])
    assert verify_chain(log).first_bad == 3
    assert "hash does not match" in verify_chain(log).reason
    _write(log, [*lines[:3], canonical_json(_rehash(rec)), *lines[4:]])
    verdict = verify_chain(log)
    assert verdict.first_bad == 3 and "prev_hash does not match record 2" in verdict.reason
    first = _rehash({**json.loads(lines[0]), "prev_hash": "1" * 64})
    _write(log, [canonical_json(first), *lines[1:]])
    assert verify_chain(log).first_bad == 0 and "genesis" in verify_chain(log).reason


def test_a_truncated_last_line_is_reported(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    lines = _chain(log)
    _write(log, [*lines[:4], lines[4][: len(lines[4]) // 2]], newline=False)
    verdict = verify_chain(log)
    assert (verdict.ok, verdict.first_bad, verdict.line) == (False, 4, 5)
    assert "truncated" in verdict.reason
    # cut exactly before the final newline: the record is whole, the write was not
    _write(log, lines, newline=False)
    verdict = verify_chain(log)
    assert (verdict.ok, verdict.first_bad) == (False, 4) and "truncated" in verdict.reason


@pytest.mark.parametrize(("bad", "why"), [
    ("not json at all", "line 3: is not JSON"),
    ("", "line 3: is empty"),
    ("[1, 2]", "not a JSON object"),
    ('{"seq": 2}', "lacks"),
])
def test_a_bad_line_in_the_middle_is_named(tmp_path: Path, bad: str, why: str) -> None:
    log = tmp_path / "audit.jsonl"
    lines = _chain(log)
    lines[2] = bad
    _write(log, lines)
    verdict = verify_chain(log)
    assert (verdict.ok, verdict.first_bad, verdict.line) == (False, 2, 3)
    assert why in verdict.reason


def test_empty_and_missing_logs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no audit log"):
        verify_chain(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    verdict = verify_chain(empty)
    assert not verdict.ok and verdict.records == 0 and "empty" in verdict.reason
    append_record(empty, _payload(0))  # an empty file starts a chain
    assert verify_chain(empty).ok


def test_append_refuses_to_extend_a_broken_chain(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    lines = _chain(log, 3)
    lines[1] = lines[1].replace('"tasks":11', '"tasks":99')
    _write(log, lines)
    before = log.read_bytes()
    with pytest.raises(InputError, match="line 2"):
        append_record(log, _payload(9))
    assert log.read_bytes() == before


@pytest.mark.parametrize(("payload", "why"), [
    ({"command": "x", "inputs_hash": "a", "output_hash": "b"}, "lacks counts"),
    ({**_payload(0), "seq": 3}, "must not set seq"),
    ({**_payload(0), "hash": "0" * 64}, "must not set hash"),
    ({**_payload(0), "command": ""}, "command"),
    ({**_payload(0), "counts": {"tasks": 1.5}}, "counts"),
    ({**_payload(0), "counts": {"tasks": True}}, "counts"),
    ({**_payload(0), "extra": float("nan")}, "JSON"),
    ({**_payload(0), "extra": object()}, "JSON"),
    ("not a mapping", "mapping"),
])
def test_append_validates_its_payload(tmp_path: Path, payload: object, why: str) -> None:
    log = tmp_path / "audit.jsonl"
    with pytest.raises(InputError, match=why):
        append_record(log, payload)  # type: ignore[arg-type]
    assert not log.exists() or log.read_text() == ""


def _append_many(path: str, worker: int, n: int) -> None:
    for i in range(n):
        append_record(path, {**_payload(i), "worker": worker})


def test_concurrent_appends_from_four_processes_keep_the_chain(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    procs = [ctx.Process(target=_append_many, args=(str(log), w, 8)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    verdict = verify_chain(log)
    assert verdict.ok and verdict.records == 32
    workers = [json.loads(line)["worker"] for line in log.read_text().splitlines()]
    assert sorted(workers) == sorted(w for w in range(4) for _ in range(8))


# ------------------------------------------------------------------------------------- CLI


def test_cli_exits_0_on_an_intact_log(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _chain(log, 3)
    last = json.loads(log.read_text().splitlines()[-1])["hash"]
    result = CliRunner().invoke(app, ["datasets", "audit", str(log)])
    assert result.exit_code == 0, result.output
    assert "3 records" in result.output and last in result.output
    result = CliRunner().invoke(app, ["datasets", "audit", str(log), "--json"])
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["ok"] is True and data["records"] == 3 and data["last_hash"] == last


def test_cli_exits_1_naming_the_first_bad_record(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    lines = _chain(log, 4)
    lines[2] = lines[2].replace('"dropped":2', '"dropped":0')
    _write(log, lines)
    result = CliRunner().invoke(app, ["datasets", "audit", str(log)])
    assert result.exit_code == 1
    assert "record 2" in result.output and "hash does not match" in result.output
    result = CliRunner().invoke(app, ["datasets", "audit", str(log), "--json"])
    data = json.loads(result.output)
    assert result.exit_code == 1 and data["ok"] is False and data["first_bad"] == 2 and data["line"] == 3


def test_cli_missing_log_is_a_one_line_error_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.jsonl"
    monkeypatch.setattr(sys, "argv", ["codeeval-rl", "datasets", "audit", str(missing)])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no audit log" in err and "Traceback" not in err
