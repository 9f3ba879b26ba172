"""The sandbox's adversarial tests in rootless mode, as an unprivileged user.

Run as root (as CI is): creates the user ``codeeval-rootless`` when absent, installs the
project for it the way a user would (a virtual environment from the system Python, pip from a
wheelhouse, see ``rootless_env.py``), and runs the guarantee tests and the rootless-only tests
as that user with ``runuser``. The whole of ``test_guarantees.py`` runs in both forms (it is the
point); ``CODEEVAL_FULL=1`` adds the yield, spare-worker and input tests. Skipped where we are
not root (the files it runs are then run directly, in rootless mode) or the host cannot.
"""

from __future__ import annotations

import pytest

from codeeval_rl.sandbox.mode import userns_problem
from tests.sandbox import rootless_env

pytestmark = pytest.mark.slow

SHORT = ["tests/sandbox/test_guarantees.py", "tests/sandbox/test_rootless_mode.py",
         "tests/sandbox/test_missing_dependency.py"]
FULL = ["tests/sandbox/test_yield.py", "tests/sandbox/test_spares.py", "tests/sandbox/test_inputs.py"]


def test_the_adversarial_tests_pass_as_an_unprivileged_user(full_run: bool) -> None:
    why = rootless_env.available() or userns_problem()
    if why:
        pytest.skip(why)
    done = rootless_env.run_pytest([*SHORT, *(FULL if full_run else [])], timeout=2400)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-8000:]
    assert " passed" in done.stdout and " failed" not in done.stdout, out[-4000:]
