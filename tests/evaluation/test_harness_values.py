"""The assert harness compares the standard library's value types through trusted canonical
forms (real sandbox): each accepted type passes when equal and fails when different, and each
attack below, a wrong solution that tries to pass through those types, must FAIL.

See step 6 of :mod:`codeeval_rl.evaluation._harness` for the contract. All solutions run as a
few ``evaluate_many`` batches; a case is ``(solution, [test code, ...])`` and each test code is
one test of the task, so every assertion below is about one verdict.
"""

from __future__ import annotations

import collections
import datetime
import types

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.types import Status, Task, TestCase

VALUES = '''
import collections, dataclasses, datetime, enum, uuid
from decimal import Decimal
from fractions import Fraction

Point = collections.namedtuple("Point", "x y")

@dataclasses.dataclass
class Item:
    name: str
    price: Fraction
    tags: list = dataclasses.field(default_factory=list)

@dataclasses.dataclass(frozen=True, slots=True)
class Cell:
    row: int
    col: int = 0

class Color(enum.Enum):
    RED = 1
    GREEN = 2

class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2

class Perm(enum.Flag):
    R = 4
    W = 2

def price(): return Decimal("1.50")
def third(): return Fraction(1, 3)
def half(): return Fraction(1, 2)
def when(): return datetime.datetime(2024, 5, 6, 7, 8, tzinfo=datetime.timezone.utc)
def day(): return datetime.date(2024, 5, 6)
def span(): return datetime.timedelta(days=2)
def counts(s): return collections.Counter(s)
def ordered(): return collections.OrderedDict([("a", 1), ("b", 2)])
def point(): return Point(1, 2)
def item(): return Item("pen", Fraction(3, 2), ["blue"])
def cell(): return Cell(2)
def color(): return Color.RED
def level(): return Level.HIGH
def perms(): return Perm.R | Perm.W
def halves(n): return (Fraction(i, 2) for i in range(n))
def ident(): return uuid.UUID(int=7)
def mixed(): return {Color.RED: [Decimal("0.1"), third()], "cells": {Cell(1), Cell(2)}}
'''

# Accepted values that equal what the test expects: every test passes.
EQUAL = [
    ("from decimal import Decimal\nassert price() == Decimal('1.5')\nassert price() == 1.5\nassert price() > 1\n"
     "assert price() != Decimal('1.6')\nassert price().as_tuple().exponent == -2"),
    ("from fractions import Fraction\nassert third() == Fraction(2, 6)\nassert third() < 0.34\n"
     "assert third() > Fraction(1, 4)\nassert half() == 0.5\nassert third().numerator == 1"),
    ("import datetime\nassert when() == datetime.datetime(2024, 5, 6, 7, 8, tzinfo=datetime.timezone.utc)\n"
     "assert when() == datetime.datetime(2024, 5, 6, 9, 8, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))\n"
     "assert day() < datetime.date(2025, 1, 1)\nassert span() == datetime.timedelta(hours=48)"),
    ("from collections import Counter\nassert counts('aab') == Counter({'a': 2, 'b': 1})\n"
     "assert counts('aab') == {'a': 2, 'b': 1}\nassert counts('aab').most_common(1) == [('a', 2)]"),
    ("from collections import OrderedDict\nassert ordered() == OrderedDict([('a', 1), ('b', 2)])\n"
     "assert ordered() != OrderedDict([('b', 2), ('a', 1)])\nassert ordered() == {'b': 2, 'a': 1}"),
    "assert point() == (1, 2)\nassert point() == Point(1, 2)\nassert point().y == 2\nassert list(point()) == [1, 2]",
    ("from fractions import Fraction\nassert item() == Item('pen', Fraction(3, 2), ['blue'])\n"
     "assert item() == Item('pen', 1.5, ['blue'])\nassert item().price.denominator == 2"),
    "assert cell() == Cell(2)\nassert cell() == Cell(2, 0)\nassert {cell(), Cell(3)} == {Cell(3), Cell(2)}",
    "assert color() == Color.RED\nassert color() is Color.RED\nassert color() != Color.GREEN\nassert color().value == 1",
    ("assert level() == 2\nassert level() == Level.HIGH\nassert level() > Level.LOW\nassert perms() == Perm.W | Perm.R\n"
     "assert Perm.R in perms()"),
    "from fractions import Fraction\nassert list(halves(3)) == [0, Fraction(1, 2), 1]\nassert sum(halves(4)) == 3",
    "import uuid\nassert ident() == uuid.UUID(int=7)\nassert ident() != uuid.UUID(int=8)",
    ("from decimal import Decimal\nfrom fractions import Fraction\n"
     "assert mixed() == {Color.RED: [Decimal('0.10'), Fraction(1, 3)], 'cells': {Cell(2), Cell(1)}}"),
]

# The same values against what they are not: every test fails with a readable message.
DIFFERENT = [
    ("from decimal import Decimal\nassert price() == Decimal('1.49')", "actual: Decimal('1.50')"),
    ("from fractions import Fraction\nassert third() == Fraction(1, 4)", "actual: Fraction(1, 3)"),
    ("from fractions import Fraction\nassert third() > Fraction(1, 2)", "right: Fraction(1, 2)"),
    ("import datetime\nassert when() == datetime.datetime(2024, 5, 6, 7, 9, tzinfo=datetime.timezone.utc)",
     "actual: datetime.datetime(2024, 5, 6, 7, 8, tzinfo=datetime.timezone.utc)"),
    ("import datetime\nassert span() == datetime.timedelta(days=3)", "actual: datetime.timedelta(days=2)"),
    ("from collections import Counter\nassert counts('aab') == Counter('abb')", "actual: Counter({'a': 2, 'b': 1})"),
    ("from collections import OrderedDict\nassert ordered() == OrderedDict([('b', 2), ('a', 1)])",
     "actual: OrderedDict({'a': 1, 'b': 2})"),
    ("assert point() == (2, 1)", "actual: Point(x=1, y=2)"),
    ("assert point() == Point(1, 3)", "expected: Point(x=1, y=3)"),
    ("assert item() == Item('pen', 2, ['blue'])", "actual: Item(name='pen', price=Fraction(3, 2), tags=['blue'])"),
    ("assert cell() == Cell(2, 1)", "actual: Cell(row=2, col=0)"),
    ("assert color() == Color.GREEN", "actual: Color.RED"),
    ("assert level() == Level.LOW", "actual: Level.HIGH"),
    ("assert list(halves(2)) == [0, 1]", "actual: [Fraction(0, 1), Fraction(1, 2)]"),
    ("import uuid\nassert ident() == uuid.UUID(int=8)", "actual: UUID('00000000-0000-0000-0000-000000000007')"),
    ("from fractions import Fraction\nassert [third()] < [Fraction(1, 2)]", "does not order"),
]

EQ_TRUE = "    def __eq__(self, other):\n        return True\n"

# Wrong solutions that try to pass through the new types: every test of each must fail.
ATTACKS: dict[str, tuple[str, list[str]]] = {
    "dataclass_eq_always_true": (
        "from dataclasses import dataclass\n@dataclass(eq=False)\nclass P:\n    x: int\n" + EQ_TRUE
        + "    __hash__ = object.__hash__\ndef f():\n    return P(0)\n",
        ["assert f() == P(1)", "assert P(1) == f()", "assert [f()] == [P(1)]", "assert f() == (1,)"]),
    "namedtuple_subclass_lies": (
        "from collections import namedtuple\nP = namedtuple('P', 'x y')\nclass Q(P):\n" + EQ_TRUE
        + "    __hash__ = tuple.__hash__\n    def __iter__(self):\n        return iter((1, 2))\n"
        "    def __getitem__(self, i):\n        return (1, 2)[i]\n    def __len__(self):\n        return 2\n"
        "    def count(self, v):\n        return 1\ndef f():\n    return Q(0, 0)\n",
        ["assert f() == (1, 2)", "assert f() == P(1, 2)", "assert list(f()) == [1, 2]", "assert f()[0] == 1",
         "assert tuple(f()) == (1, 2)", "a, b = f()\nassert (a, b) == (1, 2)", "assert f().count(1) == 1"]),
    "dict_subclass_lies": (
        "class D(dict):\n    def keys(self):\n        return ['a']\n    def __iter__(self):\n        return iter(['a'])\n"
        "    def items(self):\n        return [('a', 1)]\n    def values(self):\n        return [1]\n"
        "    def __getitem__(self, k):\n        return 1\n    def get(self, k, d=None):\n        return 1\n"
        "    def __len__(self):\n        return 1\n    def copy(self):\n        return {'a': 1}\n" + EQ_TRUE
        + "    __hash__ = None\ndef f():\n    return D(a=0)\n",
        ["assert f() == {'a': 1}", "assert dict(f()) == {'a': 1}", "assert f()['a'] == 1", "assert f().get('a') == 1",
         "assert list(f().items()) == [('a', 1)]", "assert {**f()} == {'a': 1}", "assert f().copy() == {'a': 1}"]),
    "counter_subclass": (
        "from collections import Counter\nclass C(Counter):\n" + EQ_TRUE
        + "    __hash__ = None\n    def most_common(self, n=None):\n        return [('a', 2)]\n"
        "    def items(self):\n        return [('a', 2), ('b', 1)]\ndef f(s):\n    return C('z')\n",
        ["from collections import Counter\nassert f('aab') == Counter('aab')", "assert f('aab') == {'a': 2, 'b': 1}",
         "assert f('aab').most_common(1) == [('a', 2)]", "assert sorted(f('aab').items()) == [('a', 2), ('b', 1)]"]),
    "patched_counter_eq": (
        ("import collections\ncollections.Counter.__eq__ = lambda a, b: True\ncollections.Counter.__ne__ = lambda a, b: False\n"
         "def f(s):\n    return collections.Counter('zz')\n"),
        ["assert f('aab') == {'a': 2, 'b': 1}", "assert [f('aab')] == [{'a': 2, 'b': 1}]",
         "from collections import Counter\nassert f('aab') == Counter('aab')"]),
    "getattribute": (
        ("from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n    def __getattribute__(self, n):\n"
         "        return 1\ndef f():\n    return P(0)\n"), ["assert f() == P(1)", "assert f().x == 1"]),
    "dict_property": (
        ("from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n    @property\n    def __dict__(self):\n"
         "        return {'x': 1}\ndef f():\n    return P(0)\n"), ["assert f() == P(1)"]),
    "instance_dict_replaced": (
        ("from dataclasses import dataclass\nclass LD(dict):\n    def items(self):\n        return [('x', 1)]\n"
         "@dataclass\nclass P:\n    x: int\ndef f():\n    p = P(0)\n    p.__dict__ = LD(x=0)\n    return p\n"),
        ["assert f() == P(1)"]),
    "custom_metaclass": (
        "from dataclasses import dataclass\nclass M(type):\n    pass\n@dataclass\nclass P(metaclass=M):\n    x: int\n"
        + EQ_TRUE + "def f():\n    return P(0)\n", ["assert f() == P(1)"]),
    "lying_tzinfo": (
        ("import datetime\nclass Z(datetime.tzinfo):\n    def utcoffset(self, dt):\n"
         "        return dt.replace(tzinfo=None) - datetime.datetime(2020, 1, 1)\n    def dst(self, dt):\n        return None\n"
         "def f():\n    return datetime.datetime(1999, 1, 1, tzinfo=Z())\n"),
        ["import datetime\nassert f() == datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)"]),
    "fraction_subclass": (
        "from fractions import Fraction\nclass F(Fraction):\n" + EQ_TRUE + "    __hash__ = Fraction.__hash__\n"
        "def f():\n    return F(0)\n", ["from fractions import Fraction\nassert f() == Fraction(1, 2)"]),
    "patched_fraction_eq": (
        ("import fractions\nfractions.Fraction.__eq__ = lambda a, b: True\nfractions.Fraction.__ne__ = lambda a, b: False\n"
         "def f():\n    return fractions.Fraction(0)\n"),
        ["from fractions import Fraction\nassert f() == Fraction(1, 2)", "assert f() == 0.5"]),
    "patched_fraction_new": (  # every Fraction the test builds would be 0
        ("import fractions\n_new = fractions.Fraction.__new__\ndef zero(cls, *a, **k):\n    return _new(cls, 0)\n"
         "fractions.Fraction.__new__ = zero\ndef f():\n    fractions.Fraction.__new__ = zero\n    return fractions.Fraction(0)\n"),
        ["from fractions import Fraction\nassert f() == Fraction(1, 2)", "from fractions import Fraction\nr = f()\nassert r == Fraction(1, 2)"]),
    "patched_gcd_inside_the_call": (  # Fraction(1, 2) would normalise to 0 with this gcd
        "import math, fractions\ndef f():\n    math.gcd = lambda a, b: 2\n    return fractions.Fraction(0)\n",
        ["from fractions import Fraction\nr = f()\nassert r == Fraction(1, 2)"]),
    "fake_decimal_in_sys_modules": (
        "import sys, types, decimal\nclass FakeDecimal:\n    def __init__(self, *a):\n        pass\n" + EQ_TRUE
        + "    __hash__ = object.__hash__\nfake = types.ModuleType('decimal')\nfake.Decimal = FakeDecimal\n"
        "sys.modules['decimal'] = fake\ndecimal.Decimal = FakeDecimal\ndef f():\n    return FakeDecimal()\n",
        ["from decimal import Decimal\nassert f() == Decimal('1.5')", "import decimal\nassert f() == decimal.Decimal('1.5')"]),
    "dataclass_redefined_after_the_preamble": (
        "from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n\n"
        "@dataclass(eq=False)\nclass P:\n    x: int\n" + EQ_TRUE + "def f():\n    return P(0)\n",
        ["assert f() == P(1)", "assert [f()] == [P(1)]"]),
    "flag_and_returns_its_operand": (
        ("import enum\nclass Perm(enum.Flag):\n    R = 1\n    W = 2\n    def __and__(self, o):\n        return o\n"
         "def f():\n    return Perm.W\n"), ["assert (f() & Perm.R) == Perm.R"]),
    "intenum_lies": (
        "import enum\nclass N(enum.IntEnum):\n    A = 1\n" + EQ_TRUE + "    __hash__ = int.__hash__\n"
        "    def __sub__(self, o):\n        return 0\ndef f():\n    return N.A\n",
        ["assert f() == 2", "assert abs(f() - 2) < 1e-9"]),
    "enum_eq_always_true": (
        "import enum\nclass C(enum.Enum):\n    A = 1\n    B = 2\n" + EQ_TRUE + "    __hash__ = enum.Enum.__hash__\n"
        "def f():\n    return C.A\n", ["assert f() == C.B", "assert [f()] == [C.B]"]),
    "dataclass_sub_returns_zero": (
        ("from dataclasses import dataclass\n@dataclass\nclass H:\n    v: float\n    def __sub__(self, o):\n        return 0.0\n"
         "    def __rsub__(self, o):\n        return 0.0\ndef f(x):\n    return H(0.0)\n"),
        ["assert abs(f(5) - 2.5) < 1e-9"]),
    "dataclass_bool_false": (
        ("from dataclasses import dataclass\n@dataclass\nclass B:\n    v: int\n    def __bool__(self):\n        return False\n"
         "def f(x):\n    return B(0)\n"), ["assert f(1)\nassert not f(-1)"]),
    "generator_of_lying_namedtuples": (
        ("from collections import namedtuple\nP = namedtuple('P', 'x')\nclass Q(P):\n    def __iter__(self):\n"
         "        return iter((1,))\ndef f():\n    return (Q(0) for _ in range(1))\n"),
        ["assert [list(q) for q in f()] == [[1]]"]),
    "fraction_properties_patched": (
        ("from fractions import Fraction\nFraction.numerator = property(lambda s: 1)\n"
         "Fraction.denominator = property(lambda s: 2)\ndef f():\n    return Fraction(0)\n"),
        ["from fractions import Fraction\nassert f() == Fraction(1, 2)"]),
    # Not new types, but the exception tests this change enables: a solution that rebases the
    # harness's exception class onto ValueError, so that `except ValueError` swallows a failed
    # assert, and one whose class name is a str whose __radd__ raises ValueError into the
    # harness's message building.
    "failed_assert_swallowed_by_except": (
        ("for cls in BaseException.__subclasses__():\n    if cls.__module__ == '__codeeval_harness__':\n"
         "        try:\n            cls.__bases__ = (ValueError,)\n        except Exception:\n            pass\n"
         "def f(x):\n    return 0\n"),
        ["try:\n    f(-1)\n    assert False\nexcept ValueError:\n    pass", "try:\n    assert f(1) == 1\nexcept Exception:\n    pass"]),
    "class_name_raises_in_messages": (
        ("class S(str):\n    def __radd__(self, o):\n        raise ValueError\n    def __add__(self, o):\n        raise ValueError\n"
         "class E:\n    pass\nE.__name__ = E.__qualname__ = S('E')\ndef f(x):\n    return E()\n"),
        ["try:\n    f(1)\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('expected ValueError')"]),
}

EXCEPTIONS = "class ParseError(Exception):\n    pass\n"
EXCEPTION_TESTS = [
    "try:\n    parse('x')\nexcept ParseError:\n    pass\nelse:\n    raise AssertionError('expected ParseError')",
    "try:\n    check(-1)\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('expected ValueError')",
    "try:\n    check(-1)\n    assert False\nexcept ValueError as e:\n    assert str(e) == 'negative'",
    "assert parse('12') == 12\nassert issubclass(ParseError, Exception)",
]
EXCEPTION_SOLUTIONS = {
    "right": EXCEPTIONS + "def parse(s):\n    if not s.isdigit():\n        raise ParseError(s)\n    return int(s)\n"
             "def check(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x\n",
    "never_raises": EXCEPTIONS + "def parse(s):\n    return 0\ndef check(x):\n    return x\n",
    "raises_others": EXCEPTIONS + "def parse(s):\n    raise KeyError(s)\ndef check(x):\n    raise TypeError('x')\n",
}

# Results handed to the test keep their identity where nothing needed replacing; a lying
# subclass is replaced by its base value.
IDENTITY = ("from fractions import Fraction\nfrom collections import namedtuple\nP = namedtuple('P', 'x')\n"
            "class Q(P):\n    def __len__(self):\n        return 5\n"
            "KEEP = [Fraction(1, 2), P(1)]\nLIAR = Q(1)\ndef keep():\n    return KEEP\ndef liar():\n    return LIAR\n")
IDENTITY_TESTS = ["assert keep() is KEEP", "assert liar() is not LIAR\nassert type(liar()) is tuple\nassert len(liar()) == 1"]


def _task(name: str, tests: list[str]) -> Task:
    return Task(id=name, language="python", prompt="", entry_point="f",
                tests=tuple(TestCase(kind="assert", code=code, id=f"{name}-{i}") for i, code in enumerate(tests)))


@pytest.fixture(scope="module")
def results(sandbox):
    evaluator = Evaluator(settings=EvaluationSettings(test_timeout=5.0, quality_weight=0.0, efficiency_weight=0.0),
                          sandbox=sandbox)
    items = {"equal": (_task("equal", EQUAL), VALUES),
             "different": (_task("different", [t for t, _ in DIFFERENT]), VALUES),
             "identity": (_task("identity", IDENTITY_TESTS), IDENTITY)}
    for name, (code, tests) in ATTACKS.items():
        items["attack:" + name] = (_task(name, tests), code)
    for name, code in EXCEPTION_SOLUTIONS.items():
        items["exceptions:" + name] = (_task(name, EXCEPTION_TESTS), code)
    return dict(zip(items, evaluator.evaluate_many(list(items.values()))))


def test_accepted_values_pass_when_equal(results):
    res = results["equal"]
    assert [r.feedback for r in res.test_results if not r.passed] == []


@pytest.mark.parametrize(("index", "shown"), list(enumerate(shown for _, shown in DIFFERENT)))
def test_accepted_values_fail_when_different_with_a_readable_message(results, index, shown):
    verdict = results["different"].test_results[index]
    assert not verdict.passed
    assert verdict.execution.status is Status.OK  # a wrong answer, not an error of the harness
    assert shown in verdict.feedback, verdict.feedback


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_fails(results, name):
    res = results["attack:" + name]
    passed = [(r.test_id, r.feedback) for r in res.test_results if r.passed]
    assert passed == [] and not res.passed, res.to_dict()
    for verdict in res.test_results:  # failed for the reason intended, not by tripping the harness
        assert "NameError" not in verdict.feedback and "harness cannot read" not in verdict.feedback, verdict.feedback


@pytest.mark.parametrize(("name", "reason"), [
    ("dataclass_eq_always_true", "expected: P(x=1)"),
    ("getattribute", "type P defines __getattribute__"),
    ("dict_property", "type P defines its own __dict__"),
    ("custom_metaclass", "custom metaclass (M)"),
    ("lying_tzinfo", "tzinfo is of type Z"),
    ("fraction_subclass", "is a subclass of Fraction"),
    ("patched_fraction_new", "expected: Fraction(1, 2)"),
    ("fake_decimal_in_sys_modules", "type FakeDecimal"),
    ("flag_and_returns_its_operand", "defines __and__"),
    ("dataclass_sub_returns_zero", "defines __sub__"),
])
def test_attack_is_explained(results, name, reason):
    assert reason in results["attack:" + name].test_results[0].feedback


def test_exception_classes_of_the_solution_and_builtin_ones_work_in_tests(results):
    verdicts = {name: [r.passed for r in results["exceptions:" + name].test_results] for name in EXCEPTION_SOLUTIONS}
    assert verdicts == {"right": [True] * 4, "never_raises": [False] * 4, "raises_others": [False] * 4}
    assert "expected ParseError" in results["exceptions:never_raises"].test_results[0].feedback


def test_values_keep_their_identity_unless_they_lie(results):
    assert [r.feedback for r in results["identity"].test_results if not r.passed] == []


# The C calls the harness uses to read a value (see `items_of` and `conv_instance` in
# _harness.py), each on a subclass whose every Python-level accessor raises: they must read the
# real contents without calling any of them.
def _raising(base: type, names: str) -> type:
    def boom(self, *args, **kwargs):
        raise AssertionError("a Python-level override was called")

    return type("Liar" + base.__name__.capitalize(), (base,), dict.fromkeys(names.split(), boom))


_SEQ = "__iter__ __getitem__ __len__ __reversed__ __contains__ __eq__ __hash__ __repr__ copy count index"
_MAP = _SEQ + " keys items values get __missing__ popitem"
_NUM = "__pos__ __int__ __index__ __float__ __complex__ __trunc__ __str__ __repr__ __format__ __eq__ __hash__ __bytes__"


@pytest.mark.parametrize(("base", "value", "read", "expected"), [
    (int, 7, int.__pos__, 7),
    (float, 2.5, float.__pos__, 2.5),
    (complex, 1j, complex.__pos__, 1j),
    (str, "abc", str.__str__, "abc"),
    (bytes, b"ab", lambda x: bytes.__getitem__(x, slice(None)), b"ab"),
    (tuple, (1, 2), lambda x: tuple.__getitem__(x, slice(None)), (1, 2)),
    (list, [1, 2], list.copy, [1, 2]),
    (dict, {"a": 1}, lambda x: list(dict.items(x)), [("a", 1)]),
    (collections.Counter, {"a": 2}, lambda x: list(dict.items(x)), [("a", 2)]),
    (collections.defaultdict, {"a": 3}, lambda x: list(dict.items(x)), [("a", 3)]),
    (set, {1, 2}, lambda x: sorted(set.__iter__(x)), [1, 2]),
    (frozenset, {1, 2}, lambda x: sorted(frozenset.__iter__(x)), [1, 2]),
    (collections.deque, [1, 2], lambda x: list(collections.deque.__iter__(x)), [1, 2]),
])
def test_the_c_readers_ignore_a_subclass_overrides(base, value, read, expected):
    if issubclass(base, dict):  # filled by dict's own C code: the subclass's methods all raise
        liar = _raising(base, _MAP)()
        dict.update(liar, value)
    else:
        liar = _raising(base, _NUM if base in (int, float, complex, str, bytes) else _SEQ)(value)
    got = read(liar)
    assert type(got) is type(expected)
    assert got == expected


def test_ordered_dict_items_follow_the_links_not_the_subclass():
    liar = _raising(collections.OrderedDict, _MAP)()
    collections.OrderedDict.__setitem__(liar, "a", 1)
    collections.OrderedDict.__setitem__(liar, "b", 2)
    collections.OrderedDict.move_to_end(liar, "a")
    assert list(collections.OrderedDict.items(liar)) == [("b", 2), ("a", 1)]


def test_class_and_instance_readers_ignore_metaclass_and_class_overrides():
    class Meta(type):
        def __getattribute__(cls, name):
            raise AssertionError("the metaclass was asked")

        def mro(cls):
            return type.mro(cls)

    class Thing(metaclass=Meta):
        __slots__ = ("__dict__", "x")

        def __getattribute__(self, name):
            raise AssertionError("the class was asked")

    thing = object.__new__(Thing)
    type_d = type.__dict__
    thing_dict = type_d["__dict__"].__get__(Thing)
    object.__setattr__(thing, "x", 1)
    object.__setattr__(thing, "y", 2)
    assert type_d["__mro__"].__get__(Thing) == (Thing, object)
    assert set(thing_dict) >= {"x", "__dict__", "__getattribute__"}
    assert types.MemberDescriptorType.__get__(thing_dict["x"], thing) == 1
    assert types.GetSetDescriptorType.__get__(thing_dict["__dict__"], thing) == {"y": 2}


def test_datetime_descriptors_read_tzinfo_without_calling_it():
    class Z(datetime.tzinfo):
        def utcoffset(self, dt):
            raise AssertionError("utcoffset was called")

    stamp = datetime.datetime(2020, 1, 1, tzinfo=Z())
    assert type(datetime.datetime.__dict__["tzinfo"].__get__(stamp)) is Z
