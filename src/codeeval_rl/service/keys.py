"""API keys: created once, stored only as a salted hash, checked in microseconds.

A key reads ``cek_<id>_<secret>``: ``id`` (12 hex digits) names the record in the keys file,
``secret`` (64 hex digits, 256 random bits) is checked against ``sha256(salt + secret)``. A
slow password hash would add milliseconds to every request for nothing: the secret is
random, not a password, so a fast hash of it cannot be brute-forced. The file never holds a
key, only its hash, so reading the file does not give access.

The keys file is JSON (``{"version": 1, "keys": [...]}``), written atomically (a temporary
file renamed over it) with mode 0600. Revoked keys stay in the file with ``revoked_at``, so
the audit log's key names keep meaning something. A running server re-reads the file when
its modification time changes (checked at most once a second), so ``keys revoke`` takes
effect within a second without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from codeeval_rl.errors import ConfigError, InputError

__all__ = [
    "DEFAULT_KEYS_FILE",
    "KeyRecord",
    "KeyRing",
    "create_key",
    "default_keys_file",
    "load_keys",
    "revoke_key",
    "save_keys",
]

DEFAULT_KEYS_FILE = os.path.join("~", ".config", "codeeval-rl", "keys.json")
"""Where ``serve`` and ``keys`` look when no ``--keys-file`` is given (``$CODEEVAL_KEYS_FILE`` overrides it)."""

_PREFIX = "cek"
_KEY = re.compile(r"^cek_([0-9a-f]{12})_([0-9a-f]{64})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def _digest(salt: str, secret: str) -> str:
    """``sha256(salt + secret)`` as the keys file stores it (``salt`` in hex)."""
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def default_keys_file() -> Path:
    return Path(os.environ.get("CODEEVAL_KEYS_FILE") or DEFAULT_KEYS_FILE).expanduser()


@dataclass(frozen=True)
class KeyRecord:
    """One key as the file holds it. ``rate`` (requests per second) and ``max_concurrent``
    (requests in flight) are ``None`` for the server's defaults."""

    id: str
    name: str
    role: str
    salt: str
    hash: str
    created_at: float
    rate: float | None = None
    max_concurrent: int | None = None
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(_digest(self.salt, secret), self.hash)

    def public(self) -> dict[str, Any]:
        """What ``keys list`` shows: everything but the salt and the hash."""
        return {"name": self.name, "id": self.id, "role": self.role, "rate": self.rate,
                "max_concurrent": self.max_concurrent, "created_at": self.created_at,
                "revoked_at": self.revoked_at}


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise InputError(f"key name {name!r} must be 1-64 characters: letters, digits, '.', '_', '@', '-' "
                         "(starting with a letter or digit)")


def load_keys(path: str | os.PathLike[str]) -> list[KeyRecord]:
    """The records of a keys file; ``[]`` when it does not exist. :class:`ConfigError` names
    the file and the problem when it is not a keys file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"cannot read keys file {p}: {exc.strerror}") from None
    try:
        data = json.loads(text)
        raw = data["keys"]
        if not isinstance(raw, list):
            raise TypeError("'keys' is not a list")
        return [KeyRecord(**rec) for rec in raw]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"keys file {p} is not a CodeEval RL keys file ({exc})") from None


def save_keys(path: str | os.PathLike[str], records: Iterable[KeyRecord]) -> None:
    """Write the records atomically, readable by the owner only."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"version": 1, "keys": [asdict(r) for r in records]}, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_key(path: str | os.PathLike[str], name: str, role: str, *, rate: float | None = None,
               max_concurrent: int | None = None, roles: Iterable[str] | None = None) -> tuple[str, KeyRecord]:
    """Add a key named ``name`` and return ``(key, record)``; the key is never stored.
    Refuses a name an active key already has, a role not in ``roles``, and limits below 1."""
    _check_name(name)
    if roles is not None and role not in set(roles):
        raise InputError(f"unknown role {role!r}; roles: {', '.join(sorted(roles))}")
    if rate is not None and not rate > 0:
        raise InputError(f"--rate must be > 0 requests per second, got {rate}")
    if max_concurrent is not None and max_concurrent < 1:
        raise InputError(f"--max-concurrent must be >= 1, got {max_concurrent}")
    records = load_keys(path)
    if any(r.name == name and r.active for r in records):
        raise InputError(f"an active key named {name!r} exists; revoke it first or choose another name")
    key_id = secrets.token_hex(6)
    secret = secrets.token_hex(32)
    salt = secrets.token_hex(16)
    record = KeyRecord(id=key_id, name=name, role=role, salt=salt,
                       hash=_digest(salt, secret),
                       created_at=time.time(), rate=rate, max_concurrent=max_concurrent)
    save_keys(path, [*records, record])
    return f"{_PREFIX}_{key_id}_{secret}", record


def revoke_key(path: str | os.PathLike[str], name: str) -> KeyRecord:
    """Mark the active key called ``name`` revoked; :class:`InputError` when there is none."""
    records = load_keys(path)
    for i, r in enumerate(records):
        if r.name == name and r.active:
            records[i] = replace(r, revoked_at=time.time())
            save_keys(path, records)
            return records[i]
    known = ", ".join(sorted({r.name for r in records if r.active})) or "none"
    raise InputError(f"no active key named {name!r} in {path} (active keys: {known})")


class KeyRing:
    """The active keys of a file, for a server: :meth:`lookup` finds the record of a presented
    key or ``None``. Re-reads the file when it changes (see the module docstring); a file that
    becomes unreadable keeps the last good keys and the error is kept in :attr:`error`.
    Thread-safe."""

    def __init__(self, path: str | os.PathLike[str] | None, *, records: Iterable[KeyRecord] | None = None,
                 check_every_s: float = 1.0) -> None:
        self.path = Path(path) if path is not None else None
        self.error = ""
        self._check_every = check_every_s
        self._lock = threading.Lock()
        self._by_id: dict[str, KeyRecord] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        if records is not None:
            self._by_id = {r.id: r for r in records if r.active}
        else:
            self._reload(force=True)

    def __len__(self) -> int:
        return len(self._by_id)

    def _reload(self, force: bool = False) -> None:
        if self.path is None:
            return
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp == self._stamp and not force:
            return
        try:
            records = load_keys(self.path)
        except ConfigError as exc:
            if force:
                raise
            self.error = str(exc)
            return
        self._by_id = {r.id: r for r in records if r.active}
        self._stamp = stamp
        self.error = ""

    def lookup(self, key: str) -> KeyRecord | None:
        """The active record of ``key``, or ``None`` for a malformed, unknown or revoked key."""
        now = time.monotonic()
        if self.path is not None and now - self._checked >= self._check_every:
            with self._lock:
                if now - self._checked >= self._check_every:
                    self._checked = now
                    self._reload()
        m = _KEY.match(key)
        if m is None:
            return None
        record = self._by_id.get(m.group(1))
        if record is None or not record.matches(m.group(2)):
            return None
        return record

    def names(self) -> Mapping[str, str]:
        """Active key names -> roles."""
        return {r.name: r.role for r in self._by_id.values()}
