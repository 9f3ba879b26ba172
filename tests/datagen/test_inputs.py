"""Stage 2: inputs from every maker, deterministic, literal."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from codeeval_rl.datagen.discover import select_functions, walk_python
from codeeval_rl.datagen.inputs import collect_call_sites, make_inputs, param_types, record_classes


def _fn(tmp_path: Path, files: dict[str, str], name: str):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    files_ = walk_python(tmp_path)
    sel = select_functions(files_)
    return next(f for f in sel.functions if f.name == name), collect_call_sites(files_.sources + files_.tests)


def test_every_maker_contributes_and_inputs_are_literal_and_deterministic(tmp_path):
    fn, sites = _fn(tmp_path, {
        "lib/text.py": '''
            import re

            def pad(word: str, width: int = 5, fill="*") -> str:
                """Pad a word.

                >>> pad('ab', 4)
                '**ab'
                """
                if re.search(r"\\d+$", word):
                    return word
                return fill * (width - len(word)) + word
        ''',
        "tests/test_text.py": '''
            import pytest
            from lib.text import pad

            CASES = [("x", 3), ("yy", 1)]

            @pytest.mark.parametrize("w,n", CASES)
            def test_pad(w, n):
                assert pad(w, n)

            def test_literal():
                assert pad("abc", width=7) == "****abc"
        ''',
    }, "pad")
    inputs = make_inputs(fn, sites, seed=3)
    by_source = {}
    for i in inputs:
        by_source.setdefault(i.source, []).append(i.args)
    assert "'ab', 4" in by_source["doctest"]
    assert {"'x', 3", "'yy', 1", "'abc', width=7"} <= set(by_source["callsite"])
    literal = set(by_source["literal"])
    assert {"'*'", "'ab*'", "'*ab'"} <= literal  # the string constant, and it inside others
    assert {"'*', 4", "'*', 6"} <= literal  # the integer default 5, one off either way
    assert any(a.strip("'").endswith("0") for a in literal)  # a match of the pattern \d+$
    assert by_source.get("boundary") and by_source.get("hypothesis")
    for i in inputs:  # every input is a literal argument list
        call = ast.parse(f"f({i.args})", mode="eval").body
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            ast.literal_eval(arg)
    assert inputs == make_inputs(fn, sites, seed=3)
    assert len(inputs) == len({i.args for i in inputs}) <= 200


def test_types_come_from_annotations_defaults_docstrings_and_call_sites(tmp_path):
    fn, sites = _fn(tmp_path, {"m.py": '''
        def f(a: list[int], b=0.5, c=None, d=None):
            """Do it.

            :type c: str
            """
            return a, b, c, d

        f([1], 0.5, "x", True)
    '''}, "f")
    types = param_types(fn, sites.get("f"))
    assert types["a"] == list[int] and types["b"] is float and types["c"] is str and types["d"] is bool


def test_record_classes_are_built_from_their_fields(tmp_path):
    fn, sites = _fn(tmp_path, {"m.py": '''
        from dataclasses import dataclass
        from typing import NamedTuple

        @dataclass(frozen=True)
        class Box:
            w: int
            h: int

        class Pair(NamedTuple):
            a: str
            b: str

        def area(box: Box) -> int:
            return box.w * box.h

        def join(p: Pair) -> str:
            return p.a + p.b
    '''}, "area")
    assert set(record_classes(fn.context_code)) == {"Box"}
    calls = [i.args for i in make_inputs(fn, sites)]
    assert any(c.startswith("Box(w=") and ", h=" in c for c in calls)
