"""``reward_function()`` on rows in the published benchmark shapes, with no ``tasks=``: called
directly per format, then inside TRL's GRPOTrainer with the columns as TRL hands them over."""

from __future__ import annotations

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import InputError
from codeeval_rl.integrations.trl import reward_function
from tests.integrations.benchmark_rows import Case, all_cases

CASES = all_cases()


def _call(f, case: Case, completions: list[str], **extra_columns) -> list[float]:
    """The reward as TRL calls it: every column but ``prompt`` as a list, one value per completion."""
    n = len(completions)
    columns = {k: [v] * n for k, v in case.row.items() if k != "prompt"}
    return f(prompts=[case.row["prompt"]] * n, completions=completions, completion_ids=[[0]] * n,
             trainer_state=None, log_extra=None, log_metric=None, **columns, **extra_columns)


@pytest.fixture(scope="module")
def partial(sandbox):
    return reward_function(EvaluationSettings(shaping="partial"), sandbox)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_format_scores_right_wrong_and_early_exits(case: Case, partial) -> None:
    extra = list(case.extra.values())
    out = _call(partial, case, [case.good, case.bad, *case.attacks, *(c for c, _ in extra)])
    good, bad, attacks, extras = out[0], out[1], out[2:2 + len(case.attacks)], out[2 + len(case.attacks):]
    assert good == 1.0
    assert bad == pytest.approx(case.bad_fraction)
    assert attacks == [0.0] * len(case.attacks), "an early exit got test credit"
    assert extras == pytest.approx([want for _, want in extra])


def test_default_reward_puts_correct_code_well_above_broken(sandbox) -> None:
    f = reward_function(None, sandbox)
    for case in CASES:
        good, bad, exit_early = _call(f, case, [case.good, case.bad, case.attacks[0]])
        assert good >= 0.8 and good - bad >= 0.3 and good - exit_early >= 0.3, case.name


def test_mixed_dataset_rows_null_the_other_formats_columns(partial) -> None:
    """A dataset mixing formats holds every format's columns; a row's foreign ones are None."""
    columns = sorted({k for c in CASES for k in c.row if k != "prompt"})
    out = []
    for case in CASES:
        row = {k: case.row.get(k) for k in columns}
        out += partial(prompts=[case.row["prompt"]] * 2, completions=[case.good, case.bad],
                       **{k: [v, v] for k, v in row.items()})
    want = [x for c in CASES for x in (1.0, c.bad_fraction)]
    assert out == pytest.approx(want)


def test_a_row_without_test_columns_names_what_it_has_and_what_is_accepted(partial) -> None:
    with pytest.raises(InputError) as info:
        partial(prompts=["p"], completions=["c"], question=["q"], difficulty=["easy"], solutions=[None])
    msg = str(info.value)
    assert "\n" not in msg
    assert "difficulty, prompt, question" in msg and "solutions" not in msg.split(";")[0]
    for accepted in ("task_id", "tests", "test + entry_point", "test_list", "input_output",
                     "public_tests / private_tests / generated_tests"):
        assert accepted in msg
    with pytest.raises(InputError, match=r"task_id 'HumanEval/999' is neither .* built-in task"):
        partial(prompts=["p"], completions=["c"], task_id=["HumanEval/999"])


def test_a_bad_test_column_is_named(partial) -> None:
    with pytest.raises(InputError, match=r"APPS/TACO row 7: input_output: invalid JSON"):
        partial(prompts=["p"], completions=["c"], problem_id=[7], input_output=["{not json"])
    with pytest.raises(InputError, match=r"HumanEval row: test: defines no check\(candidate\)"):
        partial(prompts=["def f():\n"], completions=["c"], test=["assert f() == 1"], entry_point=["f"])
    with pytest.raises(InputError, match=r"column 'test_list' must hold one value per completion \(2\)"):
        partial(prompts=["p", "p"], completions=["c", "c"], test_list=[["assert f() == 1"]])


def test_given_tasks_come_before_the_row_and_builtins_after(sandbox) -> None:
    from codeeval_rl.types import Task, TestCase

    he = CASES[0]
    other = Task(id="HumanEval/23", language="python", prompt=he.row["prompt"], entry_point="strlen",
                 tests=(TestCase(kind="assert", code="assert strlen('ab') == 3", id="t"),))
    f = reward_function(EvaluationSettings(shaping="partial"), sandbox, tasks=[other])
    assert _call(f, he, [he.good]) == [0.0]  # the given task's (odd) test decides, not the row's


def test_all_formats_inside_grpo_trainer(tmp_path, sandbox) -> None:
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")

    from tests.rl.tinyfix import tiny_policy

    policy = tiny_policy()
    graded = reward_function(None, sandbox)  # the defaults, as reward_function() gives them
    partial = reward_function(EvaluationSettings(shaping="partial"), sandbox)
    seen: dict[str, dict[str, list[float]]] = {}

    def scored_as(inner, key):
        def reward(prompts, completions, **kw):
            # The tiny model's text is noise: score the case's own candidate instead, with every
            # other argument exactly as TRL passed it.
            out = inner(prompts, kw["candidate"], **kw)
            for label, r in zip(kw["label"], out):
                seen.setdefault(label, {}).setdefault(key, []).append(r)
            return out

        reward.__name__ = key
        return reward

    args = trl.GRPOConfig(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=6, num_generations=2,
                          max_completion_length=4, learning_rate=1e-3, logging_steps=1, report_to=[], use_cpu=True,
                          save_strategy="no", disable_tqdm=True, bf16=False)
    for case in CASES:
        labelled = [("good", case.good), ("bad", case.bad), ("exit", case.attacks[-1])]
        rows = [{**case.row, "candidate": code, "label": f"{case.name}/{label}"} for label, code in labelled]
        trainer = trl.GRPOTrainer(model=policy.model, reward_funcs=[scored_as(graded, "graded"),
                                                                    scored_as(partial, "tests")],
                                  args=args, train_dataset=datasets.Dataset.from_list(rows),
                                  processing_class=policy.tokenizer)
        trainer.train()
    for case in CASES:
        good, bad, exit_early = (seen[f"{case.name}/{label}"] for label in ("good", "bad", "exit"))
        assert set(good["tests"]) == {1.0} and set(exit_early["tests"]) == {0.0}, case.name
        assert bad["tests"] == pytest.approx([case.bad_fraction] * len(bad["tests"])), case.name
        assert min(good["graded"]) - max(bad["graded"] + exit_early["graded"]) >= 0.3, case.name
