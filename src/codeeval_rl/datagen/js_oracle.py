"""JavaScript stages 3 and 5: run the original on every input (the oracle) and run tests
against mutants, both inside the sandbox through one fixed node driver (:data:`DRIVER`).

The driver reads a JSON job on stdin and prints one tagged JSON line per item. Each call runs
in a **fresh** ``vm`` context (its own globals, as a test program has its own process),
defined by compiling the subject (helpers + function) once and running it in the context, with
a per-call wall-clock ``timeout`` (:data:`CALL_TIMEOUT_MS`: an infinite loop is stopped and
reported, not fatal; a timeout without the CPU time to match is retried); an input on which
the original spends more than :data:`SLOW_CPU_MS` of CPU time is not used. The contexts
hold the ECMAScript globals and node's URL, URLSearchParams, TextEncoder, TextDecoder, atob,
btoa and structuredClone; no ``require``, ``process`` or ``console``.

Parts and slices: a function's items are split into parts (32 inputs; 6 mutants) that run
side by side. A program stops at the first item
boundary after about 60% of the sandbox's ``yield_after_s`` (150 ms by default) and says
where to go on, and a fresh program goes on at once. Short programs keep their normal CPU
priority, so a busy host slows them down but does not starve them. A program that dies (out
of memory) goes on from the item after the one it was running, which is recorded as
crashed. Crashes, restarts and the time of a whole run are bounded; items left over have no
record.

Oracle (:func:`run_oracle`)
    Every function's inputs run **twice** (two independent series of programs in the same
    batches) and an input is kept only when both runs froze the same outcome. Coverage: V8
    precise block coverage (``inspector`` ``Profiler.startPreciseCoverage`` with ``callCount``
    and ``detailed``), taken after each call; a *block* is a statement or a branch expression
    of the function (:func:`coverage_points`) and it is covered when the innermost V8 range
    around its start has a count above 0.

Freezing (the driver's ``lit``)
    A result must be written as a JavaScript expression that ``assert.deepStrictEqual``
    accepts against the original's value: numbers (``NaN``, ``Infinity``, ``-Infinity`` and
    ``-0`` as such; other numbers by JavaScript's shortest round-trip text), strings
    (JSON-escaped), booleans, ``null``, ``undefined``, bigints, dense plain arrays and plain
    objects (own enumerable string keys; accessors, symbol keys and a ``__proto__`` key are
    refused), and, converted explicitly, ``Map`` (``new Map([[k, v], ...])``), ``Set``
    (``new Set([...])``) and ``Date`` (``new Date(<ms>)``). Refused, with the reason: functions,
    symbols, class instances, array subclasses, sparse arrays, null-prototype objects,
    proxies, cycles, nesting deeper than 40 and literals longer than :data:`MAX_LITERAL`
    characters. A result holding a non-integer number (and no Map, Set, Date or bigint) is
    marked ``float``: its test compares within a tolerance; so is one holding an integer beyond
    2**53 (floating-point results that only look like integers). A result whose non-integer
    numbers all appear literally in the arguments (values passed through) stays ``exact``. A
    generator's result is its values, consumed up to 1000 (``iterable``).

Errors
    A thrown error becomes a ``raise`` outcome only when the function throws it itself: the
    top stack frame (after frames inside helper classes, i.e. error constructors) is inside a
    ``throw`` statement of the subject. Errors thrown by the runtime (``TypeError`` from
    ``null.length``, ``RangeError`` from ``'x'.repeat(-1)``, stack overflow), non-Error
    values, timeouts and crashes make the input ``unusable``, so no test pins an accident of
    the implementation. The value is the constructor's name when it is a JavaScript error
    class or a helper class, else the error's ``name`` (matched by name in the test).

Mutants (:func:`run_mutants`)
    Per function, the original first, run against every check (a check the original fails is
    dropped), then each mutant against the kept checks, stopping at the first failure
    (killed), and, when it survives them, against every extra check (which of them kill it).
    A check fails when it throws, including a timeout. A crash counts as a kill (a crash fails
    a test); mutants left without a record count as survivors.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codeeval_rl.datagen.js_inputs import JsInput
from codeeval_rl.datagen.js_select import JsCandidate
from codeeval_rl.datagen.js_syntax import parse
from codeeval_rl.datagen.model import Frozen
from codeeval_rl.types import Limits, Program

__all__ = [
    "BUILTIN_ERRORS",
    "CALL_TIMEOUT_MS",
    "DRIVER",
    "MAX_LITERAL",
    "SLOW_CPU_MS",
    "MutantRun",
    "OracleResult",
    "coverage_points",
    "run_mutants",
    "run_oracle",
]

MAX_LITERAL = 2000
"""Longest expected value (characters) written into a test."""

CALL_TIMEOUT_MS = 250
"""Wall-clock limit of one call in the driver (the original on one input; one check on one
mutant), which stops infinite loops. After a timeout the program ends (the sandbox has
probably moved it to the idle CPU class) and a fresh one goes on. A timeout with less than
half of it in CPU time was starved by a busy host, not looping: a fresh program tries the
item again, first in it, with the limit doubled at each restart (up to 3 restarts in a
row, so up to 8 times this limit). A mutant that is
correct but slower than this is counted as killed (the evaluator would give it
``test_timeout``)."""

SLOW_CPU_MS = 100
"""An input on which the original spends more CPU time than this is not used (its tests
would be slow)."""

BUILTIN_ERRORS = frozenset({"Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError",
                            "EvalError", "URIError", "AggregateError"})

_TAG = "@@CEJS"
_LIMITS = Limits(wall_time_s=60.0, memory_mb=1024, output_bytes=8 << 20)
_ORACLE_PART = 32  # inputs per part of an oracle run
_MUTANT_PART = 6  # mutants per part of a mutation run (the original is a part of its own)
_MAX_CRASHES = 4
_MAX_RESTARTS = 3
_RUN_BUDGET_S = 600.0

DRIVER = r"""'use strict';
const vm = require('vm');
const util = require('util');
const assert = require('assert');
const job = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const emit = (o) => process.stdout.write(job.tag + ' ' + JSON.stringify(o) + '\n');
const EXTRA = { URL, URLSearchParams, TextEncoder, TextDecoder, atob, btoa, structuredClone };
const fresh = (withAssert) => vm.createContext(withAssert ? Object.assign({ assert }, EXTRA) : Object.assign({}, EXTRA));
const started = Date.now();
// Stop after the slice (at an item boundary) and let the host start a fresh program for the
// rest: short programs never reach the sandbox's move to the idle CPU class.
const sliceOver = (i) => i > job.start && Date.now() - started > job.sliceMs;
class Unusable { constructor(why) { this.why = why; } }
const describe = (e) => {
  try { return (e && e.name ? e.name + ': ' : '') + String(e && e.message !== undefined ? e.message : e).slice(0, 200); }
  catch (_) { return 'an unprintable value'; }
};
const isTimeout = (e) => e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
const cpuMs = (since) => { const d = process.cpuUsage(since); return (d.user + d.system) / 1000; };
// A timeout after less than half the limit in CPU time: the host was busy, not the code. The
// program stops and a fresh one tries the item again, first in its program, with the limit
// doubled at each restart (at most job.maxRestarts times in a row).
const limit = (i) => job.timeoutMs * (i === job.start ? 2 ** job.restarts : 1);
const starved = (cpu, i) => cpuMs(cpu) < limit(i) / 2;
const mayRestart = (i) => i > job.start || job.restarts < job.maxRestarts;

function literal(v, ctx) {
  const P = vm.runInContext('({O: Object.prototype, A: Array.prototype, M: Map.prototype, S: Set.prototype, D: Date.prototype})', ctx);
  const st = { float: false, exactOnly: false };
  const seen = new Set();
  const key = (k) => /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k);
  const lit = (v, depth) => {
    if (depth > 40) throw new Unusable('nested too deeply');
    switch (typeof v) {
      case 'undefined': return 'undefined';
      case 'boolean': return String(v);
      case 'string': return JSON.stringify(v);
      case 'bigint': st.exactOnly = true; return String(v) + 'n';
      case 'symbol': throw new Unusable('returns a symbol');
      case 'function': throw new Unusable('returns a function');
      case 'number':
        if (Number.isNaN(v)) return 'NaN';
        if (v === Infinity) return 'Infinity';
        if (v === -Infinity) return '-Infinity';
        if (Object.is(v, -0)) return '-0';
        if (!Number.isSafeInteger(v)) st.float = true;
        return String(v);
    }
    if (v === null) return 'null';
    if (util.types.isProxy(v)) throw new Unusable('returns a proxy');
    if (seen.has(v)) throw new Unusable('returns a circular structure');
    seen.add(v);
    try {
      const proto = Object.getPrototypeOf(v);
      if (Object.getOwnPropertySymbols(v).length) throw new Unusable('has symbol keys');
      const descs = Object.getOwnPropertyDescriptors(v);
      const keys = Object.keys(v);
      for (const k of keys) if (!('value' in descs[k])) throw new Unusable('has an accessor property');
      if (Array.isArray(v)) {
        if (proto !== P.A) throw new Unusable('returns an array subclass');
        if (keys.length !== v.length) throw new Unusable('returns a sparse array or an array with extra properties');
        return '[' + keys.map((k) => lit(v[k], depth + 1)).join(', ') + ']';
      }
      if (proto === P.M) {
        st.exactOnly = true;
        if (keys.length) throw new Unusable('returns a Map with extra properties');
        return 'new Map([' + Array.from(P.M.entries.call(v), ([k, x]) => '[' + lit(k, depth + 1) + ', ' + lit(x, depth + 1) + ']').join(', ') + '])';
      }
      if (proto === P.S) {
        st.exactOnly = true;
        if (keys.length) throw new Unusable('returns a Set with extra properties');
        return 'new Set([' + Array.from(P.S.values.call(v), (x) => lit(x, depth + 1)).join(', ') + '])';
      }
      if (proto === P.D) {
        st.exactOnly = true;
        if (keys.length) throw new Unusable('returns a Date with extra properties');
        return 'new Date(' + lit(P.D.getTime.call(v), depth + 1) + ')';
      }
      if (proto === P.O) {
        if (keys.includes('__proto__')) throw new Unusable('has a __proto__ key');
        if (!keys.length) return '{}';
        return '{ ' + keys.map((k) => key(k) + ': ' + lit(v[k], depth + 1)).join(', ') + ' }';
      }
      if (proto === null) throw new Unusable('returns an object without a prototype');
      let name = 'an object';
      try { name = 'an instance of ' + (proto.constructor && proto.constructor.name || 'a class'); } catch (_) {}
      throw new Unusable('returns ' + name);
    } finally { seen.delete(v); }
  };
  const text = lit(v, 0);
  if (text.length > job.maxLiteral) throw new Unusable('its result is too large to write as a test');
  return { v: text, k: st.float && !st.exactOnly ? 'float' : 'exact' };
}

const lineStarts = (text) => { const s = [0]; for (let i = 0; i < text.length; i++) if (text[i] === '\n') s.push(i + 1); return s; };
const inside = (ranges, off) => ranges.some(([a, b]) => a <= off && off < b);

function thrownHere(e, starts) {
  let stack;
  try { stack = String(e.stack); } catch (_) { return false; }
  const frames = stack.split('\n').filter((l) => /^\s+at /.test(l));
  for (const f of frames) {
    const m = /ce_subject\.js:(\d+):(\d+)/.exec(f);
    if (!m) return false;
    const line = Number(m[1]) - 1, col = Number(m[2]) - 1;
    if (line >= starts.length) return false;
    const off = starts[line] + col;
    if (inside(job.throwRanges, off)) return true;
    if (!inside(job.classRanges, off)) return false;
  }
  return false;
}

function covered(cov, points) {
  const ranges = [];
  for (const s of cov.result) if (s.url === 'ce_subject.js') for (const fn of s.functions) for (const r of fn.ranges) ranges.push(r);
  const out = [];
  points.forEach((p, idx) => {
    let best = null;
    for (const r of ranges) if (r.startOffset <= p && p < r.endOffset && (!best || r.endOffset - r.startOffset < best.endOffset - best.startOffset)) best = r;
    if (best && best.count > 0) out.push(idx);
  });
  return out;
}

function oracle() {
  const inspector = require('inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (m, p) => { let r, err; session.post(m, p || {}, (e, x) => { err = e; r = x; }); if (err) throw err; return r; };
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  let subject;
  try { subject = new vm.Script(job.subject, { filename: 'ce_subject.js' }); }
  catch (e) { emit({ fatal: 'the function does not compile: ' + describe(e) }); return; }
  const starts = lineStarts(job.subject);
  for (let i = job.start; i < job.stop; i++) {
    if (sliceOver(i)) { emit({ more: i }); return; }
    const call = job.entry + '(' + job.inputs[i] + ')';
    const code = job.generator
      ? '(() => { const out = []; for (const v of ' + call + ') { if (out.length >= 1000) return "__ce_too_long__"; out.push(v); } return out; })()'
      : call;
    let script;
    try { script = new vm.Script(code, { filename: 'ce_call.js' }); }
    catch (e) { emit({ i, o: 'unusable', v: 'the arguments do not parse' }); continue; }
    const cpu0 = process.cpuUsage();
    const r = (() => {
      const ctx = fresh(false);
      try { subject.runInContext(ctx, { timeout: limit(i) }); }
      catch (e) { return { threw: true, err: e, defining: true }; }
      post('Profiler.takePreciseCoverage');
      const cpu = process.cpuUsage();
      try {
        const value = script.runInContext(ctx, { timeout: limit(i) });
        return { ctx, value, spent: cpuMs(cpu), cov: post('Profiler.takePreciseCoverage') };
      } catch (e) {
        return { ctx, threw: true, err: e, spent: cpuMs(cpu), cov: post('Profiler.takePreciseCoverage') };
      }
    })();
    const timedOut = r.threw && isTimeout(r.err);
    if (timedOut && starved(cpu0, i) && mayRestart(i)) { emit({ more: i }); return; }
    if (r.defining) {
      emit({ i, o: 'unusable', v: 'defining the function failed: ' + describe(r.err) });
      if (timedOut) { emit({ more: i + 1 }); return; }
      continue;
    }
    const { ctx, value, threw, err } = r;
    const c = covered(r.cov, job.points);
    let rec;
    if (threw && isTimeout(err)) {
      rec = { o: 'unusable', v: 'timeout' };
    } else if (r.spent > job.slowMs) {
      rec = { o: 'unusable', v: 'slow: more than ' + job.slowMs + ' ms of CPU' };
    } else if (threw) {
      if (err === null || (typeof err !== 'object' && typeof err !== 'function')) rec = { o: 'unusable', v: 'throws a non-Error value' };
      else if (!vm.runInContext('Error.prototype', ctx).isPrototypeOf(err)) rec = { o: 'unusable', v: 'throws a non-Error value' };
      else if (!thrownHere(err, starts)) rec = { o: 'unusable', v: 'the runtime throws ' + describe(err) };
      else {
        let ctor = '', name = '';
        try { ctor = String(err.constructor && err.constructor.name || ''); name = String(err.name); } catch (_) {}
        rec = { o: 'raise', v: ctor, n: name };
      }
    } else if (value === '__ce_too_long__') {
      rec = { o: 'unusable', v: 'the generator yields more than 1000 values' };
    } else {
      try { rec = Object.assign({ o: 'return' }, literal(value, ctx)); }
      catch (e) { rec = { o: 'unusable', v: e instanceof Unusable ? e.why : 'freezing failed: ' + describe(e) }; }
    }
    emit(Object.assign({ i, c }, rec));
    if (timedOut) { emit({ more: i + 1 }); return; }  // this program may have lost its priority
  }
  emit({ end: true });
}

function mutants() {
  const checks = job.checks.map((c) => { try { return new vm.Script('{\n' + c + '\n}', { filename: 'ce_check.js' }); } catch (e) { return null; } });
  // 'pass', 'fail', 'timeout' (a failure) or 'starved' (a timeout without the CPU time to match)
  const verdict = (script, i, j) => {
    if (!checks[j]) return 'fail';
    const ctx = fresh(true);
    const cpu = process.cpuUsage();
    try {
      script.runInContext(ctx, { timeout: limit(i) });
      checks[j].runInContext(ctx, { timeout: limit(i) });
      return 'pass';
    } catch (e) {
      if (!isTimeout(e)) return 'fail';
      return starved(cpu, i) ? 'starved' : 'timeout';
    }
  };
  for (let i = job.start; i < job.stop; i++) {
    if (sliceOver(i)) { emit({ more: i }); return; }
    let script;
    try { script = new vm.Script(job.context + job.mutants[i], { filename: 'ce_subject.js' }); }
    catch (e) { emit({ i, valid: false }); continue; }
    const failed = [];
    let killedByKept = false, timedOut = false;
    for (let j = 0; j < checks.length && !(i > 0 && (killedByKept || timedOut)); j++) {
      const v = verdict(script, i, j);
      if (v === 'starved' && mayRestart(i)) { emit({ more: i }); return; }
      if (v === 'pass') continue;
      failed.push(j);
      if (j < job.kept) killedByKept = true;
      timedOut = v !== 'fail';
    }
    emit({ i, valid: true, failed });
    if (timedOut && i > 0) { emit({ more: i + 1 }); return; }  // this program may have lost its priority
  }
  emit({ end: true });
}

if (job.mode === 'oracle') oracle(); else mutants();
"""


# ---- offsets -------------------------------------------------------------------------------------
def _utf16_of_bytes(text: str) -> list[int]:
    """For each UTF-8 byte offset of ``text`` (and its end), the UTF-16 offset."""
    out: list[int] = []
    u = 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        out.extend([u] * n)
        u += 2 if ord(ch) > 0xFFFF else 1
    out.append(u)
    return out


_STATEMENTS = frozenset({"lexical_declaration", "variable_declaration"})
_SHORT_CIRCUIT = frozenset({"&&", "||", "??"})


def _entry_node(tree):  # type: ignore[no-untyped-def]
    stmts = [c for c in tree.root_node.named_children if c.type != "comment"]
    return stmts[-1] if stmts else tree.root_node


def coverage_points(subject: str) -> tuple[tuple[int, int], ...]:
    """The blocks of the function defined last in ``subject``: (start, end) byte offsets of
    its body, its statements and its branch expressions (both arms of ``?:``, the right side of
    ``&&``/``||``/``??``), in source order."""
    tree = parse(subject)
    entry = _entry_node(tree)
    points: dict[tuple[int, int], None] = {}
    stack = [entry]
    while stack:
        n = stack.pop()
        t = n.type
        if n is not entry and ((t.endswith("_statement") and t != "empty_statement") or t in _STATEMENTS):
            points[(n.start_byte, n.end_byte)] = None
        elif t in ("arrow_function", "function_expression", "function_declaration",
                   "generator_function", "generator_function_declaration"):
            body = n.child_by_field_name("body")
            if body is not None:
                points[(body.start_byte, body.end_byte)] = None
        elif t == "ternary_expression":
            for f in ("consequence", "alternative"):
                arm = n.child_by_field_name(f)
                if arm is not None:
                    points[(arm.start_byte, arm.end_byte)] = None
        elif t == "binary_expression":
            op = n.child_by_field_name("operator")
            right = n.child_by_field_name("right")
            if op is not None and op.type in _SHORT_CIRCUIT and right is not None:
                points[(right.start_byte, right.end_byte)] = None
        stack.extend(n.children)
    return tuple(sorted(points))


def _ranges(subject: str, types: frozenset[str]) -> list[tuple[int, int]]:
    tree = parse(subject)
    out = []
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type in types:
            out.append((n.start_byte, n.end_byte))
        stack.extend(n.children)
    return sorted(out)


# ---- running the driver --------------------------------------------------------------------------
def _program(job: Mapping[str, Any], start: int) -> Program:
    return Program(language="javascript", source=DRIVER, stdin=json.dumps({**job, "start": start}))


@dataclass
class _Output:
    items: dict[int, dict[str, Any]]
    end: bool = False
    more: int | None = None
    fatal: str = ""


def _records(stdout: str) -> _Output:
    """The item records of one program, and how it ended (``end``, ``more``: the item to go on
    from, or a ``fatal`` message)."""
    out = _Output(items={})
    for line in stdout.split("\n"):
        if not line.startswith(_TAG + " "):
            continue
        try:
            rec = json.loads(line[len(_TAG) + 1:])
        except ValueError:
            continue
        if rec.get("end"):
            out.end = True
        elif isinstance(rec.get("more"), int):
            out.more = rec["more"]
        elif "fatal" in rec:
            out.fatal = str(rec["fatal"])
        elif isinstance(rec.get("i"), int):
            out.items[rec["i"]] = rec
    return out


def _slice_ms(sandbox: Any) -> int:
    """How long one driver program may work: well under the sandbox's ``yield_after_s``."""
    settings = getattr(sandbox, "settings", None)
    if settings is None or not hasattr(settings, "yield_after_s"):
        return 150
    y = settings.yield_after_s
    return 60_000 if y is None else max(50, int(y * 1000 * 0.6))


@dataclass
class _Part:
    """Items [start, stop) of one job, run by one program after another."""

    job: int
    start: int
    stop: int
    restarts: int = 0  # fresh programs in a row that were starved on their first item
    crashes: int = 0


def _run_jobs(sandbox: Any, jobs: Sequence[Mapping[str, Any]], bounds: Sequence[Sequence[int]],
              crashed: Callable[[str], dict[str, Any]],
              progress: Callable[[int, int], None] | None = None) -> list[tuple[dict[int, dict[str, Any]], str]]:
    """Run every job's items, split into parts at ``bounds[k]`` (``[0, 32, 64]``: two parts).

    The parts run side by side (four per sandbox worker: the sandbox's permits keep the runs at
    normal priority to its size, and yielded runs let others start), each as a chain of short
    programs: a program that stops after its slice is followed at once by one that
    goes on (no batch waits for its slowest program). After a crash the part goes on from the
    next item; the crashed one gets ``crashed(reason)``. Bounded by :data:`_MAX_CRASHES`
    crashes and :data:`_MAX_RESTARTS` starved restarts per part and :data:`_RUN_BUDGET_S`
    seconds in all: items left over have no record. Per job: its item records and a fatal
    message ("" when none). What the sandbox raises is raised here."""
    results: list[dict[int, dict[str, Any]]] = [{} for _ in jobs]
    fatal = [""] * len(jobs)
    parts = [_Part(k, a, b) for k, bs in enumerate(bounds) for a, b in itertools.pairwise(bs) if a < b]
    total = sum(p.stop - p.start for p in parts)
    queue = deque((p, p.start) for p in parts)
    cond = threading.Condition()
    failures: list[BaseException] = []
    active = 0
    slice_ms = _slice_ms(sandbox)
    stop_at = time.monotonic() + _RUN_BUDGET_S

    def step(part: _Part, start: int) -> int | None:
        job = {**jobs[part.job], "sliceMs": slice_ms, "restarts": part.restarts, "maxRestarts": _MAX_RESTARTS,
               "stop": part.stop}
        run = sandbox.run_many([_program(job, start)], _LIMITS)[0]
        out = _records(run.stdout)
        with cond:
            results[part.job].update(out.items)
            if out.fatal:
                fatal[part.job] = out.fatal
        if out.fatal or out.end:
            return None
        if out.more is not None and out.more > start:
            part.restarts = 0
            return out.more if out.more < part.stop else None
        if out.more == start and part.restarts < _MAX_RESTARTS:
            part.restarts += 1
            return start
        reached = max([start - 1, *out.items])
        if reached + 1 < part.stop:
            with cond:
                results[part.job][reached + 1] = crashed(run.reason or run.status.value)
        part.crashes += 1
        return reached + 2 if reached + 2 < part.stop and part.crashes < _MAX_CRASHES else None

    def worker() -> None:
        nonlocal active
        while True:
            with cond:
                while not queue and active:
                    cond.wait()
                if not queue or failures:
                    cond.notify_all()
                    return
                part, start = queue.popleft()
                active += 1
            nxt = None
            try:
                if time.monotonic() < stop_at:
                    nxt = step(part, start)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
                with cond:
                    failures.append(exc)
            with cond:
                active -= 1
                if nxt is not None:
                    queue.append((part, nxt))
                done = sum(len(r) for r in results)
                cond.notify_all()
            if progress is not None:
                progress(min(done, total), total)

    # More client threads than normal-priority slots: the sandbox's permits bound the runs at
    # normal priority, and a run that yields (a starved program, a loop) lets the next one start
    # beside it on a spare worker instead of holding up its thread's queue.
    size = int(getattr(sandbox, "size", 2) or 2)
    threads = [threading.Thread(target=worker, name="codeeval-js-driver", daemon=True)
               for _ in range(max(1, min(size * 4, len(parts))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return [(results[k], fatal[k]) for k in range(len(jobs))]


# ---- oracle --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OracleResult:
    """The oracle's verdict on one function: one :class:`Frozen` per input (in input order;
    ``unusable`` ones say why), and the coverage blocks (``Frozen.arcs`` holds the blocks an
    input covered, as (start, end) byte offsets within the subject)."""

    frozen: tuple[Frozen, ...]
    blocks: tuple[tuple[int, int], ...] = ()
    fatal: str = ""
    reasons: Mapping[str, int] = field(default_factory=dict)


def _error_value(rec: Mapping[str, Any], helper_classes: Sequence[str]) -> str:
    ctor = str(rec.get("v", ""))
    return ctor if ctor in BUILTIN_ERRORS or ctor in helper_classes else str(rec.get("n", "")) or "Error"


_NUMBER = re.compile(r"(?<![\w$.])-?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?(?![\w$.])", re.IGNORECASE)


def _passed_through(value: str, args: str) -> bool:
    """Whether every number of ``value`` that is not a safe integer appears in ``args`` (so the
    result holds the input's own values and compares exactly)."""
    given = set(_NUMBER.findall(args))
    for token in _NUMBER.findall(value):
        try:
            number = float(token)
        except ValueError:
            return False
        if number.is_integer() and abs(number) <= 2 ** 53 - 1:
            continue
        if token not in given:
            return False
    return True


def _frozen(inp: JsInput, a: Mapping[str, Any] | None, b: Mapping[str, Any] | None,
            blocks: Sequence[tuple[int, int]], cand: JsCandidate) -> Frozen:
    if a is None or b is None:
        return Frozen(inp.args, "unusable", "not run", source=inp.source)
    if a.get("crashed") or b.get("crashed"):
        return Frozen(inp.args, "unusable", f"crashed ({(a if a.get('crashed') else b).get('v', '')})", source=inp.source)
    key = ("o", "v", "n", "k")
    if any(a.get(x) != b.get(x) for x in key):
        first, second = (f"{r.get('o')} {str(r.get('v'))[:60]}" for r in (a, b))
        return Frozen(inp.args, "unusable", f"nondeterministic: the two runs disagree ({first} / {second})",
                      source=inp.source)
    arcs = frozenset(blocks[c] for c in a.get("c", ()) if isinstance(c, int) and 0 <= c < len(blocks))
    outcome = a.get("o")
    if outcome == "return":
        floating = a.get("k") == "float" and not _passed_through(str(a["v"]), inp.args)
        kind = "iterable" if cand.generator else ("float" if floating else "exact")
        return Frozen(inp.args, "return", str(a["v"]), kind, arcs, inp.source)  # type: ignore[arg-type]
    if outcome == "raise":
        return Frozen(inp.args, "raise", _error_value(a, cand.helper_classes), "exact", arcs, inp.source)
    return Frozen(inp.args, "unusable", str(a.get("v", "unusable")), arcs=arcs, source=inp.source)


def _reason_key(f: Frozen) -> str:
    v = f.value
    for prefix in ("the runtime throws", "nondeterministic", "crashed", "returns an instance of", "defining the function",
                   "slow"):
        if v.startswith(prefix):
            return prefix
    return v


def run_oracle(sandbox: Any, work: Sequence[tuple[JsCandidate, Sequence[JsInput]]],
               progress: Callable[[int, int], None] | None = None) -> list[OracleResult]:
    """Run every function's original on its inputs, twice, in one sandbox batch (rules in the
    module docstring); results in ``work`` order."""
    jobs: list[dict[str, Any]] = []
    bounds: list[list[int]] = []
    blocks_of: list[tuple[tuple[int, int], ...]] = []
    for cand, inputs in work:
        subject = cand.subject
        u16 = _utf16_of_bytes(subject)
        blocks = coverage_points(subject)
        blocks_of.append(blocks)
        job = {
            "mode": "oracle", "tag": _TAG, "subject": subject, "entry": cand.function.name,
            "generator": cand.generator, "inputs": [i.args for i in inputs],
            "points": [u16[a] for a, _ in blocks],
            "throwRanges": [[u16[a], u16[b]] for a, b in _ranges(subject, frozenset({"throw_statement"}))],
            "classRanges": [[u16[a], u16[b]] for a, b in _ranges(subject, frozenset({"class_body"}))],
            "timeoutMs": CALL_TIMEOUT_MS, "slowMs": SLOW_CPU_MS, "maxLiteral": MAX_LITERAL,
        }
        for _ in range(2):
            jobs.append(job)
            bounds.append([*range(0, len(inputs), _ORACLE_PART), len(inputs)])
    runs = _run_jobs(sandbox, jobs, bounds, lambda why: {"crashed": True, "v": why}, progress)
    out: list[OracleResult] = []
    for n, (cand, inputs) in enumerate(work):
        (a, fa), (b, fb) = runs[2 * n], runs[2 * n + 1]
        if fa or fb:
            out.append(OracleResult(frozen=(), blocks=blocks_of[n], fatal=fa or fb))
            continue
        frozen = tuple(_frozen(inp, a.get(i), b.get(i), blocks_of[n], cand) for i, inp in enumerate(inputs))
        reasons: dict[str, int] = {}
        for f in frozen:
            if f.outcome == "unusable":
                reasons[_reason_key(f)] = reasons.get(_reason_key(f), 0) + 1
        out.append(OracleResult(frozen=frozen, blocks=blocks_of[n], reasons=reasons))
    return out


# ---- mutants -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MutantRun:
    """What the checks did to one function's original and mutants.

    ``original_failures``: checks the original fails here (to be dropped). ``mutants``: per
    mutant (in order), ``None`` when it does not compile (not counted), else the indices of
    the checks that kill it (for a mutant killed by a kept check, that first check only; a
    mutant left without a record has an empty set: a survivor)."""

    original_failures: frozenset[int]
    mutants: tuple[frozenset[int] | None, ...]


def run_mutants(sandbox: Any, work: Sequence[tuple[str, str, Sequence[str], Sequence[str], int]],
                progress: Callable[[int, int], None] | None = None) -> list[MutantRun]:
    """``work``: per function (context code, original source, mutant sources, check
    snippets, how many leading checks are the kept tests). One sandbox batch."""
    jobs = []
    bounds: list[list[int]] = []
    for context, original, mutant_sources, checks, kept in work:
        prefix = f"{context}\n" if context else ""
        jobs.append({"mode": "mutants", "tag": _TAG, "context": prefix,
                     "mutants": [original, *mutant_sources], "checks": list(checks), "kept": kept,
                     "timeoutMs": CALL_TIMEOUT_MS})
        bounds.append([0, *range(1, 1 + len(mutant_sources), _MUTANT_PART), 1 + len(mutant_sources)])
    runs = _run_jobs(sandbox, jobs, bounds, lambda why: {"valid": True, "failed": [-1], "crashed": why}, progress)
    out = []
    for (records, _), (_, _, mutant_sources, checks, _) in zip(runs, work):
        first = records.get(0, {})
        usable = first.get("valid") and not first.get("crashed")
        failing = frozenset(first.get("failed", ())) if usable else frozenset(range(len(checks)))
        per: list[frozenset[int] | None] = []
        for i in range(1, 1 + len(mutant_sources)):
            rec = records.get(i)
            if rec is None or rec.get("skipped"):
                per.append(frozenset())
            elif not rec.get("valid"):
                per.append(None)
            else:
                per.append(frozenset(int(j) for j in rec.get("failed", ())))
        out.append(MutantRun(original_failures=failing, mutants=tuple(per)))
    return out
