"""``missing_dependency``: a package the runtime profile lacks is never the program's runtime
error, however the program (or a harness around it) handles the failed import; an invented
module still is. Runs in root and (through ``test_rootless.py``) rootless mode."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from codeeval_rl.errors import InputError
from codeeval_rl.sandbox import Limits, Program, Sandbox, Status
from codeeval_rl.sandbox import profiles as P
from codeeval_rl.sandbox.resolve import (
    distribution_for,
    known_python_imports,
    missing_from_output,
    python_imports,
    resolve_python,
)

QUICK = Limits(wall_time_s=5.0, memory_mb=256)


# ---- resolution from source ----------------------------------------------------------------
def test_imports_are_found_with_their_guards() -> None:
    src = (
        "import os, numpy.linalg as la\nfrom sklearn.svm import SVC\nfrom . import sibling\n"
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n"
        "def f():\n    return __import__('yaml')\n"
        "import importlib\nimportlib.import_module('cv2.dnn')\n"
    )
    refs = {(r.name, r.guarded) for r in python_imports(src)}
    assert refs == {("os", False), ("numpy", False), ("sklearn", False), ("ujson", True), ("json", False),
                    ("yaml", False), ("importlib", False), ("cv2", False)}
    assert python_imports("def broken(:\n") == []


def test_resolution_sorts_stdlib_provided_missing_and_unknown() -> None:
    src = "import os, numpy, sklearn, yaml, PIL, my_helper, totally_made_up_pkg\n"
    res = resolve_python(src, provided={"numpy"}, local={"my_helper"})
    assert res.stdlib == ("os",)
    assert res.provided == ("my_helper", "numpy")
    assert res.missing == ("pillow", "pyyaml", "scikit-learn")  # PEP 503 names from the table
    assert res.unknown == ("totally_made_up_pkg",)


def test_the_table_names_distributions_in_three_languages() -> None:
    assert distribution_for("sklearn") == "scikit-learn" and distribution_for("numpy") == "numpy"
    assert distribution_for("os") is None and distribution_for("not_a_real_module_xyz") is None
    assert {"numpy", "pandas", "sklearn", "cv2"} <= known_python_imports()
    assert not {"os", "json", "sys"} & known_python_imports()
    assert distribution_for("lodash/fp", "javascript") == "lodash"
    assert distribution_for("com.google.common.collect", "java") == "guava"
    assert missing_from_output("javascript", "Error: Cannot find module 'lodash'\nRequire stack:") == ("lodash",)
    assert missing_from_output("javascript", "Error: Cannot find module './mine'") == ()
    assert missing_from_output("java", "Main.java:1: error: package org.apache.commons.lang3 does not exist") \
        == ("commons-lang3",)


def test_the_pipreqs_table_ships_with_its_licence() -> None:
    here = Path(P.__file__).parent
    assert "Apache License" in (here / "LICENSE.pipreqs.txt").read_text()
    assert "pipreqs" in (here / "import_names.json").read_text()[:600]


# ---- profiles: bad input ---------------------------------------------------------------------
def test_unknown_and_unbuilt_profiles_say_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown runtime profile 'python-gpu'; known: python-stdlib"):
        P.get_profile("python-gpu")
    with pytest.raises(InputError, match="not built.*codeeval-rl sandbox build-env python-datascience"):
        P.load_profile("python-datascience", tmp_path)
    with pytest.raises(InputError, match="not built"):
        Sandbox(workers=1, profile="node", profiles_dir=tmp_path)
    assert P.load_profile("python-stdlib", tmp_path).python_paths() == []
    rows = {r["name"]: r for r in P.list_profiles(tmp_path)}
    assert rows["python-stdlib"]["built"] and not rows["python-datascience"]["built"]


# ---- in the sandbox ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory):
    with Sandbox(workers=2, profiles_dir=tmp_path_factory.mktemp("profiles")) as box:
        yield box


def test_a_missing_package_is_its_own_status(sb: Sandbox) -> None:
    r = sb.run(Program("python", "import numpy as np\nprint(np.zeros(3))"), QUICK)
    assert r.status is Status.MISSING_DEPENDENCY, r
    assert r.missing == ("numpy",) and "numpy" in r.reason
    assert r.to_dict()["missing"] == ["numpy"] and r.to_dict()["status"] == "missing_dependency"
    sk = sb.run(Program("python", "from sklearn.linear_model import LinearRegression"), QUICK)
    assert sk.status is Status.MISSING_DEPENDENCY and sk.missing == ("scikit-learn",)


def test_swallowing_the_import_error_does_not_hide_it(sb: Sandbox) -> None:
    # A harness runs the solution inside try/except; the solution's own import is not guarded.
    src = ("try:\n    exec(compile('import pandas\\nprint(1)', 'solution.py', 'exec'), {})\n"
           "except BaseException as e:\n    print('harness caught', type(e).__name__)\nprint('harness done')\n")
    r = sb.run(Program("python", src), QUICK)
    assert r.status is Status.MISSING_DEPENDENCY and r.missing == ("pandas",), r
    assert "harness" not in r.stdout


def test_an_optional_import_with_a_fallback_runs(sb: Sandbox) -> None:
    src = "try:\n    import numpy\nexcept ImportError:\n    numpy = None\nprint('fallback', numpy)\n"
    r = sb.run(Program("python", src), QUICK)
    assert r.status is Status.OK and r.stdout == "fallback None\n" and r.missing == (), r
    # ...but a fallback that gives up is the missing package's fault, not the program's
    fail = sb.run(Program("python", "try:\n    import scipy\nexcept ImportError:\n    raise SystemExit('no scipy')\n"),
                  QUICK)
    assert fail.status is Status.MISSING_DEPENDENCY and fail.missing == ("scipy",), fail


def test_an_invented_module_is_the_programs_own_error(sb: Sandbox) -> None:
    r = sb.run(Program("python", "import totally_made_up_pkg"), QUICK)
    assert r.status is Status.RUNTIME_ERROR and "ModuleNotFoundError" in r.stderr and r.missing == ()
    own = sb.run(Program("python", "import helper\nprint(helper.X)", files={"helper.py": "X = 7"}), QUICK)
    assert own.stdout == "7\n"  # the program's own modules are found first


def test_javascript_missing_package(sb: Sandbox) -> None:
    r = sb.run(Program("javascript", "const _ = require('lodash');\nconsole.log(_.sum([1, 2]));"), QUICK)
    assert r.status is Status.MISSING_DEPENDENCY and r.missing == ("lodash",), r
    own = sb.run(Program("javascript", "require('./nope');"), QUICK)
    assert own.status is Status.RUNTIME_ERROR


def test_a_runtime_for_another_language_is_bad_input(sb: Sandbox) -> None:
    with pytest.raises(InputError, match="is for javascript programs"):
        sb.run(Program("python", "print(1)", runtime="node"), QUICK)
    [bad] = sb.run_many([Program("python", "print(1)", runtime="no-such-profile")], QUICK)
    assert bad.status is Status.SANDBOX_ERROR and "unknown runtime profile" in bad.reason


def _wheel(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A minimal pure-Python wheel, written by hand."""
    dist = f"{name}-{version}.dist-info"
    entries = dict(files)
    entries[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    entries[f"{dist}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, text in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    entries[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    out = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w") as z:
        for path, text in entries.items():
            z.writestr(path, text)
    return out


def test_resolve_adds_missing_packages_from_a_local_wheel_cache(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "tabulate", "9.9.9", {"tabulate/__init__.py": "def tabulate(rows):\n    return 'TABLE %d' % len(rows)\n"})
    program = Program("python", "from tabulate import tabulate\nprint(tabulate([[1], [2]]))")
    with Sandbox(workers=1, yield_after_s=None, profiles_dir=tmp_path / "profiles", resolve=wheels) as box:
        r = box.run(program, QUICK)
        again = box.run(program, QUICK)  # the overlay is built once and reused
        not_cached = box.run(Program("python", "import numpy"), QUICK)
    assert r.status is Status.OK and r.stdout == "TABLE 2\n", r
    assert again.stdout == "TABLE 2\n"
    assert len(list((tmp_path / "profiles" / ".overlays").iterdir())) == 1
    assert not_cached.status is Status.MISSING_DEPENDENCY and not_cached.missing == ("numpy",)
    with Sandbox(workers=1, yield_after_s=None, profiles_dir=tmp_path / "elsewhere") as box:
        assert box.run(program, QUICK).status is Status.MISSING_DEPENDENCY  # only when allowed


def test_java_profile_jars_are_on_the_class_path(tmp_path: Path) -> None:
    if not (P.DEBIAN_JARS / "commons-lang3.jar").exists():
        pytest.skip("Debian's libcommons-lang3-java is not installed")
    src = ("import org.apache.commons.lang3.StringUtils;\npublic class Main { public static void main(String[] a) {"
           " System.out.println(StringUtils.reverse(\"abc\")); } }")
    P.build_profile("java", tmp_path)
    limits = Limits(wall_time_s=20, memory_mb=256)
    with Sandbox(workers=1, yield_after_s=None, profiles_dir=tmp_path) as box:
        bare = box.run(Program("java", src), limits)
        with_jars = box.run(Program("java", src, runtime="java"), limits)
    assert bare.status is Status.MISSING_DEPENDENCY and bare.missing == ("commons-lang3",), bare
    assert with_jars.status is Status.OK and with_jars.stdout == "cba\n", with_jars


def test_the_evaluators_assert_harness_reports_the_missing_package(sb: Sandbox) -> None:
    # The harness runs the solution inside its own try and forbids frame inspection: the
    # missing import must still end the run as missing_dependency, for every test.
    from codeeval_rl.evaluation import Evaluator
    from codeeval_rl.types import Task, TestCase

    task = Task(id="t", language="python", prompt="p", entry_point="f",
                tests=(TestCase(kind="assert", code="assert f() == 3", id="a"),
                       TestCase(kind="assert", code="assert f() != 4", id="b")))
    with Evaluator(sandbox=sb) as ev:
        needs = ev.evaluate(task, "import numpy as np\ndef f():\n    return 3\n", tests="all")
        plain = ev.evaluate(task, "def f():\n    return 3\n", tests="all")
    assert needs.outcome == "missing_dependency" and not needs.passed, needs
    assert all(r.execution.status is Status.MISSING_DEPENDENCY for r in needs.test_results)
    assert plain.passed
