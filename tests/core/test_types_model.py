"""The data model is the one the code uses: no public type in ``types`` is dead, and the
records its docstring names beside it exist where it says."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import codeeval_rl.types as types

SRC = Path(types.__file__).parent


def test_every_public_type_is_used_by_the_package():
    sources = {p: p.read_text() for p in SRC.rglob("*.py") if p.name != "types.py"}
    for name in types.__all__:
        users = [p for p, text in sources.items() if re.search(rf"\b{name}\b", text)]
        assert users, f"types.{name} is used nowhere in the package"


def test_the_records_named_beside_the_model_exist():
    for module, name in [("codeeval_rl.evaluation", "EvaluationResult"), ("codeeval_rl.rl.policy", "Sample"),
                         ("codeeval_rl.rl.scoring", "Score"), ("codeeval_rl.rl.loop", "Batch"),
                         ("codeeval_rl.monitoring", "RolloutRecord")]:
        assert hasattr(importlib.import_module(module), name), (module, name)
        assert name in (types.__doc__ or "")
