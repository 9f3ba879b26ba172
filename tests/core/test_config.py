"""Settings: the shipped YAML files load; wrong values name the key and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeeval_rl.config import (
    EvaluationSettings, SandboxSettings, load_evaluation_settings, load_sandbox_settings, load_yaml,
)
from codeeval_rl.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_configs_load_and_match_the_design_example() -> None:
    ev = load_evaluation_settings(ROOT / "configs" / "eval_config.yaml")
    assert (ev.syntax_weight, ev.execution_weight, ev.test_case_weight, ev.quality_weight,
            ev.efficiency_weight) == (0.2, 0.3, 0.3, 0.1, 0.1)
    assert ev.test_timeout == 5 and ev.memory_limit == 512
    assert ev.code_quality.enable_pep8 and ev.code_quality.max_complexity == 10 and ev.code_quality.security_checks
    sb = load_sandbox_settings(ROOT / "configs" / "sandbox_config.yaml")
    assert sb == SandboxSettings()
    # the copies shipped inside the package are the same files
    pkg = ROOT / "src" / "codeeval_rl" / "configs"
    for name in ("eval_config.yaml", "sandbox_config.yaml"):
        assert (pkg / name).read_text() == (ROOT / "configs" / name).read_text()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("evaluation:\n  test_timeout: -1\n", "evaluation.test_timeout = -1"),
        ("evaluation:\n  syntax_weight: heavy\n", "evaluation.syntax_weight = 'heavy'"),
        ("evaluation:\n  code_quality:\n    max_complexity: 0\n", "evaluation.code_quality.max_complexity = 0"),
        ("evaluation:\n  typo_weight: 1\n", "evaluation.typo_weight: unknown key"),
        ("evaluation:\n  shaping: sparse\n", "evaluation.shaping = 'sparse'"),
        ("evaluation: [1, 2]\n", "must be a mapping"),
    ],
)
def test_bad_values_name_key_and_value(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "eval.yaml"
    p.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_evaluation_settings(p)
    assert message in str(err.value)
    assert str(p) in str(err.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_yaml(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("evaluation: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(bad)


def test_flat_and_combined_files(tmp_path: Path) -> None:
    flat = tmp_path / "flat.yaml"
    flat.write_text("memory_mb: 256\nworkers: 3\n")
    assert load_sandbox_settings(flat).workers == 3
    combined = tmp_path / "all.yaml"
    combined.write_text("train:\n  steps: 3\nevaluation:\n  quality_weight: 0\n")
    assert load_sandbox_settings(combined) == SandboxSettings()
    assert load_evaluation_settings(combined).quality_weight == 0
    assert load_evaluation_settings(None) == EvaluationSettings()


def test_sandbox_overrides_are_validated() -> None:
    from codeeval_rl.sandbox import Sandbox

    with pytest.raises(ConfigError, match="sandbox.memory_mb = 1"):
        Sandbox(memory_mb=1)
    with pytest.raises(ConfigError, match="sandbox.wokers: unknown key"):
        Sandbox(wokers=2)
