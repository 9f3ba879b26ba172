"""The JavaScript path of datagen: selection, inputs, oracle, mutants, prompts, tiers, and
verified tasks from a small JavaScript project (tests/datagen/fixtures/jsproject)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codeeval_rl.datagen import js_tasks
from codeeval_rl.datagen.javascript import JsGeneration, javascript_tasks
from codeeval_rl.datagen.js_inputs import JsType, boundary_values, make_inputs, parse_type
from codeeval_rl.datagen.js_mutate import OPERATORS, all_mutants, mutants
from codeeval_rl.datagen.js_oracle import run_mutants, run_oracle
from codeeval_rl.datagen.js_select import HelperDef, JsCandidate, scan
from codeeval_rl.datagen.js_syntax import parse
from codeeval_rl.datagen.model import Frozen, Param, SourceFunction
from codeeval_rl.errors import InputError

PROJECT = Path(__file__).parent / "fixtures" / "jsproject"
MAX_TESTS = 8  # fewer tests than the default 20 keep the suite fast; strengthening then adds some
SELECTED = {"src/arrays.js::chunk", "src/arrays.js::uniq", "src/arrays.js::countWords", "src/math.mjs::gcd",
            "src/math.mjs::lcm", "src/math.mjs::clamp", "src/math.mjs::toRoman", "src/strings.js::slugify",
            "src/strings.js::camelCase", "src/strings.js::truncate"}


@pytest.fixture(scope="module")
def run(sandbox) -> tuple[JsGeneration, list[tuple[str, int, int]]]:
    """The fixture project through the whole path, and the progress calls it made."""
    calls: list[tuple[str, int, int]] = []
    gen = javascript_tasks(PROJECT, sandbox=sandbox, max_tests=MAX_TESTS, progress=lambda s, d, t: calls.append((s, d, t)))
    return gen, calls


@pytest.fixture(scope="module")
def generation(run) -> JsGeneration:
    return run[0]


def _fence(code: str) -> str:
    return f"Here it is:\n```javascript\n{code}```\n"


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return root


# ---- stage 1: selection ------------------------------------------------------------------------
def test_the_fixture_project_selects_its_pure_functions_and_names_every_skip():
    found = scan(PROJECT)
    assert {c.id for c in found.candidates} == SELECTED
    skipped = dict(found.skipped_files)
    assert skipped["node_modules/"] == "ignored directory (dependencies)"
    assert skipped["lib/helpers.min.js"].startswith("minified")
    assert skipped["src/broken.js"] == "syntax error at line 5"
    assert not any(p.startswith("test/") for p in skipped)  # read for call sites, not skipped
    why = {ident: skip for ident, skip in found.skipped_functions}
    assert why["src/clock.js::stamp"].detail == "uses Date.now"
    assert why["src/clock.js::readSettings"].category == "imports another module"
    # the test file's literal calls are inputs
    assert "'  Trim me  ', '_'" in found.callsites["slugify"]
    assert "[1, 2, 3, 4, 5], 2" in found.callsites["chunk"]


def test_helpers_travel_in_source_order_and_module_syntax_is_gone():
    by_id = {c.id: c for c in scan(PROJECT).candidates}
    lcm, roman, truncate = by_id["src/math.mjs::lcm"], by_id["src/math.mjs::toRoman"], by_id["src/strings.js::truncate"]
    assert lcm.function.helpers == ("gcd",)
    assert lcm.function.context_code.startswith("function gcd(a, b) {")
    assert roman.function.helpers == ("NUMERALS",) and roman.function.context_code.startswith("const NUMERALS = [")
    for cand in by_id.values():
        assert not re.search(r"^\s*(export|import)\b", cand.subject, re.MULTILINE), cand.id
        assert not parse(cand.subject).root_node.has_error
    assert truncate.function.source.startswith("const truncate = function (text, max) {")
    assert (lcm.function.start_line, lcm.function.end_line) == (26, 31)
    assert [p.annotation for p in by_id["src/strings.js::slugify"].function.params] == ["string", "string|undefined"]
    assert by_id["src/strings.js::slugify"].function.params[1].default == "'-'"


IMPURE = {
    "clock.js": "function a(x) { return x + Date.now(); }\n",
    "rand.js": "function b(x) { return x * Math.random(); }\n",
    "today.js": "function c(x) { return new Date().getFullYear() + x; }\n",
    "fixed.js": "function d(x) { return new Date(0).getTime() + x; }\n",  # pure: a fixed date
    "log.js": "function e(x) { console.log(x); return x; }\n",
    "env.js": "const f = (x) => process.env[x];\n",
    "req.js": "function g(x) { return require('path').join(x, 'y'); }\n",
    "self.js": "function h(x) { return this.k + x; }\n",
    "async.js": "async function i(x) { return x; }\nconst j = async (x) => await x;\n",
    "timer.js": "function k(x) { setTimeout(() => x, 1); return x; }\n",
    "nothing.js": "function l() { return 42; }\n",
    "state.js": "let count = 0;\nfunction m(x) { count += x; return count; }\n",
    "esm.mjs": "import { helper } from './util.js';\nexport function n(x) { return helper(x); }\n",
    "bad_helper.js": "function noisy(x) { console.log(x); return x; }\nfunction o(x) { return noisy(x) + 1; }\n",
    "undefined_name.js": "function p(x) { return lodash.map(x); }\n",
    "args.js": "const q = (x) => arguments.length + x;\n",
    "reserved.js": "function assert(x) { return !!x; }\n",
    "shadow.js": "const toString = (x) => `${x}`;\nfunction r(x) { return toString(x) + '!'; }\n",
}


def test_impure_and_untestable_functions_are_skipped_with_their_reason(tmp_path):
    found = scan(_write(tmp_path, IMPURE))
    why = {ident.split("::")[1]: skip for ident, skip in found.skipped_functions}
    assert {c.function.name for c in found.candidates} == {"d", "toString"}
    assert why["a"].detail == "uses Date.now"
    assert why["b"].detail == "uses Math.random"
    assert why["c"].category == "impure: current time"
    assert why["e"].detail == "uses console"
    assert why["f"].detail == "uses process"
    assert why["g"].category == "imports another module"
    assert why["h"].category == "uses this"
    assert why["i"].category == why["j"].category == "async"
    assert why["k"].category == "impure: timers"
    assert why["l"].category == "no parameters"
    assert why["m"].category == "module state"
    assert why["n"].category == "imports another module"
    assert why["o"].detail == "its helper noisy uses console"
    assert why["p"].category == "undefined name"
    assert "arguments" in why["q"].detail
    assert why["assert"].category == "reserved name"
    assert why["r"].detail == "its helper toString shadows a JavaScript global"


def test_export_forms_files_and_test_directories(tmp_path):
    files = {
        "lib/forms.mjs": ("export function a(x) { return x + 1; }\n"
                          "export const b = (x) => x * 2;\n"
                          "export default function c(x) { return -x; }\n"
                          "function* d(n) { for (let i = 0; i < n; i++) yield i; }\n"),
        "lib/anon.mjs": "export default function (x) { return x; }\n",
        "lib/cjs.js": "module.exports.e = (s) => s.trim();\nexports.f = function (s) { return s + '!'; };\n",
        "lib/gen.js": "// @generated by a tool\nfunction g(x) { return x; }\n",
        "lib/long.js": "function h(x) { return x; }\n// " + "x" * 1200 + "\n",
        "lib/latin1.js": b"function i(x) { return '\xe9' + x; }\n",
        "__tests__/spec.js": "function notMe(x) { return x; }\nnotMe(3);\na(7);\n",
        "lib/util.spec.js": "a(8, 'extra');\n",
        "vendor/lib.js": "function vendored(x) { return x; }\n",
        ".hidden/x.js": "function hidden(x) { return x; }\n",
    }
    found = scan(_write(tmp_path, files))
    cands = {c.function.name: c for c in found.candidates}
    assert set(cands) == {"a", "b", "c", "d", "e", "f"}
    assert cands["d"].generator and not cands["a"].generator
    assert cands["e"].function.source == "const e = (s) => s.trim();\n"
    assert cands["c"].function.source.startswith("function c(x)")
    skipped = dict(found.skipped_files)
    assert skipped["lib/gen.js"].startswith("generated")
    assert skipped["lib/long.js"].startswith("minified (a line longer")
    assert skipped["lib/latin1.js"] == "not UTF-8 text"
    assert skipped["vendor/"] == "ignored directory (vendored code)"
    assert not any("hidden" in p for p in skipped)
    assert found.callsites["a"] == ("7", "8, 'extra'")
    assert ("lib/anon.mjs::default", "anonymous") in [(i, s.category) for i, s in found.skipped_functions]
    assert found.test_files == 2


# ---- stage 2: inputs ---------------------------------------------------------------------------
def test_jsdoc_types_parse():
    assert parse_type("?number") == JsType("union", (JsType("number"), JsType("null")))
    assert parse_type("Array<number|string>") == JsType("array", (JsType("union", (JsType("number"), JsType("string"))),))
    assert parse_type("string[]") == parse_type("Array.<string>") == JsType("array", (JsType("string"),))
    assert parse_type("Object<string, number>") == JsType("map", (JsType("string"), JsType("number")))
    rec = parse_type("{a: number, b?: string}")
    assert rec.kind == "record" and rec.fields[0] == ("a", JsType("number"))
    assert parse_type("function(number): string") == JsType("function")
    assert parse_type("'a'|'b'").items == (JsType("literal", literal="'a'"), JsType("literal", literal="'b'"))
    assert parse_type("Array<") == JsType("any")  # broken types degrade, never raise


def test_inputs_come_from_call_sites_defaults_and_types_deterministically():
    params = (Param("text", "string"), Param("sep", "string|undefined", "'-'"))
    sites = ["'abc'", "'a b', '_'"]
    made = make_inputs(params, sites, "", seed=7)
    assert [i.args for i in made[:2]] == sites
    assert made[0].source == made[1].source == "callsite"
    assert made[2].source == "default" and made[2].args == "'Hello, World!'"  # sep left out
    assert any(i.args.endswith(", undefined") for i in made)  # the optional parameter's boundary
    assert len(made) == 64 and len({i.args for i in made}) == 64
    assert made == make_inputs(params, sites, "", seed=7)
    assert made != make_inputs(params, sites, "", seed=8)
    assert not any(re.search(r"\bNaN\b|\bInfinity\b", i.args) for i in made)


def test_integer_hints_and_boundaries():
    count = make_inputs((Param("items", "number[]"), Param("size", "number")), [], "", seed=1)
    sizes = [i.args.rsplit(", ", 1)[1] for i in count if "]," in i.args]
    assert all(re.fullmatch(r"-?\d+", s) for s in sizes)  # 'size' reads like a count
    doc = make_inputs((Param("a", "number"), Param("b", "number")), [], "", seed=1, doc="Of two integers.")
    assert all(re.fullmatch(r"-?\d+, -?\d+", i.args) for i in doc)
    assert "null" in boundary_values(parse_type("?string"))
    assert "null" not in boundary_values(parse_type("string"))
    assert {"[]", "{}"} <= set(boundary_values(parse_type("Array<number>")) + boundary_values(JsType("object")))


# ---- stage 3: the oracle -----------------------------------------------------------------------
def _candidate(source: str, name: str, context: str = "", helpers: tuple[HelperDef, ...] = (),
               generator: bool = False) -> JsCandidate:
    fn = SourceFunction(language="javascript", path="t.js", name=name, start_line=1, end_line=1,
                        source=source, context_code=context, helpers=tuple(h.name for h in helpers))
    return JsCandidate(id=f"t.js::{name}", function=fn, generator=generator, helper_defs=helpers)


def _inputs(*args: str):
    from codeeval_rl.datagen.js_inputs import JsInput

    return [JsInput(a, "boundary") for a in args]


def test_the_oracle_freezes_results_that_round_trip_and_refuses_the_rest(sandbox):
    values = _candidate(
        "function v(k) {\n"
        "  const table = { nan: NaN, negzero: -0, inf: -Infinity, undef: undefined, map: new Map([['a', [1]]]),\n"
        "    set: new Set([1, 'x']), date: new Date(86400000), nested: { a: [1, { b: null }], 'odd key': true },\n"
        "    float: [0.1 + 0.2, 2], huge: 2 ** 60, big: 12n, fn: () => 1, inst: new (class P {})(),\n"
        "    cycle: (() => { const o = {}; o.o = o; return o; })(), sym: Symbol('s'), long: 'x'.repeat(5000),\n"
        "    sparse: [1, , 3] };\n"
        "  return table[k];\n}\n", "v")
    throws = _candidate(
        "function t(k) {\n"
        "  if (k === 'range') throw new RangeError('no');\n"
        "  if (k === 'custom') throw new BadInput('bad');\n"
        "  if (k === 'local') { class Local extends Error {} throw new Local('x'); }\n"
        "  if (k === 'string') throw 'just text';\n"
        "  if (k === 'loop') while (true) {}\n"
        "  return k.length;\n}\n", "t",
        context="class BadInput extends Error {}\n",
        helpers=(HelperDef("BadInput", "class", "class BadInput extends Error {}", 0),))
    gen = _candidate("function* g(n) { for (let i = 0; i < n; i++) yield i * 2; }\n", "g", generator=True)
    noisy = _candidate("function r(x) { return x + Math.random(); }\n", "r")
    # the contexts' URL comes from the driver's realm, so code can reach its process: 'boom'
    # kills the whole driver program
    boom = _candidate("function b(k) { if (k === 'boom') URL.constructor('return process')().abort(); return k; }\n",
                      "b")
    ins = ["'nan'", "'negzero'", "'inf'", "'undef'", "'map'", "'set'", "'date'", "'nested'", "'float'", "'huge'",
           "'big'", "'fn'", "'inst'", "'cycle'", "'sym'", "'long'", "'sparse'"]
    res = run_oracle(sandbox, [(values, _inputs(*ins)),
                               (throws, _inputs("'range'", "'custom'", "'local'", "'string'", "'loop'", "null", "'ok'")),
                               (gen, _inputs("3", "1e7")), (noisy, _inputs("1")),
                               (boom, _inputs("'a'", "'boom'", "'b'"))])
    got = {f.args: f for f in res[0].frozen}
    assert [got[k].value for k in ins[:8]] == [
        "NaN", "-0", "-Infinity", "undefined", 'new Map([["a", [1]]])', 'new Set([1, "x"])', "new Date(86400000)",
        '{ a: [1, { b: null }], "odd key": true }']
    assert got["'float'"].kind == "float" and got["'float'"].value == "[0.30000000000000004, 2]"
    assert got["'huge'"].kind == "float" and got["'nan'"].kind == "exact" and got["'big'"].value == "12n"
    for k, why in [("'fn'", "returns a function"), ("'inst'", "returns an instance of P"),
                   ("'cycle'", "returns a circular structure"), ("'sym'", "returns a symbol"),
                   ("'long'", "too large"), ("'sparse'", "sparse")]:
        assert got[k].outcome == "unusable" and why in got[k].value, (k, got[k])
    t = [(f.outcome, f.value) for f in res[1].frozen]
    assert t[:3] == [("raise", "RangeError"), ("raise", "BadInput"), ("raise", "Error")]  # Local's name is Error
    assert t[3] == ("unusable", "throws a non-Error value") and t[4] == ("unusable", "timeout")
    assert t[5][0] == "unusable" and t[5][1].startswith("the runtime throws TypeError")  # null.length
    assert t[6] == ("return", "2")
    assert [(f.outcome, f.value, f.kind) for f in res[2].frozen] == [
        ("return", "[0, 2, 4]", "iterable"), ("unusable", "the generator yields more than 1000 values", "exact")]
    assert res[3].frozen[0].outcome == "unusable" and res[3].frozen[0].value.startswith("nondeterministic")
    assert [(f.outcome, f.value[:7]) for f in res[4].frozen] == [("return", '"a"'), ("unusable", "crashed"),
                                                                  ("return", '"b"')]
    # coverage: the two inputs of t that return and raise cover different blocks
    assert got["'nan'"].arcs and res[1].frozen[0].arcs != res[1].frozen[6].arcs
    # every frozen result round-trips: the original passes the checks written from it
    checks = [js_tasks.check_code("v", f, False) for f in res[0].frozen if f.outcome == "return"]
    checks += [js_tasks.check_code("t", f, False, ("BadInput",)) for f in res[1].frozen if f.outcome != "unusable"]
    checks += [js_tasks.check_code("g", res[2].frozen[0], True)]
    subject = values.subject + throws.subject + gen.subject
    run = run_mutants(sandbox, [("", subject, [], checks, len(checks))])[0]
    assert run.original_failures == frozenset()


# ---- stage 5: mutants --------------------------------------------------------------------------
MUTABLE = """function score(a, b, flag, word) {
  let total = a + b * 2 - (a % 3);
  if (total > 10 && flag) {
    total -= 1;
  }
  for (let i = 0; i < b; i++) {
    if (i === 2) continue;
    total++;
  }
  const label = total >= 5 ? 'big' : '';
  return [total, label, !flag, Math.max(a, b), word.toUpperCase(), true];
}
"""


def test_every_operator_makes_parseable_distinct_mutants():
    every = all_mutants(MUTABLE)
    assert {m.operator for m in every} == set(OPERATORS)
    texts = {m.source for m in every}
    assert len(texts) == len(every) and MUTABLE not in texts
    for m in every:
        assert not parse(m.source).root_node.has_error, m
        assert m.before != m.after
    assert any(m.before == "||" or m.before == "&&" for m in every)
    thrown = all_mutants("function f(x) { if (x) throw new Error('message'); return 'ok'; }\n")
    assert not any("message" in m.before for m in thrown)  # messages are not tested
    sample = mutants(MUTABLE, seed=3, cap=5)
    assert len(sample) == 5 and sample == mutants(MUTABLE, seed=3, cap=5)
    assert [every.index(m) for m in sample] == sorted(every.index(m) for m in sample)


def test_each_operator_can_be_killed_and_the_runner_reports_kills(sandbox):
    every = all_mutants(MUTABLE)
    calls = ["3, 4, true, 'ab'", "0, 0, false, ''", "9, 1, true, 'x'", "-4, 3, false, 'Q'", "2, 5, true, 'mixed'"]
    original = run_oracle(sandbox, [(_candidate(MUTABLE, "score"), _inputs(*calls))])[0]
    assert all(f.outcome == "return" for f in original.frozen)
    checks = [js_tasks.check_code("score", f, False) for f in original.frozen]
    looping = MUTABLE.replace("i++)", "i--)")
    broken = MUTABLE.replace("return [", "return [[")
    run = run_mutants(sandbox, [("", MUTABLE, [m.source for m in every] + [looping, broken], checks, 2)])[0]
    assert run.original_failures == frozenset()
    *per, loop_kill, invalid = run.mutants
    assert invalid is None and loop_kill  # a syntax error is no mutant; an infinite loop is killed
    killed_ops = {m.operator for m, k in zip(every, per) if k}
    assert killed_ops == set(OPERATORS)
    # a mutant that survives the 2 kept checks is tried against every extra check
    assert all(len(k) == 1 for k in per if k and min(k) < 2)  # killed by a kept check: it stops there
    assert any(k and min(k) >= 2 for k in per)  # survivors of the kept checks meet the extra ones
    wrong = run_mutants(sandbox, [("", MUTABLE, [], ["assert.deepStrictEqual(score(0, 0, false, ''), 1);"], 1)])[0]
    assert wrong.original_failures == frozenset({0})


def test_a_mutant_that_crashes_the_driver_counts_as_killed_and_the_rest_still_run(sandbox):
    original = "function twice(x) { return x * 2; }\n"
    # the checks' `assert` comes from the driver's realm, so code can reach its process: this
    # mutant kills the whole driver program the moment it runs
    hog = "function twice(x) { assert.constructor('return process')().abort(); }\n"
    wrong = "function twice(x) { return x + 2; }\n"
    checks = ["assert.deepStrictEqual(twice(3), 6);", "assert.deepStrictEqual(twice(2), 4);"]
    run = run_mutants(sandbox, [("", original, [hog, wrong, original], checks, 1)])[0]
    assert run.original_failures == frozenset()
    hog_kill, wrong_kill, same = run.mutants
    assert hog_kill == frozenset({-1})  # a crash counts as a kill
    assert wrong_kill == frozenset({0})  # the next mutant still ran: killed by the kept check
    assert same == frozenset()  # an equivalent mutant survives every check


# ---- stages 4, 6, 7: tests, prompt, tier -------------------------------------------------------
def test_test_code_checks_floats_errors_and_generators():
    ret = Frozen("1, 2", "return", "[1, 2]")
    assert js_tasks.check_code("f", ret, False) == "assert.deepStrictEqual(f(1, 2), [1, 2]);"
    assert js_tasks.check_code("f", ret, True) == "assert.deepStrictEqual([...f(1, 2)], [1, 2]);"
    assert js_tasks.check_code("f", Frozen("0", "raise", "RangeError"), False) == \
        "assert.throws(() => f(0), RangeError);"
    assert js_tasks.check_code("f", Frozen("0", "raise", "Oops"), False) == 'assert.throws(() => f(0), { name: "Oops" });'
    assert "close(actual, [0.5, 1])" in js_tasks.check_code("f", Frozen("1", "return", "[0.5, 1]", "float"), False)
    with pytest.raises(ValueError):
        js_tasks.check_code("f", Frozen("1", "unusable", "timeout"), False)
    helpers = (HelperDef("K", "value", "3", 5), HelperDef("h", "function", "function h() {}", 9))
    code = js_tasks.test_code("assert.ok(true);", js_tasks.helper_preamble(helpers))
    assert code.index("globalThis.h") < code.index("globalThis.K") < code.index("const assert")


def test_choosing_tests_prefers_new_coverage_then_new_results():
    a, b, c = (1, 1), (2, 2), (3, 3)
    usable = [Frozen("1", "return", "1", arcs=frozenset({a}), source="random"),
              Frozen("2", "return", "1", arcs=frozenset({a, b}), source="boundary"),
              Frozen("3", "return", "2", arcs=frozenset({a, c}), source="random"),
              Frozen("4", "return", "1", arcs=frozenset({a, b}), source="callsite"),
              Frozen("5", "return", "3", arcs=frozenset({a}), source="random")]
    # the call site wins the tie, then the input covering c; then a result not seen yet; then
    # the others in rank order (boundary before random) up to MIN_TESTS
    assert js_tasks.choose_tests(usable, max_tests=5) == [3, 2, 4, 1, 0]
    assert js_tasks.choose_tests(usable, max_tests=2) == [3, 2]
    only_coverage = [Frozen(str(i), "return", "1", arcs=frozenset({(i, i)})) for i in range(9)]
    assert len(js_tasks.choose_tests(only_coverage, max_tests=6)) == 6


def test_tiers_follow_the_documented_thresholds():
    assert js_tasks.tier(js_tasks.TierMeasures(3, 12, 5)) == "easy"
    assert js_tasks.tier(js_tasks.TierMeasures(4, 12, 5)) == "medium"
    assert js_tasks.tier(js_tasks.TierMeasures(3, 13, 5)) == "medium"
    assert js_tasks.tier(js_tasks.TierMeasures(8, 10, 5)) == "hard"
    assert js_tasks.tier(js_tasks.TierMeasures(2, 40, 5)) == "hard"
    assert js_tasks.tier(js_tasks.TierMeasures(2, 10, 30)) == "hard"


# ---- the whole path ----------------------------------------------------------------------------
def test_the_project_becomes_verified_tasks(generation, sandbox):
    from codeeval_rl.evaluation import Evaluator

    tasks = {t.id: t for t in generation.tasks}
    assert set(tasks) == SELECTED
    for t in generation.tasks:
        assert t.language == "javascript" and t.entry_point == t.id.split("::")[1]
        assert js_tasks.MIN_TESTS <= len(t.tests) <= MAX_TESTS * 3 // 2
        assert [c.id for c in t.tests] == [f"t{i + 1}" for i in range(len(t.tests))]
        assert len(t.public_test_ids) == 3 and set(t.public_test_ids) <= {c.id for c in t.tests}
        assert all(c.kind == "assert" and "const assert = require('assert');" in c.code for c in t.tests)
        assert float(t.provenance["mutation_score"]) >= 0.8
        killed, total = map(int, t.provenance["mutants"].split("/"))
        assert f"{(killed / total if total else 1.0):.2f}" == t.provenance["mutation_score"]
        assert int(t.provenance["tests_kept"]) == len(t.tests)
        assert int(t.provenance["tests_kept"]) + int(t.provenance["tests_dropped"]) == int(t.provenance["inputs"])
        assert t.provenance["path"] == t.id.split("::")[0]
    lcm = tasks["src/math.mjs::lcm"]
    gcd_alone = tasks["src/math.mjs::gcd"].reference_solution
    lcm_fn = {c.id: c for c in scan(PROJECT).candidates}[lcm.id].function
    assert lcm.context == gcd_alone and lcm.reference_solution == f"{gcd_alone}\n{lcm_fn.source}"
    # as a model would answer: the reference (with helpers), the function alone (the tests
    # define the helpers), and the function with its helpers redeclared with const
    lcm_source = lcm.reference_solution[len(lcm.context) + 1:]
    const_gcd = "const gcd = (a, b) => (b === 0 ? Math.abs(a) : gcd(b, a % b));\n"
    const_numerals = tasks["src/math.mjs::toRoman"].context.replace("const NUMERALS", "let NUMERALS")
    roman = tasks["src/math.mjs::toRoman"]
    answers = [(t, t.reference_solution) for t in generation.tasks] + [
        (lcm, lcm_source), (lcm, const_gcd + lcm_source), (roman, roman.reference_solution[len(roman.context) + 1:]),
        (roman, const_numerals + roman.reference_solution[len(roman.context):])]
    with Evaluator(sandbox=sandbox) as ev:
        results = ev.evaluate_many([(t, ev.completion_to_code(t, _fence(code))) for t, code in answers], tests="all")
        assert all(r.passed for r in results), [(r.task_id, r.feedback) for r in results if not r.passed]
        # and wrong answers fail
        wrong = [(lcm, "function lcm(a, b) { return a * b; }\n"),
                 (tasks["src/strings.js::slugify"], "function slugify(text) { return text.toLowerCase(); }\n"),
                 (tasks["src/arrays.js::chunk"], "function chunk(items, size) { return [items]; }\n")]
        bad = ev.evaluate_many([(t, ev.completion_to_code(t, _fence(code))) for t, code in wrong], tests="all")
        assert not any(r.passed for r in bad)


def test_tasks_are_valid_task_jsonl(generation, tmp_path):
    from codeeval_rl.data import read_tasks, write_tasks

    path = tmp_path / "tasks.jsonl"
    write_tasks(path, list(generation.tasks))
    assert tuple(read_tasks(path)) == generation.tasks


def test_prompts_tiers_and_categories(generation):
    tasks = {t.id: t for t in generation.tasks}
    lcm = tasks["src/math.mjs::lcm"]
    assert "Least common multiple of two integers" in lcm.prompt and "function lcm(a, b)" in lcm.prompt
    assert "- function gcd(a, b)" in lcm.prompt and "```javascript" in lcm.prompt
    examples = lcm.prompt.split("Examples:\n")[1].split("\n\n")[0].splitlines()
    public = [c for c in lcm.tests if c.id in lcm.public_test_ids]
    for line, test in zip(examples, public):
        call, result = line.split("  // returns ")
        assert f"assert.deepStrictEqual({call}, {result});" in test.code
    assert "- const NUMERALS" in tasks["src/math.mjs::toRoman"].prompt
    assert "function truncate(text, max)" in tasks["src/strings.js::truncate"].prompt
    assert tasks["src/math.mjs::clamp"].tier == "easy" and tasks["src/math.mjs::toRoman"].tier == "medium"
    assert tasks["src/strings.js::slugify"].category == "strings" and tasks["src/arrays.js::chunk"].category == "arrays"
    assert tasks["src/math.mjs::gcd"].category == "math"
    raising = [c.code for c in tasks["src/math.mjs::toRoman"].tests if "assert.throws" in c.code]
    assert raising and all(", RangeError);" in c for c in raising)


def test_stage_counts_and_skips(run):
    generation, calls = run
    stages = {s.stage: s for s in generation.stages}
    assert [s.stage for s in generation.stages] == ["files", "functions", "inputs", "oracle", "selection", "tests",
                                                   "mutants", "mutation", "check", "tasks"]
    assert stages["files"].kept == 4 and dict(stages["files"].reasons) == {
        "ignored directory": 1, "minified": 1, "syntax error": 1}
    assert stages["functions"].kept == 10 and stages["functions"].dropped == 2
    assert stages["tasks"].kept == len(generation.tasks) == 10
    assert stages["tests"].kept == sum(len(t.tests) for t in generation.tasks)
    assert stages["mutants"].kept == sum(int(t.provenance["mutants"].split("/")[0]) for t in generation.tasks)
    assert dict(generation.skipped_functions)["src/clock.js::stamp"] == "uses Date.now"
    assert ("src/broken.js", "syntax error at line 5") in generation.skipped_files
    assert {s for s, _, _ in calls} == {"scan", "inputs", "oracle", "mutants", "check"}
    assert any(s == "check" and d == t for s, d, t in calls)


def test_same_seed_same_tasks_and_limit_takes_the_first(generation, sandbox):
    again = javascript_tasks(PROJECT, sandbox=sandbox, max_tests=MAX_TESTS, limit=2)
    assert again.tasks == generation.tasks[:2]


def test_bad_arguments_get_clear_messages(tmp_path):
    with pytest.raises(InputError, match="not a directory"):
        javascript_tasks(tmp_path / "missing")
    with pytest.raises(InputError, match="mutation_target"):
        javascript_tasks(tmp_path, mutation_target=1.5)
    with pytest.raises(InputError, match="max_tests"):
        javascript_tasks(tmp_path, max_tests=2)
    with pytest.raises(InputError, match="limit"):
        javascript_tasks(tmp_path, limit=-1)
