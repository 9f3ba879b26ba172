"""The offline quickstart: a tiny LM from scratch, SFT on noisy solutions, GRPO from execution
rewards, measured on two held-out sets (see :mod:`.pipeline`).

- :mod:`.pipeline`: the stages, top to bottom (:func:`run_quickstart`, the plans);
- :mod:`.heldout`: one held-out evaluation (sampled and greedy pass@1) and its run-store record;
- :mod:`.page`: ``report.html`` from what ``report.json`` holds.

Importing this package does not import torch; :func:`run_quickstart` does.
"""

from __future__ import annotations

from codeeval_rl.apps.quickstart.heldout import HeldoutResult
from codeeval_rl.apps.quickstart.page import render_html
from codeeval_rl.apps.quickstart.pipeline import FULL_PLAN, QUICK_PLAN, QuickstartPlan, run_quickstart

__all__ = ["FULL_PLAN", "QUICK_PLAN", "HeldoutResult", "QuickstartPlan", "render_html", "run_quickstart"]
