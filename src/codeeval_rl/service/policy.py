"""Roles -> scopes, from a small YAML policy file (``policy.yaml`` beside this module is the
default: ``admin`` everything, ``evaluator`` run, reward, evaluate and its own jobs, ``reader``
datasets and its own jobs).

A route needs one scope (:data:`SCOPES` lists them); a key's role grants a set of scopes, or
``"*"`` for all. A policy naming an unknown scope is a :class:`ConfigError`, so a typo never
silently grants or withholds access.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codeeval_rl.errors import ConfigError

__all__ = ["DEFAULT_POLICY", "SCOPES", "Policy", "load_policy"]

DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")

SCOPES = ("run", "reward", "evaluate", "jobs", "jobs:all", "datasets", "audit", "metrics")
"""Every scope a route can need."""


@dataclass(frozen=True)
class Policy:
    """``roles``: role name -> the scopes it grants (``"*"`` expanded to all)."""

    roles: Mapping[str, frozenset[str]]

    def allows(self, role: str, scope: str) -> bool:
        return scope in self.roles.get(role, frozenset())


def load_policy(path: str | os.PathLike[str] | None = None) -> Policy:
    """Read a policy file (default: :data:`DEFAULT_POLICY`)."""
    import yaml

    p = Path(path) if path is not None else DEFAULT_POLICY
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read policy file {p}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"policy file {p} is not valid YAML: {exc}") from None
    roles = data.get("roles") if isinstance(data, dict) else None
    if not isinstance(roles, dict) or not roles:
        raise ConfigError(f"policy file {p} needs a 'roles' mapping of role -> list of scopes")
    out: dict[str, frozenset[str]] = {}
    for role, scopes in roles.items():
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ConfigError(f"policy file {p}: roles.{role} must be a list of scopes")
        unknown = sorted(set(scopes) - set(SCOPES) - {"*"})
        if unknown:
            raise ConfigError(f"policy file {p}: roles.{role} names unknown scope(s) {', '.join(unknown)}; "
                              f"scopes: {', '.join(SCOPES)} or '*'")
        out[str(role)] = frozenset(SCOPES) if "*" in scopes else frozenset(scopes)
    return Policy(out)
