"""Run untrusted programs fast, isolated and limited. See :mod:`codeeval_rl.sandbox.sandbox`
for the threat model."""

from codeeval_rl.sandbox.fake import FakeSandbox
from codeeval_rl.sandbox.languages import LANGUAGES, Language, get_language
from codeeval_rl.sandbox.sandbox import Sandbox, classify
from codeeval_rl.types import ExecutionResult, Limits, Program, Status

__all__ = [
    "LANGUAGES",
    "ExecutionResult",
    "FakeSandbox",
    "Language",
    "Limits",
    "Program",
    "Sandbox",
    "Status",
    "classify",
    "get_language",
]
