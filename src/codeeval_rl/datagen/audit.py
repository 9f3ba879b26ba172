"""An append-only, hash-chained audit log of dataset generation runs.

The log is JSON Lines, one record per line, written as canonical JSON (sorted keys, compact
separators, UTF-8, no NaN) followed by ``\\n``. Every record has::

    seq            0, 1, 2, ... in file order
    prev_hash      the previous record's ``hash``; GENESIS_HASH (64 zeros) for the first
    hash           SHA-256 hex of the canonical JSON of the record without ``hash``
    user, host     who ran it (the OS user name and the host name)
    time           when, UTC ISO 8601 (``2025-01-31T12:00:00.123456+00:00``)
    command        the command line or the name of the operation
    inputs_hash    a hash of the inputs (for example the source commit or tree sha256)
    output_hash    a hash of the output written (for example the SHA-256 of the Task JSONL)
    counts         a dict of counts (tasks written, dropped, findings masked ...)

plus any further keys the caller's payload carries. Because each record's hash covers the
previous hash, editing, deleting, inserting or reordering a record breaks the chain at the
first record touched, and :func:`verify_chain` names it.

What the chain does not do: it is not signed. Someone who can write the file can rewrite a
record *and recompute every hash after it*; that is caught only by comparing the last hash
with a copy kept elsewhere (``codeeval-rl datasets audit`` prints it for that purpose).
Dropping records from the end leaves a valid, shorter chain, caught the same way.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codeeval_rl.errors import InputError

__all__ = [
    "GENESIS_HASH",
    "REQUIRED_KEYS",
    "AuditRecord",
    "AuditVerdict",
    "append_record",
    "canonical_json",
    "record_hash",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record."""

_CHAIN_KEYS = ("seq", "prev_hash", "hash")
_PAYLOAD_KEYS = ("command", "inputs_hash", "output_hash", "counts")
_AUTO_KEYS = ("user", "host", "time")
REQUIRED_KEYS: tuple[str, ...] = _CHAIN_KEYS + _AUTO_KEYS + _PAYLOAD_KEYS
"""Keys every record has."""


@dataclass(frozen=True)
class AuditRecord:
    """One record of the log. ``fields`` is the whole record as written (``seq``,
    ``prev_hash`` and ``hash`` included)."""

    seq: int
    prev_hash: str
    hash: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditVerdict:
    """The result of :func:`verify_chain`.

    ``ok``: every record verifies. ``records``: how many records verified, from the first
    (all of them when ``ok``). ``first_bad``: the position (0-based, which is the ``seq`` it
    should have) of the first record that does not verify, ``None`` when ``ok`` or when the
    log is empty. ``line``: its 1-based line number. ``reason``: why, in one sentence, or
    a summary when ``ok``. ``last_hash``: the hash of the last record that verified
    (GENESIS_HASH when none did).
    """

    ok: bool
    records: int
    first_bad: int | None
    reason: str
    line: int | None = None
    last_hash: str = GENESIS_HASH

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "first_bad": self.first_bad,
                "line": self.line, "reason": self.reason, "last_hash": self.last_hash}


def canonical_json(obj: Mapping[str, Any]) -> str:
    """``obj`` as canonical JSON: sorted keys, ``,``/``:`` separators, non-ASCII kept,
    no NaN or infinity (raises InputError)."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"audit record is not plain JSON: {exc}") from exc


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON (UTF-8) of ``record`` without its ``hash`` key."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _check_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise InputError(f"audit payload must be a mapping, got {type(payload).__name__}")
    bad_keys = [k for k in payload if not isinstance(k, str)]
    if bad_keys:
        raise InputError(f"audit payload keys must be strings, got {bad_keys[0]!r}")
    reserved = [k for k in _CHAIN_KEYS if k in payload]
    if reserved:
        raise InputError(f"audit payload must not set {', '.join(reserved)}: append_record fills them")
    missing = [k for k in _PAYLOAD_KEYS if k not in payload]
    if missing:
        raise InputError(f"audit payload lacks {', '.join(missing)}")
    for k in ("command", "inputs_hash", "output_hash"):
        if not isinstance(payload[k], str) or not payload[k].strip():
            raise InputError(f"audit payload {k} must be a non-empty string, got {payload[k]!r}")
    counts = payload["counts"]
    if not isinstance(counts, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in counts.items()
    ):
        raise InputError(f"audit payload counts must map names to integers, got {counts!r}")
    for k in _AUTO_KEYS:
        if k in payload and (not isinstance(payload[k], str) or not payload[k]):
            raise InputError(f"audit payload {k} must be a non-empty string, got {payload[k]!r}")
    out = dict(payload)
    out["counts"] = dict(counts)
    out.setdefault("user", _user())
    out.setdefault("host", socket.gethostname() or "unknown")
    out.setdefault("time", datetime.now(UTC).isoformat())
    canonical_json(out)  # refuses what JSON cannot hold exactly
    return out


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER
        return f"uid:{os.getuid()}"


def _check_record(rec: object, pos: int, prev_hash: str) -> str | None:
    """Why the record at position ``pos`` (0-based) does not verify, or None."""
    if not isinstance(rec, dict):
        return f"record {pos} is not a JSON object"
    missing = [k for k in REQUIRED_KEYS if k not in rec]
    if missing:
        return f"record {pos} lacks {', '.join(missing)}"
    seq = rec["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        return f"record {pos}: seq is not an integer ({seq!r})"
    if not _is_hex64(rec["hash"]) or not _is_hex64(rec["prev_hash"]):
        return f"record {pos}: hash and prev_hash must be 64 lowercase hex digits"
    if not isinstance(rec["counts"], dict):
        return f"record {pos}: counts is not an object"
    if record_hash(rec) != rec["hash"]:
        return f"record {pos}: hash does not match its contents"
    if seq != pos:
        return f"record {pos}: seq is {seq}, expected {pos} (a record was removed, inserted or moved)"
    if rec["prev_hash"] != prev_hash:
        if pos == 0:
            return "record 0: prev_hash is not the genesis hash (64 zeros)"
        return f"record {pos}: prev_hash does not match record {pos - 1}"
    return None


def _verify_text(text: str) -> AuditVerdict:
    if not text:
        return AuditVerdict(False, 0, None, "the log is empty: no records")
    lines = text.split("\n")
    truncated = lines[-1] != ""  # the file does not end with a newline
    if not truncated:
        lines.pop()
    prev = GENESIS_HASH
    for pos, line in enumerate(lines):
        lineno = pos + 1
        is_last = pos == len(lines) - 1

        def bad(why: str, pos: int = pos, lineno: int = lineno, prev: str = prev) -> AuditVerdict:
            return AuditVerdict(False, pos, pos, f"line {lineno}: {why}", lineno, prev)

        if not line.strip():
            return bad("is empty")
        try:
            rec = json.loads(line, parse_constant=_no_constant)
        except ValueError as exc:  # JSONDecodeError included
            if is_last and truncated:
                return bad("is truncated: the last write was cut off (no newline at the end, not complete JSON)")
            return bad(f"is not JSON ({exc})")
        why = _check_record(rec, pos, prev)
        if why:
            return bad(why)
        if is_last and truncated:
            return bad("is truncated (no newline at the end of the file)")
        prev = rec["hash"]
    n = len(lines)
    return AuditVerdict(True, n, None, f"{n} record{'s' if n != 1 else ''}, chain intact", None, prev)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def verify_chain(path: str | os.PathLike[str]) -> AuditVerdict:
    """Check the whole log at ``path``: every line is a JSON object with the required keys,
    its hash matches its contents, ``seq`` counts from 0 with no gap, ``prev_hash`` links to
    the record before, and the file ends with a newline (a missing one means the last
    write was cut off). Stops at the first record that does not verify and names it.

    A missing or unreadable file raises InputError; an empty one is a verdict with
    ``ok=False`` (every record may have been deleted).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"no audit log at {p}")
    if p.is_dir():
        raise InputError(f"{p} is a directory, not an audit log")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read audit log {p}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return AuditVerdict(False, line - 1, line - 1, f"line {line}: is not UTF-8", line)
    return _verify_text(text)


def append_record(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> AuditRecord:
    """Append one record to the log at ``path`` (created if missing) and return it.

    ``payload`` must hold ``command``, ``inputs_hash``, ``output_hash`` (non-empty strings)
    and ``counts`` (a mapping of names to integers); ``user``, ``host`` and ``time`` are
    filled from the OS and the clock unless given; any other JSON keys are kept. It must not
    hold ``seq``, ``prev_hash`` or ``hash``.

    Safe against concurrent writers: the file is opened with O_APPEND and held under an
    exclusive ``fcntl.flock`` while the existing log is verified, the next record computed
    and written with one ``write``, and fsynced. The whole log is verified on each append
    (linear in its size, fine for a log of runs); if it does not verify, nothing is
    written and InputError names the first bad line. Advisory locking: a writer that does
    not take the lock (an editor) is not kept out, but its damage is caught by the next
    append or :func:`verify_chain`.
    """
    body = _check_payload(payload)
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p} is a directory, not an audit log")
    created = not p.exists()
    try:
        fd = os.open(p, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"cannot open audit log {p}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        chunks = []
        offset = 0
        while chunk := os.pread(fd, 1 << 20, offset):
            chunks.append(chunk)
            offset += len(chunk)
        data = b"".join(chunks)
        seq, prev = 0, GENESIS_HASH
        if data:
            try:
                verdict = _verify_text(data.decode("utf-8"))
            except UnicodeDecodeError as exc:
                line = data[: exc.start].count(b"\n") + 1
                raise InputError(f"audit log {p} is corrupt at line {line}: not UTF-8; not appending") from exc
            if not verdict.ok:
                raise InputError(f"audit log {p} does not verify ({verdict.reason}); not appending to a broken chain")
            seq, prev = verdict.records, verdict.last_hash
        record = {**body, "seq": seq, "prev_hash": prev}
        record["hash"] = record_hash(record)
        line_bytes = (canonical_json(record) + "\n").encode("utf-8")
        view = memoryview(line_bytes)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        raise InputError(f"cannot write audit log {p}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)  # closing releases the lock
    if created:
        _fsync_dir(p.parent)
    return AuditRecord(seq=seq, prev_hash=prev, hash=record["hash"], fields=record)


def _fsync_dir(directory: Path) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
