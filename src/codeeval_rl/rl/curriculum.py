"""The quickstart's built-in curriculum: small Python function tasks from templates.

Each family is a template with a constant ``k`` and a choice of function and argument names;
its training solutions are the right body or, with probability ``wrong_rate`` (about 30%),
a subtly wrong one (off-by-one, wrong operator, missing edge case). Tests are asserts whose
expected values come from running the right body here, on inputs that include the edge cases
each wrong variant gets wrong (checked when tasks are built: a wrong variant that passes every
test is a bug in this module and raises).

Two held-out sets, measuring two kinds of generalisation:

- ``heldout``: for each training family, constants that no training task of that family
  uses, so a model that only memorised training tasks cannot pass them;
- ``unseen``: tasks of :data:`UNSEEN_FAMILIES`, families no training task comes from (new
  operations, docstrings and function names, of the same one-line size), so they measure
  what carries over to a new kind of task rather than to a new constant.

The unseen set is drawn from its own random stream, so adding it (or changing it) leaves the
training tasks and the first held-out set of a seed exactly as they were.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codeeval_rl.errors import ConfigError
from codeeval_rl.types import Task, TestCase

__all__ = ["FAMILIES", "UNSEEN_FAMILIES", "Curriculum", "CurriculumItem", "Family", "build_curriculum", "task_code"]

Inputs = Callable[[random.Random, int], list[tuple]]


@dataclass(frozen=True)
class Family:
    """A task template. ``kind`` picks the argument name pool; ``doc``/``right``/``wrong``
    are format strings over ``{a}`` (argument name), ``{k}`` and ``{c}`` (the ``k``-th
    lowercase letter, for ``k`` in 0..25; empty otherwise)."""

    name: str
    names: tuple[str, ...]
    kind: str
    doc: str
    right: str
    wrong: tuple[str, ...]
    k_range: tuple[int, int]
    inputs: Inputs


def _ints(lo: int, hi: int) -> Inputs:
    return lambda rng, k: [(rng.randint(lo, hi),) for _ in range(3)] + [(k,), (k - 1,), (k + 1,), (0,)]


def _lists(rng: random.Random, k: int) -> list[tuple]:
    out: list[tuple] = [([],), ([k],), ([k, k + 1, k - 1],)]
    for _ in range(3):
        out.append(([rng.randint(0, 50) for _ in range(rng.randint(1, 12))],))
    return out


def _strings(rng: random.Random, k: int) -> list[tuple]:
    words = ["ab", "xyz", "hello", "", "q", "banana", "mississippi", "code"]
    return [(w,) for w in rng.sample(words, 5)]


def _sum_inputs(rng: random.Random, k: int) -> list[tuple]:
    return [(k,), (k + 1,), (k + rng.randint(2, 20),), (k + rng.randint(2, 20),)]


FAMILIES: tuple[Family, ...] = (
    Family("add", ("add_const", "plus", "shift_up"), "num", "Return {a} plus {k}.",
           "return {a} + {k}", ("return {a} - {k}", "return {a} + {k} + 1"), (2, 60), _ints(-50, 50)),
    Family("mul", ("times", "scale", "multiply"), "num", "Return {a} multiplied by {k}.",
           "return {a} * {k}", ("return {a} + {k}", "return {a} * ({k} + 1)"), (2, 60), _ints(-20, 20)),
    Family("sum_to", ("sum_upto", "total_to", "range_sum"), "num",
           "Return the sum of the integers from {k} to {a} inclusive.",
           "return sum(range({k}, {a} + 1))", ("return sum(range({k}, {a}))", "return sum(range({k} + 1, {a} + 1))"),
           (1, 40), _sum_inputs),
    Family("count_gt", ("count_above", "num_greater", "how_many_over"), "list",
           "Return how many items of {a} are greater than {k}.",
           "return len([v for v in {a} if v > {k}])",
           ("return len([v for v in {a} if v >= {k}])", "return len([v for v in {a} if v < {k}])"),
           (2, 40), _lists),
    Family("max_or", ("largest_or", "top_or", "max_default"), "list",
           "Return the largest item of {a}, or {k} if {a} is empty.",
           "return max({a}) if {a} else {k}", ("return max({a})", "return max({a}) if {a} else 0"), (2, 60), _lists),
    Family("clamp", ("cap", "clamp_high", "at_most"), "num", "Return {a}, but never more than {k}.",
           "return min({a}, {k})", ("return max({a}, {k})", "return min({a}, {k} - 1)"), (2, 60), _ints(-60, 90)),
    Family("divides", ("divisible", "is_multiple", "divides_by"), "num", "Return True if {a} is divisible by {k}.",
           "return {a} % {k} == 0", ("return {a} // {k} == 0", "return {a} % {k} == 1"), (2, 30),
           lambda rng, k: [(k,), (2 * k,), (k + 1,), (0,), (rng.randint(1, 200),), (1,)]),
    Family("below", ("less_than", "is_below", "under"), "num", "Return True if {a} is less than {k}.",
           "return {a} < {k}", ("return {a} <= {k}", "return {a} > {k}"), (2, 60), _ints(-60, 90)),
    Family("last_k", ("tail", "last_items", "keep_last"), "list", "Return the last {k} items of {a}.",
           "return {a}[-{k}:]", ("return {a}[{k}:]", "return {a}[-{k}:-1]"), (2, 9),
           lambda rng, k: [([rng.randint(0, 9) for _ in range(n)],) for n in (k + 3, k + 1, k, 12)]),
    Family("first_k", ("head", "first_items", "keep_first"), "list", "Return the first {k} items of {a}.",
           "return {a}[:{k}]", ("return {a}[:{k} - 1]", "return {a}[1:{k}]"), (2, 9),
           lambda rng, k: [([rng.randint(0, 9) for _ in range(n)],) for n in (k + 3, k + 1, k, 12)]),
    Family("repeat", ("repeat", "copies", "times_text"), "str", "Return {a} repeated {k} times.",
           "return {a} * {k}", ("return {a} * ({k} - 1)", "return {a} + {a}"), (3, 12), _strings),
    Family("count_char", ("count_letter", "letter_count", "occurrences"), "str",
           "Return how many times the letter '{c}' occurs in {a}.",
           "return {a}.count('{c}')", ("return {a}.count('{c}') - 1", "return len({a}) - {a}.count('{c}')"),
           (0, 25), lambda rng, k: [("",), ("a" * 3 + chr(97 + k) * 2,), (chr(97 + k),), ("xyzabc",), ("mississippi",)]),
)

# Families no training task comes from: the second held-out set. Each is a one-line body
# with one constant, like the training families, but its operation (power, remainder,
# absolute difference, membership, suffix, prefix test), docstring and function names
# appear in no training task.
UNSEEN_FAMILIES: tuple[Family, ...] = (
    Family("power", ("power", "raise_to", "to_the"), "num", "Return {a} raised to the power {k}.",
           "return {a} ** {k}", ("return {a} * {k}", "return {a} ** ({k} - 1)"), (2, 6), _ints(-9, 9)),
    Family("remainder", ("remainder", "mod_by", "leftover"), "num",
           "Return the remainder of {a} divided by {k}.",
           "return {a} % {k}", ("return {a} // {k}", "return {k} % {a}"), (2, 30), _ints(1, 200)),
    Family("distance", ("distance", "gap_to", "how_far"), "num", "Return the distance between {a} and {k}.",
           "return abs({a} - {k})", ("return {a} - {k}", "return abs({a}) - {k}"), (2, 60), _ints(-60, 90)),
    Family("contains", ("contains", "has_item", "includes"), "list",
           "Return True if {k} is one of the items of {a}.",
           "return {k} in {a}", ("return {k} not in {a}", "return {k} in {a}[1:]"), (2, 40), _lists),
    Family("exclaim", ("exclaim", "add_bangs", "shout"), "str", "Return {a} followed by {k} exclamation marks.",
           "return {a} + '!' * {k}", ("return {a} + '!' * ({k} - 1)", "return '!' * {k} + {a}"), (2, 9),
           _strings),
    Family("starts_with", ("starts_with", "begins_with", "first_is"), "str",
           "Return True if {a} starts with the letter '{c}'.",
           "return {a}.startswith('{c}')", ("return '{c}' in {a}", "return {a}.endswith('{c}')"), (0, 25),
           lambda rng, k: [("",), (chr(97 + k) + "xy",), ("xy" + chr(97 + k),), ("ab" + chr(97 + k),),
                          ("banana",), ("mississippi",)]),
)

ARG_NAMES = {"num": ("x", "n", "value"), "list": ("xs", "items", "nums"), "str": ("s", "text", "word")}


@dataclass(frozen=True)
class CurriculumItem:
    """A task with one training solution body (right or wrong)."""

    task: Task
    body: str
    correct: bool


def task_code(task: Task, completion: str) -> str:
    """The program a completion makes: the prompt (signature and docstring) then the body."""
    return task.prompt + completion


def _render(family: Family, k: int, fname: str, arg: str) -> tuple[str, dict[str, str]]:
    fields = {"a": arg, "k": str(k), "c": chr(97 + k) if 0 <= k < 26 else ""}
    doc = family.doc.format(**fields)
    prompt = f'def {fname}({arg}):\n    """{doc}"""\n'
    return prompt, fields


def _make_task(family: Family, k: int, fname: str, arg: str, rng: random.Random, split: str) -> tuple[Task, list[str]]:
    prompt, fields = _render(family, k, fname, arg)
    right = "    " + family.right.format(**fields) + "\n"
    env: dict[str, object] = {}
    exec(prompt + right, env)  # noqa: S102  # nosec B102 - our own template, never model output
    fn = env[fname]
    tests: list[TestCase] = []
    seen: set[str] = set()
    for args in family.inputs(rng, k):
        call = f"{fname}({', '.join(repr(a) for a in args)})"
        if call in seen:
            continue
        seen.add(call)
        expected = fn(*args)  # type: ignore[operator]
        tests.append(TestCase(kind="assert", code=f"assert {call} == {expected!r}", id=f"t{len(tests)}"))
    wrong_bodies = ["    " + w.format(**fields) + "\n" for w in family.wrong]
    for body in wrong_bodies:
        if _passes(prompt + body, tests):
            raise AssertionError(f"curriculum bug: wrong variant {body.strip()!r} of {family.name} "
                                 f"k={k} passes every test")
    task = Task(id=f"qs/{split}/{family.name}/{k}/{fname}/{arg}", language="python", prompt=prompt,
                entry_point=fname, tests=tuple(tests), public_test_ids=(tests[0].id,),
                reference_solution=prompt + right, tier="easy", category=family.name,
                provenance={"source": "quickstart-curriculum", "split": split})
    return task, [right, *wrong_bodies]


def _passes(code: str, tests: Sequence[TestCase]) -> bool:
    env: dict[str, object] = {}
    try:
        exec(code, env)  # noqa: S102  # nosec B102 - our own template
        for t in tests:
            exec(t.code, env)  # noqa: S102  # nosec B102
    except Exception:  # noqa: BLE001 - any failure of a wrong variant counts as failing
        return False
    return True


@dataclass(frozen=True)
class Curriculum:
    train: tuple[CurriculumItem, ...]
    """SFT examples: training tasks with right or (``wrong_rate``) wrong bodies."""
    train_tasks: tuple[Task, ...]
    """Distinct training tasks (the RL prompts)."""
    heldout: tuple[Task, ...]
    """Tasks whose (family, constant) no training task has."""
    unseen: tuple[Task, ...] = ()
    """Tasks of families no training task comes from."""


def build_curriculum(seed: int = 0, wrong_rate: float = 0.3, heldout_per_family: int = 4,
                     samples_per_task: int = 2, families: Sequence[Family] = FAMILIES,
                     unseen_families: Sequence[Family] = UNSEEN_FAMILIES) -> Curriculum:
    """Deterministic in ``seed``. Every (family, k, name, argument) combination of the training
    constants is a training task; ``heldout_per_family`` constants per family are held out, and
    as many constants of each of ``unseen_families`` make the unseen set. Raises
    :class:`~codeeval_rl.errors.ConfigError` for a ``wrong_rate`` outside [0, 1) and when an
    unseen family shares a family or function name with a training family (it would not be
    unseen)."""
    if not 0 <= wrong_rate < 1:
        raise ConfigError(f"wrong_rate ({wrong_rate}) must be in [0, 1)")
    trained = {f.name for f in families} | {n for f in families for n in f.names}
    for family in unseen_families:
        shared = sorted(({family.name} | set(family.names)) & trained)
        if shared:
            raise ConfigError(f"unseen family {family.name!r} shares {', '.join(map(repr, shared))} "
                              "with a training family")
    rng = random.Random(seed)
    train: list[CurriculumItem] = []
    train_tasks: list[Task] = []
    heldout: list[Task] = []
    for family in families:
        ks = list(range(family.k_range[0], family.k_range[1] + 1))
        held = set(rng.sample(ks, heldout_per_family))
        for k in ks:
            combos = [(f, a) for f in family.names for a in ARG_NAMES[family.kind]]
            if k in held:
                fname, arg = rng.choice(combos)
                heldout.append(_make_task(family, k, fname, arg, rng, "heldout")[0])
                continue
            # a few name/argument combinations per constant keep the set small but varied
            for fname, arg in rng.sample(combos, 3 if family.k_range[1] - family.k_range[0] < 30 else 2):
                task, bodies = _make_task(family, k, fname, arg, rng, "train")
                train_tasks.append(task)
                for _ in range(samples_per_task):
                    wrong = rng.random() < wrong_rate
                    body = rng.choice(bodies[1:]) if wrong else bodies[0]
                    train.append(CurriculumItem(task, body, not wrong))
    rng.shuffle(train)
    return Curriculum(tuple(train), tuple(train_tasks), tuple(heldout),
                      _unseen_tasks(seed, unseen_families, heldout_per_family))


def _unseen_tasks(seed: int, families: Sequence[Family], per_family: int) -> tuple[Task, ...]:
    """``per_family`` tasks per family (distinct constants, one name/argument pair each),
    from a random stream of their own (a string seed is hashed with SHA-512: stable)."""
    rng = random.Random(f"quickstart-unseen-{seed}")
    tasks: list[Task] = []
    for family in families:
        ks = list(range(family.k_range[0], family.k_range[1] + 1))
        combos = [(f, a) for f in family.names for a in ARG_NAMES[family.kind]]
        for k in sorted(rng.sample(ks, min(per_family, len(ks)))):
            fname, arg = rng.choice(combos)
            tasks.append(_make_task(family, k, fname, arg, rng, "unseen")[0])
    return tuple(tasks)
