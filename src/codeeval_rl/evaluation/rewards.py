"""From the five levels to one :class:`~codeeval_rl.types.Reward`.

Components are always the five names of :data:`LEVELS`, each in [0, 1]. ``shaping`` picks one
function from :data:`SHAPERS` (chosen once, never compared as a string elsewhere)::

    binary   total = 1 if every test passed else 0           (DeepCoder, RLEF's final reward, in [0, 1])
    partial  total = tests                                    (veRL's fraction-passed partial credit)
    graded   total = sum(w_l * c_l) / sum(w_l)                (the YAML weights; normalised, so in [0, 1])

Weights: ``syntax_weight``, ``execution_weight``, ``test_case_weight``, ``quality_weight``,
``efficiency_weight``. With ``quality_requires_pass`` (the default) quality and efficiency
are 0 unless every test passed: polished or fast wrong code earns nothing from them (a
guard against reward hacking). :func:`needed_levels` says which levels can change the total,
so the evaluator skips the others (their components are then 0).

Unjudged samples (``missing_dependency``: the runtime profile lacks a package) are neither
rewarded nor punished: :func:`neutral_rewards` gives each the mean reward of the judged
samples of its task in the batch, so its advantage is 0 under GRPO's group mean and RLOO's
leave-one-out baseline (and all samples of a task get 0 when none is judged: equal rewards,
zero advantage). With ``missing_dependency_fails`` they keep their reward, which scores a
missing package like a runtime error.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import ConfigError, InputError
from codeeval_rl.types import Reward

__all__ = [
    "LEVELS",
    "SHAPERS",
    "level_weights",
    "make_reward",
    "needed_levels",
    "neutral_rewards",
    "shape_binary",
    "shape_graded",
    "shape_partial",
]

LEVELS: tuple[str, ...] = ("syntax", "execution", "tests", "quality", "efficiency")

Shaper = Callable[[Mapping[str, float], bool, Mapping[str, float]], float]


def level_weights(settings: EvaluationSettings) -> dict[str, float]:
    """The YAML weights by level name."""
    return {
        "syntax": settings.syntax_weight,
        "execution": settings.execution_weight,
        "tests": settings.test_case_weight,
        "quality": settings.quality_weight,
        "efficiency": settings.efficiency_weight,
    }


def shape_binary(components: Mapping[str, float], passed: bool, weights: Mapping[str, float]) -> float:
    """1 when every test passed, else 0."""
    return 1.0 if passed else 0.0


def shape_partial(components: Mapping[str, float], passed: bool, weights: Mapping[str, float]) -> float:
    """The (weighted) fraction of tests passed."""
    return float(components["tests"])


def shape_graded(components: Mapping[str, float], passed: bool, weights: Mapping[str, float]) -> float:
    """Weighted mean of the five components."""
    total_weight = sum(weights.values())
    if total_weight <= 0:
        raise ConfigError("evaluation weights sum to 0: graded shaping needs at least one positive weight")
    return sum(weights[name] * components[name] for name in LEVELS) / total_weight


SHAPERS: dict[str, Shaper] = {"binary": shape_binary, "partial": shape_partial, "graded": shape_graded}
"""``EvaluationSettings.shaping`` -> shaping function."""

_LEVELS_USED: dict[str, frozenset[str]] = {
    "binary": frozenset({"syntax", "execution", "tests"}),
    "partial": frozenset({"syntax", "execution", "tests"}),
    "graded": frozenset(LEVELS),
}


def needed_levels(settings: EvaluationSettings) -> frozenset[str]:
    """Levels worth computing: syntax, execution and tests always (they are cheap and are
    reported); quality and efficiency only under graded shaping with a positive weight."""
    weights = level_weights(settings)
    used = _LEVELS_USED[settings.shaping]
    return frozenset(n for n in LEVELS if n in {"syntax", "execution", "tests"} or (n in used and weights[n] > 0))


def make_reward(components: Mapping[str, float], passed: bool, settings: EvaluationSettings) -> Reward:
    """Apply ``quality_requires_pass`` and the shaping function; components keep their names."""
    missing = [n for n in LEVELS if n not in components]
    if missing:
        raise InputError(f"reward components missing: {', '.join(missing)}")
    comps = {n: float(components[n]) for n in LEVELS}
    for name, value in comps.items():
        if not 0.0 <= value <= 1.0:
            raise InputError(f"reward component {name} = {value} is outside [0, 1]")
    if settings.quality_requires_pass and not passed:
        comps["quality"] = 0.0
        comps["efficiency"] = 0.0
    total = SHAPERS[settings.shaping](comps, passed, level_weights(settings))
    return Reward(total=float(total), components=comps)


def neutral_rewards(rewards: Sequence[float], groups: Sequence[Hashable], outcomes: Sequence[str],
                    missing_dependency_fails: bool = False) -> list[float]:
    """``rewards`` with each unjudged sample's (see
    :data:`~codeeval_rl.evaluation.execution.UNJUDGED_OUTCOMES`) replaced by the mean reward of
    the judged samples of the same group (``groups[i]``: its task), or 0 when its group has
    none. Unchanged with ``missing_dependency_fails``. Raises :class:`InputError` when the three
    sequences differ in length."""
    from codeeval_rl.evaluation.execution import is_judged

    if not len(rewards) == len(groups) == len(outcomes):
        raise InputError(f"neutral_rewards: {len(rewards)} rewards, {len(groups)} groups, {len(outcomes)} outcomes")
    judged: dict[Hashable, list[float]] = {}
    for r, g, o in zip(rewards, groups, outcomes):
        if is_judged(o, missing_dependency_fails):
            judged.setdefault(g, []).append(float(r))
    out = []
    for r, g, o in zip(rewards, groups, outcomes):
        if is_judged(o, missing_dependency_fails):
            out.append(float(r))
        else:
            same = judged.get(g, [])
            out.append(sum(same) / len(same) if same else 0.0)
    return out
