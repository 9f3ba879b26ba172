"""The evaluation engine: candidate code in, per-test verdicts and a shaped reward out.

::

    ev = Evaluator(settings="configs/eval_config.yaml", sandbox=Sandbox())
    res = ev.evaluate(task, code, tests="hidden")          # EvaluationResult
    results = ev.evaluate_many([(task, code), ...])       # one sandbox batch, input order

Levels (each a module whose docstring holds its formula): :mod:`.syntax`, :mod:`.execution`,
:mod:`.testscore`, :mod:`.quality`, :mod:`.efficiency`; :mod:`.rewards` combines them;
:mod:`.judge` and its harness give the trusted per-test verdicts; :mod:`.extract` turns
completions into code; :mod:`.metrics` holds pass@k and n@k.
"""

from codeeval_rl.evaluation.evaluator import EvaluationResult, Evaluator, select_tests
from codeeval_rl.evaluation.extract import completion_to_code, extract_code
from codeeval_rl.evaluation.metrics import mean_pass_at_k, n_at_k, pass_at_k
from codeeval_rl.evaluation.rewards import LEVELS, make_reward

__all__ = [
    "LEVELS",
    "EvaluationResult",
    "Evaluator",
    "completion_to_code",
    "extract_code",
    "make_reward",
    "mean_pass_at_k",
    "n_at_k",
    "pass_at_k",
    "select_tests",
]
