"""Stage 3 for Python: run the original function on every input in the sandbox and freeze
what it did.

One sandbox program per function runs all its inputs: the function's module slice
(``context_code + source``) is written to ``/box/target.py`` and imported, then each call
runs under ``coverage`` (branch mode, the system's ``python3-coverage``; without it, arcs are
empty and tests are chosen by distinct results only) with a per-call time limit. For each
input the driver reports one JSON record:

* ``return``: the result's ``repr``, kept only when it **round-trips**: evaluated in the
  module's namespace (plus the standard library types it names: ``Decimal``, ``Fraction``,
  ``datetime``, ``Counter``, ``OrderedDict``, ``defaultdict``, ``deque``) it gives a value
  equal to the result and of the same type, recursively for containers. An iterator or
  generator is consumed (at most 10,000 items) and frozen as a list (``kind="iterable"``);
  a float result is compared with a tolerance (``kind="float"``); an enum member is written
  ``Class.NAME``. Anything else (an object without a faithful ``repr``, a result over 4000
  characters, ``nan``) is ``unusable``.
* ``raise``: the exception's type name, when a test can name it: a builtin exception, or a
  class the module slice defines. ``RecursionError``, ``MemoryError`` and the time limit are
  ``unusable``.

The program runs **twice** (each run has its own hash seed, so set ordering that depends on
string hashing shows up) and an input is kept only when both runs froze the same outcome:
``deterministic`` inputs. A function whose runs disagree on more than half its inputs, or
whose program fails as a whole (an import missing in the sandbox, a crash at import), is
rejected with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from codeeval_rl.datagen.inputs import Input
from codeeval_rl.datagen.model import Frozen, SourceFunction
from codeeval_rl.types import ExecutionResult, Limits, Program, Status

__all__ = ["OracleRun", "freeze_program", "freeze_results", "read_records"]

CALL_TIMEOUT_S = 1.0
"""Per-call limit in the oracle (a slower input is dropped, not the function)."""

_DRIVER = r'''
import sys, os
_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
sys.path.append("/usr/lib/python3/dist-packages")
import json, signal, types
import collections, datetime, decimal, enum, fractions, math
_out = os.fdopen(os.dup(1), "w")
_null = os.open("/dev/null", os.O_WRONLY)
os.dup2(_null, 1)
os.dup2(_null, 2)
try:
    import coverage as _coverage
except Exception:
    _coverage = None
_cov = _coverage.Coverage(data_file=None, branch=True, include=[os.path.join(_here, "target.py")]) if _coverage else None
_t0 = None
if _cov is not None:
    _cov.start()
try:
    import target as _target
    _load_error = None
except BaseException as _exc:
    _target = None
    _load_error = "%s: %s" % (type(_exc).__name__, str(_exc)[:300])
if _cov is not None:
    _cov.stop()
    _cov.erase()

_STD = {"Decimal": decimal.Decimal, "Fraction": fractions.Fraction, "datetime": datetime,
        "Counter": collections.Counter, "OrderedDict": collections.OrderedDict,
        "defaultdict": collections.defaultdict, "deque": collections.deque}
_STD_IMPORTS = {decimal.Decimal: "from decimal import Decimal", fractions.Fraction: "from fractions import Fraction",
                datetime.date: "import datetime", datetime.datetime: "import datetime", datetime.time: "import datetime",
                datetime.timedelta: "import datetime", datetime.timezone: "import datetime",
                collections.Counter: "from collections import Counter",
                collections.OrderedDict: "from collections import OrderedDict",
                collections.deque: "from collections import deque"}
_ATOMS = (type(None), bool, int, float, complex, str, bytes)


class _Slow(BaseException):
    pass


def _alarm(signum, frame):
    raise _Slow()


signal.signal(signal.SIGALRM, _alarm)


def _written(value, imports, depth=0):
    """Source text for value, or None; records the imports the text needs."""
    if depth > 20:
        return None
    t = type(value)
    if t in _ATOMS:
        if t is float and (value != value):
            return None
        if t is float and value in (float("inf"), float("-inf")):
            imports.add("import math")
            return "math.inf" if value > 0 else "-math.inf"
        return repr(value)
    if isinstance(value, enum.Enum):
        cls = t
        if getattr(_target, cls.__name__, None) is cls:
            return "%s.%s" % (cls.__name__, value.name)
        return None
    if t in (list, tuple, set, frozenset):
        parts = []
        for item in (sorted(value, key=repr) if t in (set, frozenset) else value):
            text = _written(item, imports, depth + 1)
            if text is None:
                return None
            parts.append(text)
        if t is list:
            return "[" + ", ".join(parts) + "]"
        if t is tuple:
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        if not parts:
            return "set()" if t is set else "frozenset()"
        return ("{" + ", ".join(parts) + "}") if t is set else "frozenset({" + ", ".join(parts) + "})"
    if t is dict or t is collections.OrderedDict or t is collections.Counter:
        parts = []
        for k, v in value.items():
            kt, vt = _written(k, imports, depth + 1), _written(v, imports, depth + 1)
            if kt is None or vt is None:
                return None
            parts.append(kt + ": " + vt)
        body = "{" + ", ".join(parts) + "}"
        if t is dict:
            return body
        imports.add(_STD_IMPORTS[t])
        return "%s(%s)" % (t.__name__, body)
    if t in _STD_IMPORTS:
        imports.add(_STD_IMPORTS[t])
        text = repr(value)
        if t is collections.deque:
            inner = _written(list(value), imports, depth + 1)
            return None if inner is None else "deque(%s)" % inner
        return text
    # a namedtuple or dataclass of the module: its repr, when it evaluates back
    name = t.__name__
    if getattr(_target, name, None) is t and (hasattr(t, "_fields") or hasattr(t, "__dataclass_fields__")):
        return repr(value)
    return None


def _freeze(value):
    imports = set()
    kind = "exact"
    if isinstance(value, (types.GeneratorType, map, filter, zip, enumerate, reversed)) or (
            hasattr(value, "__next__") and hasattr(value, "__iter__") and not isinstance(value, (str, bytes))):
        items = []
        for item in value:
            items.append(item)
            if len(items) > 10000:
                return "unusable", "yields more than 10000 items", kind, ()
        value = items
        kind = "iterable"
    text = _written(value, imports)
    if text is None:
        return "unusable", "the result (%s) has no faithful repr" % type(value).__name__, kind, ()
    if len(text) > 4000:
        return "unusable", "the result is longer than 4000 characters", kind, ()
    ns = dict(vars(_target))
    ns.update(_STD)
    ns["math"] = math
    try:
        back = eval(text, ns)
    except BaseException as exc:
        return "unusable", "the result's repr does not evaluate (%s)" % type(exc).__name__, kind, ()
    if not _same(back, value):
        return "unusable", "the result's repr does not evaluate back to an equal value", kind, ()
    if type(value) is float and kind == "exact":
        kind = "float"
    return "return", text, kind, tuple(sorted(imports))


def _same(a, b, depth=0):
    if type(a) is not type(b) or depth > 50:
        return False
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b))
    if type(a) in (dict, collections.OrderedDict, collections.Counter):
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    try:
        return bool(a == b)
    except BaseException:
        return False


def _exception_name(exc):
    t = type(exc)
    if t.__module__ == "builtins":
        return t.__name__
    if getattr(_target, t.__name__, None) is t:
        return t.__name__
    return None


def _arcs():
    if _cov is None:
        return []
    data = _cov.get_data()
    found = []
    for name in data.measured_files():
        found.extend(data.arcs(name) or [])
    _cov.erase()
    return sorted(found)


def _run(entry, cases, limit):
    if _target is None:
        _out.write(json.dumps({"load_error": _load_error}) + "\n")
        return
    fn = getattr(_target, entry, None)
    ns = dict(vars(_target))
    for i, args in enumerate(cases):
        record = {"i": i}
        try:
            call = eval("lambda: __f__(%s)" % args, dict(ns, __f__=fn))
        except BaseException as exc:
            record.update(outcome="unusable", value="the arguments do not evaluate (%s)" % type(exc).__name__)
            _out.write(json.dumps(record) + "\n")
            continue
        if _cov is not None:
            _cov.start()
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            try:
                result = call()
                outcome = ("return", result)
            except _Slow:
                raise
            except (RecursionError, MemoryError) as exc:
                outcome = ("unusable", type(exc).__name__)
            except BaseException as exc:
                outcome = ("raise", exc)
            if outcome[0] == "return":
                frozen = _freeze(outcome[1])
            elif outcome[0] == "raise":
                name = _exception_name(outcome[1])
                frozen = ("raise", name, "exact", ()) if name else (
                    "unusable", "raises %s, which a test cannot name" % type(outcome[1]).__name__, "exact", ())
            else:
                frozen = ("unusable", outcome[1], "exact", ())
        except _Slow:
            frozen = ("unusable", "slower than the per-call limit", "exact", ())
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if _cov is not None:
                _cov.stop()
        record.update(outcome=frozen[0], value=frozen[1], kind=frozen[2], imports=list(frozen[3]), arcs=_arcs())
        _out.write(json.dumps(record) + "\n")
        _out.flush()
'''


@dataclass(frozen=True)
class OracleRun:
    """The frozen inputs of one function, and why it was rejected (``""`` when kept).
    ``imports`` maps an input's args to the import lines its expected value needs."""

    frozen: tuple[Frozen, ...]
    imports: dict[str, tuple[str, ...]]
    rejected: str = ""
    nondeterministic: int = 0
    unusable: dict[str, int] | None = None


def freeze_program(fn: SourceFunction, inputs: Sequence[Input], *, call_timeout_s: float = CALL_TIMEOUT_S) -> Program:
    """The sandbox program that runs ``fn`` on every input and prints one JSON line each."""
    module = fn.context_code + ("\n" if fn.context_code and not fn.context_code.endswith("\n") else "") + fn.source
    main = _DRIVER + f"\n_run({fn.name!r}, {[i.args for i in inputs]!r}, {call_timeout_s!r})\n_out.flush()\n"
    return Program(language="python", source=main, files={"target.py": module})


def read_records(run: ExecutionResult) -> tuple[list[dict], str]:
    """The driver's JSON records, and a problem with the run as a whole (``""`` if none)."""
    records: list[dict] = []
    for line in run.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    if records and "load_error" in records[0]:
        return [], f"does not load in the sandbox: {records[0]['load_error']}"
    if not records and run.status is not Status.OK:
        return [], f"the oracle run ended {run.status.value}: {(run.reason or run.stderr)[-200:]}"
    return records, ""


def oracle_limits(n_inputs: int, call_timeout_s: float = CALL_TIMEOUT_S) -> Limits:
    """Limits for one oracle run: enough wall time for every call to hit its own limit."""
    wall = min(120.0, 5.0 + n_inputs * call_timeout_s * 0.25)
    return Limits(wall_time_s=wall, cpu_time_s=wall, memory_mb=1024, output_bytes=16 << 20)


def freeze_results(inputs: Sequence[Input], first: ExecutionResult, second: ExecutionResult) -> OracleRun:
    """Compare the two oracle runs of one function and freeze the inputs both agree on."""
    a, problem = read_records(first)
    if problem:
        return OracleRun((), {}, problem)
    b, problem = read_records(second)
    if problem:
        return OracleRun((), {}, problem)
    by_index = {r.get("i"): r for r in b}
    frozen: list[Frozen] = []
    imports: dict[str, tuple[str, ...]] = {}
    unusable: dict[str, int] = {}
    disagree = 0
    for rec in a:
        i = rec.get("i")
        if not isinstance(i, int) or not 0 <= i < len(inputs):
            continue
        other = by_index.get(i)
        if other is None:
            continue
        if (rec.get("outcome"), rec.get("value")) != (other.get("outcome"), other.get("value")):
            disagree += 1
            continue
        if rec.get("outcome") == "unusable":
            reason = str(rec.get("value", ""))
            unusable[reason] = unusable.get(reason, 0) + 1
            continue
        args = inputs[i].args
        frozen.append(Frozen(
            args=args, outcome=rec["outcome"], value=str(rec["value"]), kind=rec.get("kind", "exact"),
            arcs=frozenset(tuple(x) for x in rec.get("arcs", ()) if isinstance(x, list) and len(x) == 2),
            source=inputs[i].source))
        imports[args] = tuple(rec.get("imports", ()))
    compared = len(frozen) + disagree + sum(unusable.values())
    if compared and disagree * 2 > compared:
        return OracleRun((), {}, f"nondeterministic: two runs disagree on {disagree} of {compared} inputs",
                         disagree, unusable)
    return OracleRun(tuple(frozen), imports, "", disagree, unusable)
