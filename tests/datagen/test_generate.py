"""``datasets generate`` end to end: verified tasks from a real library and from a corpus with
planted secrets, through the CLI as users run it (shortened in CI with ``--limit``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codeeval_rl.data import read_tasks
from codeeval_rl.datagen.pipeline import GenerateSettings, generate
from codeeval_rl.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures"
SECRETS_CORPUS = FIXTURES / "pysecrets"
PLANTED = ("Xq8-s3cr3t-P4ss", "ghp_4TnR8sVq2LmZx7KpW9cYb3HdJf6GuQe1AoXy", "AKIAQ4EXAMPLE7ZPLK3M",
           "help-desk@acme-corp.io", "platform-team@acme-corp.io", "support@acme-corp.io", "34.201.17.92",
           "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun")
PROVENANCE_KEYS = {"source", "path", "lines", "licence", "generator", "tests_kept", "tests_dropped",
                   "mutation_score"}
CLI = [str(Path(sys.executable).parent / "codeeval-rl")]


def _inflection_dir() -> Path:
    inflection = pytest.importorskip("inflection")
    return Path(inflection.__file__).parent


def _fenced(task) -> str:
    return f"```python\n{task.reference_solution}```"


@pytest.fixture(scope="module")
def secrets_run(sandbox):
    return generate(SECRETS_CORPUS, GenerateSettings(), sandbox=sandbox)


def test_planted_secrets_never_reach_a_task(secrets_run):
    text = json.dumps([t.__dict__ for t in secrets_run.tasks], default=lambda o: getattr(o, "__dict__", str(o)))
    for secret in PLANTED:
        assert secret not in text
    assert secrets_run.masked["acme/clients.py"].keys() >= {"key", "email", "ip", "password"}
    summary = json.dumps(secrets_run.to_dict())
    assert not any(secret in summary for secret in PLANTED)


def test_masked_tasks_still_pass_with_their_references(secrets_run, sandbox):
    from codeeval_rl.evaluation import Evaluator

    by_name = {t.entry_point: t for t in secrets_run.tasks}
    # tasks whose tests or reference carried a secret were masked, and kept
    assert "<KEY>" in by_name["auth_header"].reference_solution
    assert any("<KEY>" in t.code for t in by_name["auth_header"].tests)
    assert "<EMAIL>" in by_name["contact_line"].reference_solution
    with Evaluator(sandbox=sandbox) as ev:
        results = ev.evaluate_many([(t, ev.completion_to_code(t, _fenced(t))) for t in secrets_run.tasks], tests="all")
    assert all(r.passed for r in results), [(r.task_id, r.feedback) for r in results if not r.passed]
    # a function whose behaviour depends on the secret is dropped, never written unmasked
    assert "key_fingerprint" not in by_name
    check = next(s for s in secrets_run.stages if s.stage == "check")
    assert ("the masked reference fails its tests", 1) in check.reasons


def test_bad_files_and_impure_functions_are_named_not_fatal(secrets_run):
    assert dict(secrets_run.skipped_files)["acme/broken.py"].startswith("does not parse")
    functions = next(s for s in secrets_run.stages if s.stage == "functions")
    assert functions.dropped >= 1  # read_config opens a file


def test_tasks_have_provenance_public_tests_and_valid_format(secrets_run, tmp_path):
    from codeeval_rl.data import write_tasks

    assert secrets_run.tasks
    for task in secrets_run.tasks:
        keys = set(task.provenance)
        assert keys - {"commit", "sha256"} == PROVENANCE_KEYS and len(keys & {"commit", "sha256"}) == 1
        assert task.provenance["licence"] == "MIT"
        assert task.provenance["generator"] == "oracle"
        assert task.provenance["path"].startswith("acme/")
        assert float(task.provenance["mutation_score"]) >= 0.8
        assert int(task.provenance["tests_kept"]) == len(task.tests) >= 5
        assert 1 <= len(task.public_test_ids) <= 3
        assert task.prompt.rstrip().endswith('"""') or task.prompt.rstrip().endswith("'''")
    out = tmp_path / "t.jsonl"
    write_tasks(out, secrets_run.tasks)
    assert [t.id for t in read_tasks(out)] == [t.id for t in secrets_run.tasks]


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="mutation_target"):
        GenerateSettings(mutation_target=1.5)
    with pytest.raises(ConfigError, match="language"):
        GenerateSettings(language="cobol")


def _generate_cli(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "datasets", "generate", str(src), "--output", str(out), *extra],
                          capture_output=True, text=True, timeout=600)


def test_cli_on_a_real_library_is_verified_deterministic_and_audited(tmp_path, full_run):
    """inflection's source from its PyPI package. CI: the first 4 tasks; CODEEVAL_FULL=1: all."""
    src = _inflection_dir()
    limit = [] if full_run else ["--limit", "4"]
    a, b, log = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "audit.jsonl"
    first = _generate_cli(src, a, "--audit-log", str(log), *limit)
    assert first.returncode == 0, first.stderr
    assert "tasks written" in first.stdout
    second = _generate_cli(src, b, "--audit-log", str(log), "--json", *limit)
    assert second.returncode == 0, second.stderr
    assert a.read_bytes() == b.read_bytes()  # same tree, settings and seed: same tasks
    summary = json.loads(second.stdout)
    tasks = read_tasks(a)
    assert len(tasks) == summary["tasks"] >= (4 if not full_run else 10)
    assert summary["mutants"]["score"] >= 0.8
    validate = subprocess.run([*CLI, "datasets", "validate", str(a)], capture_output=True, text=True)
    assert validate.returncode == 0, validate.stdout
    # evaluate uses the file at once: references sent as a model sends them all pass
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t.id, "completion": _fenced(t)}) + "\n" for t in tasks))
    res = subprocess.run([*CLI, "evaluate", "--dataset", str(a), "--samples", str(samples), "--output",
                          str(tmp_path / "r.json"), "--k", "1", "--json"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["pass_at_k"]["pass@1"] == pytest.approx(1.0)
    audit = subprocess.run([*CLI, "datasets", "audit", str(log)], capture_output=True, text=True)
    assert audit.returncode == 0 and "2 records" in audit.stdout


def test_cli_reports_bad_arguments_in_one_line(tmp_path):
    res = _generate_cli(tmp_path / "missing", tmp_path / "o.jsonl")
    assert res.returncode == 2 and "no such file or directory" in res.stderr and "Traceback" not in res.stderr
    res = _generate_cli(SECRETS_CORPUS, tmp_path / "o.txt")
    assert res.returncode == 2 and ".jsonl" in res.stderr


def test_cli_javascript_project_gives_verified_tasks_with_shared_provenance(tmp_path):
    out = tmp_path / "js.jsonl"
    res = _generate_cli(FIXTURES / "jsproject", out, "--language", "javascript", "--limit", "3", "--json")
    assert res.returncode == 0, res.stderr
    tasks = read_tasks(out)
    assert len(tasks) == 3 and all(t.language == "javascript" for t in tasks)
    for task in tasks:
        keys = set(task.provenance)
        assert keys - {"commit", "sha256"} == PROVENANCE_KEYS
        assert float(task.provenance["mutation_score"]) >= 0.8
    samples = tmp_path / "s.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t.id, "completion": f"```javascript\n{t.reference_solution}```"})
                               + "\n" for t in tasks))
    ev = subprocess.run([*CLI, "evaluate", "--dataset", str(out), "--samples", str(samples), "--output",
                         str(tmp_path / "r.json"), "--k", "1", "--json"], capture_output=True, text=True, timeout=600)
    assert ev.returncode == 0, ev.stderr
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["pass_at_k"]["pass@1"] == pytest.approx(1.0)
    summary = json.loads(res.stdout)
    assert any(f["path"] == "src/broken.js" for f in summary["skipped_files"])
    bad = _generate_cli(FIXTURES / "jsproject", tmp_path / "x.jsonl", "--language", "javascript",
                        "--endpoint", "http://127.0.0.1:9")
    assert bad.returncode == 2 and "JavaScript" in bad.stderr


def test_an_interrupt_keeps_the_tasks_already_checked(sandbox, monkeypatch):
    from codeeval_rl.datagen import pipeline

    real = pipeline._Runner.build
    calls = []

    def build(self, fn, *args, **kwargs):
        calls.append(fn.name)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(self, fn, *args, **kwargs)

    monkeypatch.setattr(pipeline._Runner, "build", build)
    result = generate(SECRETS_CORPUS, GenerateSettings(), sandbox=sandbox)
    assert result.interrupted and len(calls) == 4
    assert 1 <= len(result.tasks) <= 3
    assert {t.entry_point for t in result.tasks} <= set(calls[:3])


def test_one_function_that_breaks_a_stage_does_not_end_the_run(sandbox, monkeypatch):
    from codeeval_rl.datagen import pipeline

    real = pipeline._Runner.build

    def build(self, fn, *args, **kwargs):
        if fn.name == "contact_line":
            raise RuntimeError("boom")
        return real(self, fn, *args, **kwargs)

    monkeypatch.setattr(pipeline._Runner, "build", build)
    result = generate(SECRETS_CORPUS, GenerateSettings(), sandbox=sandbox)
    functions = next(s for s in result.stages if s.stage == "functions")
    assert any("RuntimeError: boom" in r for r, _ in functions.reasons)
    assert result.tasks and "contact_line" not in {t.entry_point for t in result.tasks}
