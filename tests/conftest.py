"""Shared fixtures. The real sandbox starts once per session (its workers are warm)."""

from __future__ import annotations

import os

import pytest

FULL = os.environ.get("CODEEVAL_FULL") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Slow tests run in a shortened form unless CODEEVAL_FULL=1; they read `full_run`.
    pass


@pytest.fixture(scope="session")
def full_run() -> bool:
    """True when the long forms of slow tests should run (CODEEVAL_FULL=1)."""
    return FULL


@pytest.fixture(scope="session")
def sandbox():
    """A real, shared :class:`~codeeval_rl.sandbox.Sandbox` with two workers."""
    from codeeval_rl.sandbox import Sandbox

    sb = Sandbox(workers=2)
    yield sb
    sb.close()
