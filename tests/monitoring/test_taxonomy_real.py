"""The taxonomy on real failing programs in every language, run through the real sandbox."""

from __future__ import annotations

import pytest

from codeeval_rl.monitoring.taxonomy import classify_result, error_patterns, failure_text
from codeeval_rl.monitoring.tracker import RolloutRecord
from codeeval_rl.types import Limits, Program, Status

JAVA = "public class Main {{ public static void main(String[] a) {{ {} }} }}"

# (language, source, expected kind, expected stage)
CASES = [
    ("python", "def f(:\n    pass\n", "syntax_error", "compile"),
    ("python", "def f():\nreturn 1\n", "syntax_error", "compile"),
    ("python", "print(undefined_thing)\n", "name_error", "runtime"),
    ("python", "print(1 + 'a')\n", "type_error", "runtime"),
    ("python", "x = [1, 2]\nprint(x[5])\n", "index_error", "runtime"),
    ("python", "d = {}\nprint(d['missing'])\n", "key_error", "runtime"),
    ("python", "x = 5\nx.foo()\n", "attribute_error", "runtime"),
    ("python", "x = None\nx.append(1)\n", "null_reference", "runtime"),
    ("python", "int('abc')\n", "value_error", "runtime"),
    ("python", "print(1 / 0)\n", "zero_division", "runtime"),
    ("python", "def f(n):\n    return f(n + 1)\nf(0)\n", "recursion", "runtime"),
    ("python", "def add(a, b):\n    return a - b\nassert add(1, 2) == 3, 'add(1, 2)'\n", "assertion", "tests"),
    ("python", "import numpy_not_installed\n", "import_error", "runtime"),
    ("python", "import sys\nsys.exit(3)\n", "exit_nonzero", "runtime"),
    ("python", "x = []\nwhile True:\n    x.append(' ' * 10**6)\n", "memory", "limit"),
    ("python", "while True:\n    print('y' * 1000)\n", "output_limit", "limit"),
    ("javascript", "function f( {\n", "syntax_error", "compile"),
    ("javascript", "console.log(undefinedThing);\n", "name_error", "runtime"),
    ("javascript", "const x = 5; x();\n", "type_error", "runtime"),
    ("javascript", "let o; console.log(o.foo);\n", "null_reference", "runtime"),
    ("javascript", "function f(n) { return f(n + 1) + 1; } f(0);\n", "recursion", "runtime"),
    ("javascript", "const assert = require('assert'); assert.strictEqual(1 + 1, 3);\n", "assertion", "tests"),
    ("javascript", "throw new Error('boom at 42');\n", "panic", "runtime"),
    ("java", JAVA.format("System.out.println(foo);"), "name_error", "compile"),
    ("java", JAVA.format("int x = 1 }"), "syntax_error", "compile"),
    ("java", JAVA.format('int x = "s";'), "type_error", "compile"),
    ("java", JAVA.format("int z = 0; System.out.println(1 / z);"), "zero_division", "runtime"),
    ("java", JAVA.format("int[] x = new int[2]; System.out.println(x[5]);"), "index_error", "runtime"),
    ("java", JAVA.format("String s = null; System.out.println(s.length());"), "null_reference", "runtime"),
    ("java", JAVA.format('Integer.parseInt("x1");'), "value_error", "runtime"),
    ("java", ("public class Main { static int f(int n) { return f(n + 1) + 1; } "
             "public static void main(String[] a) { f(0); } }"), "recursion", "runtime"),
    ("cpp", "#include <cstdio>\nint main() { printf(\"%d\", foo); }\n", "name_error", "compile"),
    ("cpp", "int main() { int x = 1 return 0; }\n", "syntax_error", "compile"),
    ("cpp", "#include <string>\nint main() { std::string s = \"a\"; int y = s; return y; }\n", "type_error", "compile"),
    ("cpp", "struct P { int x; };\nint main() { P p; return p.y; }\n", "attribute_error", "compile"),
    ("cpp", "int main(int c, char**) { int *p = (int*)(long)(c - 1); *p = 1; return 0; }\n", "segfault", "runtime"),
    ("cpp", "#include <vector>\nint main() { std::vector<int> v(3); return v.at(5); }\n", "index_error", "runtime"),
    ("cpp", "#include <cassert>\nint main() { assert(1 == 2); }\n", "assertion", "tests"),
    ("cpp", "#include <cstdio>\nint main(int c, char**) { int z = c - 1; printf(\"%d\", 5 / z); }\n",
     "zero_division", "runtime"),
    ("c", "#include <stdio.h>\nint main() { printf(\"%d\", foo); }\n", "name_error", "compile"),
    ("c", "int bar(void);\nint main() { return bar(); }\n", "name_error", "compile"),
    ("c", "int main() { int x = 1 return 0; }\n", "syntax_error", "compile"),
    ("c", "int main(int c, char **v) { int *p = (int*)(long)(c - 1); *p = 1; return 0; }\n", "segfault", "runtime"),
    ("rust", "fn main() { println!(\"{}\", foo); }\n", "name_error", "compile"),
    ("rust", "fn main() { let x: i32 = \"s\"; }\n", "type_error", "compile"),
    ("rust", "fn main() { let x = 1 let y = 2; }\n", "syntax_error", "compile"),
    ("rust", "fn main() { let v = vec![1, 2]; let i = std::env::args().count() + 4; println!(\"{}\", v[i]); }\n",
     "index_error", "runtime"),
    ("rust", "fn main() { let x: Option<i32> = std::env::args().nth(5).map(|_| 1); println!(\"{}\", x.unwrap()); }\n",
     "null_reference", "runtime"),
    ("rust", "fn main() { let x: i32 = std::env::args().next().unwrap().parse().unwrap(); println!(\"{}\", x); }\n",
     "value_error", "runtime"),
    ("rust", "fn main() { let z = std::env::args().count() as i32 - 1; println!(\"{}\", 5 / z); }\n",
     "zero_division", "runtime"),
]


@pytest.fixture(scope="module")
def results(sandbox):
    programs = [Program(language=lang, source=src) for lang, src, _, _ in CASES]
    limits = Limits(wall_time_s=5.0, memory_mb=256, output_bytes=64 * 1024)
    return sandbox.run_many(programs, limits=limits)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_real_failure_is_classified(results, index: int) -> None:
    lang, _src, kind, stage = CASES[index]
    res = results[index]
    assert res.status is not Status.OK or res.exit_code != 0, f"program did not fail: {res}"
    cls = classify_result(res, lang)
    assert cls is not None
    assert (cls.kind, cls.stage) == (kind, stage), (
        f"{lang}: got {cls.kind}/{cls.stage} from status {res.status.value}, message {cls.message!r}\n"
        f"{failure_text(res)[:1500]}")
    if res.status not in (Status.MEMORY_LIMIT, Status.OUTPUT_LIMIT) and kind not in ("exit_nonzero", "segfault"):
        assert cls.message, "a failure with error text must yield a key message"


def test_timeout_is_classified(sandbox) -> None:
    res = sandbox.run(Program(language="python", source="while True:\n    pass\n"),
                      Limits(wall_time_s=0.5, cpu_time_s=0.5, memory_mb=128))
    cls = classify_result(res, "python")
    assert cls is not None and cls.kind == "timeout" and cls.stage == "limit"


def test_passing_program_is_not_an_error(sandbox) -> None:
    res = sandbox.run(Program(language="python", source="print(1)\n"), Limits(wall_time_s=5.0))
    assert res.ok and classify_result(res, "python", passed=True) is None
    cls = classify_result(res, "python", passed=False)  # ran fine, output judged wrong
    assert cls is not None and cls.kind == "wrong_answer"


def test_real_errors_group_into_patterns(sandbox) -> None:
    """Different undefined names in different programs: one pattern, counted per program."""
    names = ["alpha", "beta_2", "gamma"]
    programs = [Program(language="python", source=f"x = 1\nprint({n})\n") for n in names]
    programs.append(Program(language="python", source="print([][3])\n"))
    results = sandbox.run_many(programs, limits=Limits(wall_time_s=5.0))
    records = [RolloutRecord(task_id=f"t{i}", completion="", reward=0.0, status=r.status.value, passed=False,
                             language="python", first_error=failure_text(r)) for i, r in enumerate(results)]
    patterns = error_patterns(records)
    assert [(p.kind, p.count, p.tasks) for p in patterns] == [("name_error", 3, 3), ("index_error", 1, 1)]
    assert patterns[0].template == "NameError: name '<name>' is not defined"
    assert set(patterns[0].examples) == {f"NameError: name '{n}' is not defined" for n in names}
    assert patterns[0].share == pytest.approx(0.75)


@pytest.mark.parametrize("body", [
    "    return (x + 1\n",                 # SyntaxError
    "    y = x\n        return y\n",       # IndentationError
    "    if x:\n\treturn 1\n        return 2\n",  # TabError
], ids=["syntax", "indentation", "tab"])
def test_python_that_does_not_parse_is_a_syntax_error_as_trainers_log_it(sandbox, body: str) -> None:
    """The evaluator's verdict on a completion that does not parse, as a trainer's rollout."""
    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.evaluation import Evaluator
    from codeeval_rl.monitoring.taxonomy import classify_record
    from codeeval_rl.rl.scoring import EvaluatorScorer
    from codeeval_rl.types import Task, TestCase

    task = Task(id="t", language="python", prompt="def f(x):\n", entry_point="f",
                tests=(TestCase(kind="assert", code="assert f(1) == 2", id="t0"),))
    scorer = EvaluatorScorer(Evaluator(EvaluationSettings(), sandbox), to_code=lambda t, c: t.prompt + c)
    score = scorer.score([(task, body)], "all")[0]
    record = RolloutRecord(task_id="t", completion=body, reward=score.reward, status=score.status,
                           passed=score.passed, language="python", first_error=score.first_error)
    cls = classify_record(record)
    assert cls is not None and (cls.kind, cls.stage) == ("syntax_error", "compile"), (score, cls)
    assert cls.message.startswith("SyntaxError: ")
