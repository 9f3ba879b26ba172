"""The quickstart curriculum's two held-out sets: new constants, and families never trained on."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from codeeval_rl.rl.curriculum import ARG_NAMES, FAMILIES, UNSEEN_FAMILIES, _make_task, build_curriculum


def test_unseen_families_are_new_templates_not_renamed_training_ones() -> None:
    trained_names = {f.name for f in FAMILIES} | {n for f in FAMILIES for n in f.names}
    trained_bodies = {b for f in FAMILIES for b in (f.right, *f.wrong)}
    trained_docs = {f.doc for f in FAMILIES}
    for fam in UNSEEN_FAMILIES:
        assert not ({fam.name, *fam.names} & trained_names), fam.name
        assert fam.right not in trained_bodies, fam.name  # a new operation, not a training body
        assert fam.doc not in trained_docs, fam.name
        assert fam.right.count("\n") == 0 and len(fam.wrong) == 2  # the same size as a training family


@pytest.mark.parametrize("family", UNSEEN_FAMILIES, ids=lambda f: f.name)
def test_every_wrong_variant_fails_for_every_constant(family) -> None:
    """_make_task raises when a wrong body passes every test; try every k with several input draws."""
    for k in range(family.k_range[0], family.k_range[1] + 1):
        for seed in range(4):
            task, bodies = _make_task(family, k, family.names[0], ARG_NAMES[family.kind][0],
                                      random.Random(seed), "unseen")
            assert len(task.tests) >= 4 and len(bodies) == 3


def test_unseen_set_shape_and_determinism() -> None:
    cur = build_curriculum(0)
    assert len(cur.unseen) == 4 * len(UNSEEN_FAMILIES)
    per_family = Counter(t.category for t in cur.unseen)
    assert per_family == {f.name: 4 for f in UNSEEN_FAMILIES}
    assert {t.provenance["split"] for t in cur.unseen} == {"unseen"}
    assert len({t.id for t in cur.unseen}) == len(cur.unseen)
    trained = {t.category for t in cur.train_tasks}
    assert not trained & set(per_family) and {t.category for t in cur.heldout} <= trained
    assert build_curriculum(0).unseen == cur.unseen and build_curriculum(1).unseen != cur.unseen


def test_the_unseen_set_leaves_training_and_the_first_held_out_set_alone() -> None:
    with_unseen, without = build_curriculum(2), build_curriculum(2, unseen_families=())
    assert without.unseen == ()
    assert with_unseen.train_tasks == without.train_tasks and with_unseen.heldout == without.heldout
    assert [(i.task.id, i.body) for i in with_unseen.train] == [(i.task.id, i.body) for i in without.train]


def test_a_training_family_cannot_be_unseen() -> None:
    with pytest.raises(ValueError, match="unseen family 'add' shares 'add'"):
        build_curriculum(0, unseen_families=(FAMILIES[0],))
