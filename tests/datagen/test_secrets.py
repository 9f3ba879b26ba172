"""Masking of secrets and personal data in task text (codeeval_rl.datagen.secrets).

The planted values are built at run time (pieces joined, digests of fixed seeds) so that no
secret-shaped literal sits in this file; each is still whole in the text under test.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json

import pytest

from codeeval_rl.datagen.secrets import (
    PLACEHOLDERS,
    Finding,
    Masker,
    mask_task,
    mask_text,
    summarize,
)
from codeeval_rl.errors import ConfigError, InputError
from codeeval_rl.types import Task, TestCase


def _hex(seed: str, n: int = 64) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _b64(seed: str, n: int = 40) -> str:
    raw = hashlib.sha256(seed.encode()).digest() + hashlib.sha256(seed.encode() + b"+").digest()
    return base64.b64encode(raw).decode()[:n]


def _alnum(seed: str, n: int) -> str:
    return "".join(c for c in _b64(seed, 120) if c.isalnum())[:n]


AWS_ACCESS = "AK" + "IA" + _alnum("aws", 16).upper()
AWS_SECRET = _b64("aws-secret", 40)
GITHUB = "gh" + "p_" + _alnum("github", 36)
SLACK = "xo" + "xb-" + "123456789012-1234567890123-" + _alnum("slack", 24)
_JWT_HEAD = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
_JWT_BODY = base64.urlsafe_b64encode(b'{"sub":"1234567890","name":"Jo","iat":1516239022}').decode().rstrip("=")
JWT = f"{_JWT_HEAD}.{_JWT_BODY}.{_alnum('jwt-sig', 43)}"
OPENAI = "sk" + "-proj-" + _alnum("openai", 48)
OPENAI_LEGACY = "sk" + "-" + _alnum("oa1", 20) + "T3Blbk" + "FJ" + _alnum("oa2", 20)
STRIPE = "sk" + "_live_" + _alnum("stripe", 24)
GOOGLE = "AI" + "za" + _alnum("google", 35)
URL_PASSWORD = "S3cr3t-" + _alnum("dbpw", 8)
ASSIGNED_PASSWORD = "hunter2-xyz"
HIGH_ENTROPY = _b64("entropy", 44)
HEX_SECRET = _hex("hex-secret", 40)
RSA_BODY = [_b64(f"rsa{i}", 64) for i in range(5)]
RSA_BLOCK = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(RSA_BODY) + "\n-----END RSA PRIVATE KEY-----"
SSH_BODY = [_b64(f"ssh{i}", 70) for i in range(4)]
SSH_BLOCK = ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(SSH_BODY)
             + "\n-----END OPENSSH PRIVATE KEY-----")
EMAIL_1 = "jane.doe@example.com"
EMAIL_2 = "ops-team+alerts@corp.example.org"
IPV4 = "34.82.120.11"
IPV6 = "2607:f8b0:4005:80a::200e"

# (line with the secret, the same line masked) ; every secret of the corpus appears here
PLANTED = [
    (f'AWS_ACCESS_KEY_ID = "{AWS_ACCESS}"', 'AWS_ACCESS_KEY_ID = "<KEY>"'),
    (f'aws_secret_access_key = "{AWS_SECRET}"', 'aws_secret_access_key = "<KEY>"'),
    (f"token = '{GITHUB}'", "token = '<KEY>'"),
    (f'client = WebClient("{SLACK}")', 'client = WebClient("<KEY>")'),
    (f'headers = {{"Authorization": "Bearer {JWT}"}}', 'headers = {"Authorization": "Bearer <KEY>"}'),
    (f'openai.api_key = "{OPENAI}"', 'openai.api_key = "<KEY>"'),
    (f'llm = Client("{OPENAI_LEGACY}")', 'llm = Client("<KEY>")'),
    (f'stripe.key = "{STRIPE}"', 'stripe.key = "<KEY>"'),
    (f'maps = Maps(key="{GOOGLE}")', 'maps = Maps(key="<KEY>")'),
    (f'DB_URL = "postgres://admin:{URL_PASSWORD}@db.example.com:5432/app"',
     'DB_URL = "postgres://admin:<PASSWORD>@db.example.com:5432/app"'),
    (f'password = "{ASSIGNED_PASSWORD}"', 'password = "<PASSWORD>"'),
    (f'auth_token = "{HIGH_ENTROPY}"', 'auth_token = "<KEY>"'),
    (f'SIGNING_KEY = "{HEX_SECRET}"', 'SIGNING_KEY = "<KEY>"'),
    (f"# maintainers: {EMAIL_1}, <{EMAIL_2}>", "# maintainers: <EMAIL>, <<EMAIL>>"),
    (f'SERVER = "{IPV4}:8080"', 'SERVER = "<IP>:8080"'),
    (f'UPSTREAM = "http://[{IPV6}]/health"', 'UPSTREAM = "http://[<IP>]/health"'),
    (f'KEY_PEM = """{RSA_BLOCK}\n"""', 'KEY_PEM = """<KEY>\n"""'),
    (f"DEPLOY_KEY = '''\n{SSH_BLOCK}\n'''", "DEPLOY_KEY = '''\n<KEY>\n'''"),
]
SECRETS = [AWS_ACCESS, AWS_SECRET, GITHUB, SLACK, JWT, OPENAI, OPENAI_LEGACY, STRIPE, GOOGLE,
           URL_PASSWORD, ASSIGNED_PASSWORD, HIGH_ENTROPY, HEX_SECRET, EMAIL_1, EMAIL_2, IPV4, IPV6,
           *RSA_BODY, *SSH_BODY]

# ordinary code that must come out exactly as it went in
ORDINARY = [
    'PATTERN = re.compile(r"^[A-Za-z0-9+/=]{20,}$")',
    'assert hashlib.sha256(b"abc").hexdigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"',
    'EXPECTED_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"',
    f'digest = "{_hex("digest")}"',
    f'monkey = "{HIGH_ENTROPY}"',  # "key" inside a word is not a secret name
    f'keyboard_layout = "{_b64("kbd", 44)}"',
    'FIXTURE = base64.b64decode("SGVsbG8sIFdvcmxkIQ==")',
    "MASK = 0xDEADBEEF",
    "FLAGS = 0xFFFF & value",
    'REQUEST_ID = "123e4567-e89b-12d3-a456-426614174000"',
    'VERSION = "1.2.3.4"',
    '__version__ = "2.7.15.1"',
    'requires = "pkg>=22.33.44.55.66"',
    'HOST = "localhost"',
    'LOOPBACK = "127.0.0.1"',
    'LAN = ("10.0.0.7", "192.168.1.20", "172.16.5.4")',
    'DNS = "8.8.8.8"',
    'ANY = "0.0.0.0"',
    'V6_LOCAL = ("::1", "fe80::1", "2001:db8::1")',
    "evens = xs[1000::2]",
    "odds = m[1::2]",
    "y = a@b.T",
    "n = x@w.shape",
    "result=a@b.transpose()",
    '@app.route("/users/<int:user_id>")',
    "def check(password: str) -> bool:",
    'if password == "":',
    "password = getpass.getpass()",
    'secret_type = "Secret Keyword"',
    'password_prompt = "Enter your password: "',
    'url = "postgres://{user}:{password}@localhost/db"',
    'proxy = "socks5h://<username>:<password>@proxy-host"',
    'TIME = "12:30:45"',
    'MAC = "00:1A:2B:3C:4D:5E"',
    'print(f"{name}@{domain}")',
]


@pytest.mark.parametrize(("line", "expected"), PLANTED, ids=[p[1][:28] for p in PLANTED])
def test_each_planted_secret_is_masked_with_its_placeholder(line: str, expected: str) -> None:
    out = mask_text(line, "context")
    assert out.text == expected
    assert out.findings, "a masked line must report what it masked"
    placeholders = {PLACEHOLDERS[f.kind] for f in out.findings}
    assert placeholders <= {p for p in PLACEHOLDERS.values() if p in expected}


def _corpus() -> str:
    return "\n".join(line for line, _ in PLANTED) + "\n"


def test_planted_corpus_is_fully_masked_and_still_parses() -> None:
    source = _corpus()
    ast.parse(source)  # the corpus itself is Python
    out = mask_text(source, "reference_solution")
    for secret in SECRETS:
        assert secret not in out.text
    assert out.text == "\n".join(expected for _, expected in PLANTED) + "\n"
    ast.parse(out.text)


def test_findings_name_field_line_and_kind_but_never_the_secret() -> None:
    source = _corpus()
    out = mask_text(source, "tests[3].code")
    lines = source.splitlines()
    assert {f.field for f in out.findings} == {"tests[3].code"}
    for f in out.findings:
        assert isinstance(f, Finding)
        assert f.kind in PLACEHOLDERS
        assert 1 <= f.line <= len(lines)
        dumped = repr(f) + json.dumps(f.__dict__)
        for secret in SECRETS:
            assert secret not in dumped
            assert secret[:12] not in dumped
    # each finding's line is where its secret was
    by_line = {f.line for f in out.findings}
    for i, line in enumerate(lines, start=1):
        if any(s in line for s in (AWS_ACCESS, GITHUB, EMAIL_1, IPV4, ASSIGNED_PASSWORD)):
            assert i in by_line
    assert sum(1 for f in out.findings if f.kind == "email") == 2
    assert sum(1 for f in out.findings if f.kind == "ip") == 2
    assert sum(1 for f in out.findings if f.kind == "password") == 2


@pytest.mark.parametrize("line", ORDINARY)
def test_ordinary_code_is_left_alone(line: str) -> None:
    out = mask_text(line, "context")
    assert out.text == line
    assert out.findings == ()


def test_ordinary_module_round_trips_unchanged() -> None:
    module = "\n".join(ORDINARY[:3] + ["def f(xs, m, a, b):", "    " + ORDINARY[19], "    return xs"]) + "\n"
    assert mask_text(module).text == module


def test_masking_is_idempotent() -> None:
    once = mask_text(_corpus() + "\n".join(ORDINARY))
    twice = mask_text(once.text)
    assert twice.text == once.text
    assert twice.findings == ()


def test_placeholders_already_in_the_text_are_not_findings() -> None:
    text = 'password = "<PASSWORD>"\nDB = "mysql://u:<PASSWORD>@h/db"\nto = "<EMAIL>"\nip = "<IP>"\n'
    out = mask_text(text)
    assert out.text == text
    assert out.findings == ()


def test_password_assignments_in_other_languages() -> None:
    go = f'dbPassword := "{ASSIGNED_PASSWORD}"'
    js = f'const cfg = {{ password: "{ASSIGNED_PASSWORD}" }};'
    assert mask_text(go).text == 'dbPassword := "<PASSWORD>"'
    assert mask_text(js).text == 'const cfg = { password: "<PASSWORD>" };'


def test_private_key_in_an_escaped_one_line_string() -> None:
    line = 'KEY = "' + RSA_BLOCK.replace("\n", "\\n") + '"'
    out = mask_text(line)
    assert out.text == 'KEY = "<KEY>"'
    ast.parse(out.text)


def test_private_key_block_cut_off_before_its_end_line() -> None:
    text = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(RSA_BODY[:3]) + "\n"
    out = mask_text(text)
    for body in RSA_BODY[:3]:
        assert body not in out.text
    assert out.text.startswith("<KEY>")


def test_plain_text_fields_are_masked_too() -> None:
    out = mask_text(f"Contact {EMAIL_1} from {IPV4}.\n", "tests[0].expected_stdout")
    assert out.text == "Contact <EMAIL> from <IP>.\n"


def test_entropy_limits_are_honoured() -> None:
    line = 'session_token = "deadbeefdeadbeef"'  # hex, entropy ~2.2 bits per character
    assert mask_text(line).text == line
    assert Masker(hex_limit=2.0).mask_text(line).text == 'session_token = "<KEY>"'
    # the limit matters only for secret-looking names
    assert Masker(hex_limit=0.0, base64_limit=0.0).mask_text('digest = "deadbeefdeadbeef"').findings == ()


@pytest.mark.parametrize("bad", [-1, 8.5, "4", True, None])
def test_masker_rejects_bad_limits(bad: object) -> None:
    with pytest.raises(ConfigError, match="base64_limit"):
        Masker(base64_limit=bad)  # type: ignore[arg-type]


def test_mask_text_rejects_non_text() -> None:
    with pytest.raises(InputError, match="prompt"):
        mask_text(b"password = 'x'")  # type: ignore[arg-type]
    assert mask_text("") == mask_text("", "context")


def _task() -> Task:
    return Task(
        id="acme/billing/charge",
        language="python",
        prompt=f"Write charge(). Questions to {EMAIL_1}.",
        context=f'API_KEY = "{STRIPE}"\n',
        reference_solution=f'def charge():\n    return "{GITHUB}"\n',
        tests=(
            TestCase(kind="assert", id="t0", code=f'assert charge() == "{GITHUB}"'),
            TestCase(kind="io", id="t1", stdin=f"{IPV4}\n", expected_stdout=f"{EMAIL_2}\n"),
        ),
        public_test_ids=("t0",),
        provenance={"source": "acme", "path": "billing/charge.py"},
    )


def test_mask_task_masks_every_text_field_and_nothing_else() -> None:
    task = _task()
    out = mask_task(task)
    t = out.task
    assert t.prompt == "Write charge(). Questions to <EMAIL>."
    assert t.context == 'API_KEY = "<KEY>"\n'
    assert t.reference_solution == 'def charge():\n    return "<KEY>"\n'
    assert t.tests[0].code == 'assert charge() == "<KEY>"'
    assert t.tests[1].stdin == "<IP>\n"
    assert t.tests[1].expected_stdout == "<EMAIL>\n"
    assert (t.id, t.language, t.public_test_ids, t.provenance) == (
        task.id, task.language, task.public_test_ids, task.provenance)
    assert [(f.field, f.kind) for f in out.findings] == [
        ("prompt", "email"), ("context", "key"), ("tests[0].code", "key"),
        ("tests[1].stdin", "ip"), ("tests[1].expected_stdout", "email"), ("reference_solution", "key"),
    ]
    assert task.context.startswith('API_KEY = "sk_')  # the input is not changed
    assert mask_task(t).findings == ()


def test_mask_task_rejects_non_tasks() -> None:
    with pytest.raises(InputError, match="Task"):
        mask_task({"prompt": "x"})  # type: ignore[arg-type]


def test_summary_counts_per_file_and_kind_without_values() -> None:
    a = mask_task(_task())
    b = mask_text(_corpus(), "context")
    summary = summarize([("billing/charge.py", a.findings), ("ops/deploy.py", b.findings),
                         ("billing/charge.py", a.findings), ("clean.py", ())])
    assert summary.total == 2 * len(a.findings) + len(b.findings)
    assert summary.by_file["billing/charge.py"] == {"email": 4, "ip": 2, "key": 6}
    assert sum(summary.by_file["ops/deploy.py"].values()) == len(b.findings)
    assert "clean.py" not in summary.by_file
    assert summary.by_kind == {k: sum(f[k] for f in summary.by_file.values() if k in f)
                               for k in summary.by_kind}
    dumped = json.dumps(summary.to_dict())
    for secret in SECRETS:
        assert secret not in dumped
    with pytest.raises(InputError):
        summarize([("x.py", ["not a finding"])])  # type: ignore[list-item]


def test_putty_key_file_is_masked_whole() -> None:
    body = "\n".join(_b64(f"putty{i}", 64) for i in range(3))
    text = (f"PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: deploy\nPublic-Lines: 1\n"
            f"{_b64('pub', 64)}\nPrivate-Lines: 3\n{body}\nPrivate-MAC: {_hex('mac', 40)}\n")
    out = mask_text(text)
    assert out.text == "<KEY>\n"
    assert [f.detector for f in out.findings] == ["pem-block"]
