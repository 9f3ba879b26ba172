"""Runtime profiles end to end: the Task format's ``runtime``, ``--profile`` on the commands,
the compatibility check of references, how ``missing_dependency`` counts, and the built
``python-datascience`` profile (``import numpy`` runs there and is missing in ``python-stdlib``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeeval_rl.data.taskfile import task_from_dict, task_to_dict
from codeeval_rl.errors import DatasetError, InputError
from codeeval_rl.evaluation.execution import execution_score, is_judged
from codeeval_rl.evaluation.rewards import neutral_rewards
from codeeval_rl.sandbox import Limits, Program, Sandbox, Status
from codeeval_rl.sandbox import profiles as P


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def _task(**kw: object) -> dict[str, object]:
    base = {"id": "t1", "language": "python", "prompt": "p", "entry_point": "f",
            "tests": [{"id": "a", "kind": "assert", "code": "assert f() == 3"}],
            "reference_solution": "def f():\n    return 3\n"}
    base.update(kw)
    return base


def test_the_task_format_has_an_optional_runtime() -> None:
    task = task_from_dict(_task(runtime="python-datascience"))
    assert task.runtime == "python-datascience" and task_to_dict(task)["runtime"] == "python-datascience"
    assert "runtime" not in task_to_dict(task_from_dict(_task()))  # absent stays absent
    from codeeval_rl.data._records import RecordError

    for bad, message in (("python-gpu", "is not one of"), ("node", "is a javascript profile")):
        with pytest.raises((RecordError, DatasetError, InputError), match=message):
            task_from_dict(_task(runtime=bad))


def test_missing_dependency_samples_are_unjudged_unless_asked() -> None:
    assert not is_judged("missing_dependency") and is_judged("missing_dependency", True)
    assert is_judged("runtime_error") and execution_score("missing_dependency") == execution_score("runtime_error")
    # task A: two judged (1, 0) and one missing -> the mean of the judged, 0.5 (zero advantage)
    # task B: only missing -> 0 for all (equal rewards, zero advantage)
    got = neutral_rewards([1.0, 0.0, 0.9, 0.3, 0.6], ["A", "A", "A", "B", "B"],
                          ["passed", "wrong_answer", "missing_dependency", "missing_dependency", "missing_dependency"])
    assert got == [1.0, 0.0, 0.5, 0.0, 0.0]
    mean_a = sum(got[:3]) / 3
    assert abs(got[2] - mean_a) < 1e-12  # GRPO's advantage of the missing sample is 0
    assert neutral_rewards([0.9], ["A"], ["missing_dependency"], missing_dependency_fails=True) == [0.9]
    with pytest.raises(InputError):
        neutral_rewards([1.0], [], [])


def test_runtime_for() -> None:
    assert P.runtime_for("", "python", "python-datascience") == "python-datascience"
    assert P.runtime_for("", "javascript", "python-datascience") == ""  # not that language's profile
    assert P.runtime_for("java", "java", "python-datascience") == "java"


def test_bad_profiles_are_one_line_errors(tmp_path: Path) -> None:
    env = {"CODEEVAL_RL_PROFILES": str(tmp_path)}
    src = tmp_path / "a.py"
    src.write_text("print(1)\n")
    r = cli("run", "--profile", "python-gpu", str(src), env=env)
    assert r.returncode == 2 and "unknown runtime profile 'python-gpu'" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = cli("run", "--profile", "node", str(src), env=env)
    assert r.returncode == 2 and "codeeval-rl sandbox build-env node" in r.stderr, r.stderr
    r = cli("sandbox", "build-env", "python-stdlib", env=env)
    assert r.returncode == 2 and "nothing to build" in r.stderr
    r = cli("sandbox", "profiles", "--json", env=env)
    assert r.returncode == 0 and {row["name"] for row in json.loads(r.stdout)} == set(P.PROFILES)


@pytest.fixture(scope="module")
def datascience() -> Path:
    """The built python-datascience profile in the default profiles directory, built once
    (wheels from PyPI, about 360 MB installed) and reused by later runs."""
    root = P.default_profiles_dir()
    try:
        P.load_profile("python-datascience", root)
    except InputError:
        P.build_profile("python-datascience", root)
    return root


@pytest.mark.slow
def test_numpy_runs_in_datascience_and_is_missing_in_stdlib(datascience: Path, full_run: bool) -> None:
    src = "import numpy as np\nprint(int(np.arange(5).sum()))\n"
    limits = Limits(wall_time_s=60, memory_mb=512)
    with Sandbox(workers=1, yield_after_s=None, profiles_dir=datascience) as sb:
        ds = sb.run(Program("python", src, runtime="python-datascience"), limits)
        std = sb.run(Program("python", src, runtime="python-stdlib"), limits)
        assert ds.status is Status.OK and ds.stdout == "10\n", ds
        assert std.status is Status.MISSING_DEPENDENCY and std.missing == ("numpy",), std
        if full_run:
            stack = ("import pandas as pd, scipy.stats, sklearn.linear_model as lm\n"
                     "print(pd.Series([1, 2]).sum(), round(float(scipy.stats.norm.cdf(0)), 2),"
                     " lm.LinearRegression().fit([[0], [1]], [0, 2]).coef_.round(3)[0])\n")
            r = sb.run(Program("python", stack, runtime="python-datascience"), limits)
            assert r.status is Status.OK and r.stdout == "3 0.5 2.0\n", r


@pytest.mark.slow
def test_evaluate_checks_references_in_their_profile_and_leaves_failures_out(datascience: Path, tmp_path: Path) -> None:
    tasks = [
        _task(id="ds", runtime="python-datascience", prompt="sum with numpy",
              reference_solution="import numpy as np\ndef f():\n    return int(np.array([1, 2]).sum())\n"),
        _task(id="std-needs-numpy", runtime="python-stdlib",
              reference_solution="import numpy as np\ndef f():\n    return int(np.array([1, 2]).sum())\n"),
        _task(id="plain", reference_solution="def f():\n    return 3\n"),
    ]
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    samples = [{"task_id": "ds", "completion": "import numpy\ndef f():\n    return int(numpy.int64(3))\n"},
               {"task_id": "std-needs-numpy", "completion": "def f():\n    return 3\n"},
               {"task_id": "plain", "completion": "import scipy\ndef f():\n    return 3\n"},
               {"task_id": "plain", "completion": "def f():\n    return 3\n"}]
    (tmp_path / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    out = tmp_path / "results.json"
    r = cli("evaluate", "--dataset", str(tmp_path / "tasks.jsonl"), "--samples", str(tmp_path / "samples.jsonl"),
            "--output", str(out), "--k", "1", "--json", env={"CODEEVAL_RL_PROFILES": str(datascience)})
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(out.read_text())["summary"]
    left_out = {row["task_id"]: row for row in summary["incompatible_tasks"]}
    assert set(left_out) == {"std-needs-numpy"}, left_out
    assert left_out["std-needs-numpy"]["outcome"] == "missing_dependency" and "numpy" in left_out["std-needs-numpy"]["reason"]
    assert summary["num_tasks"] == 2  # ds and plain
    assert summary["missing_dependency"] == {"samples": 1, "counted_as_failed": False}
    assert summary["pass_at_k"]["pass@1"] == 1.0  # the scipy sample is unjudged, not failed
    records = {(s["task_id"], s["completion"][:6]): s for s in json.loads(out.read_text())["samples"]}
    assert records[("plain", "import")]["outcome"] == "missing_dependency"
    assert records[("ds", "import")]["passed"]


def test_node_profile_shares_its_node_modules(tmp_path: Path) -> None:
    import shutil

    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    P.build_profile("node", tmp_path)  # a few packages from the npm registry, scripts not run
    src = "const _ = require('lodash');\nconsole.log(_.sum([1, 2, 3]));\n"
    limits = Limits(wall_time_s=20, memory_mb=256)
    with Sandbox(workers=1, yield_after_s=None, profiles_dir=tmp_path) as sb:
        with_node = sb.run(Program("javascript", src, runtime="node"), limits)
        bare = sb.run(Program("javascript", src), limits)
    assert with_node.status is Status.OK and with_node.stdout == "6\n", with_node
    assert bare.status is Status.MISSING_DEPENDENCY and bare.missing == ("lodash",), bare
