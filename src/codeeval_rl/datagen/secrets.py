"""Mask secrets and personal data in task text before a task is written.

Every field of a generated task that came from a source tree (prompt, context, each test's
code / stdin / expected output, reference solution) goes through :func:`mask_text`
(or :meth:`Masker.mask_task`) before it reaches a file. Each find is replaced by a typed
placeholder and reported as a :class:`Finding` that names where it was and what found it,
never the secret itself.

Placeholders: ``<KEY>`` (keys, tokens, private keys, secret-looking strings), ``<EMAIL>``,
``<IP>`` and ``<PASSWORD>``. Only the secret's own characters are replaced, so a secret
inside a string literal becomes the placeholder inside the same quotes
(``API_KEY = "AKIA..."`` -> ``API_KEY = "<KEY>"``) and a private-key block inside a
triple-quoted string becomes ``<KEY>`` between the same quotes: masked code stays valid.

Detectors, in priority order (where two finds overlap, the earlier detector wins and the
later find is dropped, so every character is replaced at most once):

1. ``pem-block``: ``-----BEGIN ... PRIVATE KEY-----`` through the matching ``-----END ...
   PRIVATE KEY-----``, across lines or ``\\n`` escapes (an unterminated block: the header and
   the base64 lines after it), and PuTTY key files up to ``Private-MAC:``. (detect-secrets'
   PrivateKeyDetector is not used: it marks only the BEGIN words, not the key.)
2. detect-secrets token plugins (``detect-secrets:<Plugin>``): AWSKeyDetector,
   ArtifactoryDetector, AzureStorageKeyDetector, CloudantDetector, DiscordBotTokenDetector,
   GitHubTokenDetector, GitLabTokenDetector, IbmCloudIamDetector, IbmCosHmacDetector,
   JwtTokenDetector, MailchimpDetector, NpmDetector, OpenAIDetector, PypiTokenDetector,
   SendGridDetector, SlackDetector, SoftlayerDetector, SquareOAuthDetector, StripeDetector,
   TelegramBotTokenDetector, TwilioKeyDetector (a match is widened to the whole token).
   Plus our own patterns for formats those miss (``token-pattern``): OpenAI/Anthropic-style
   ``sk-...`` keys (``sk-proj-``, ``sk-ant-api03-``: 20+ characters with letters and
   digits), Google ``AIza...`` keys, GitHub ``github_pat_...``, Stripe test keys,
   Hugging Face ``hf_...`` tokens.
3. Passwords in URLs, ``scheme://user:PASSWORD@host`` (``url-password`` and
   detect-secrets' BasicAuthDetector) -> ``<PASSWORD>``.
4. ``password = "..."``-style assignments (``password-assignment``, after BigCode: ``=``,
   ``:=``, ``=>`` or ``:`` then a quoted value, for any name containing password, passwd or
   pwd) -> ``<PASSWORD>``; then detect-secrets' KeywordDetector with its quotes-required
   rules: a quoted value assigned to, compared with or passed as a secret-sounding name
   (``secret``, ``api_key``, ``private_key``, ``db_pass``...): ``<PASSWORD>`` when the name
   says password, ``<KEY>`` otherwise. Not masked: a name that ends in a word that describes
   the secret rather than holding it (``secret_type``, ``password_prompt``,
   ``password_file``...), and a value with spaces under a name that is not a password's.
5. High-entropy strings (detect-secrets' Base64HighEntropyString, Shannon entropy > 4.5, and
   HexHighEntropyString, > 3.0, its defaults), but **only** when the quoted string is
   assigned to a name with a secret word in it (``key``, ``token``, ``secret``,
   ``password``, ``credential``, ``auth``, ``bearer``...; the name is split into words, so
   ``monkey`` or ``keyboard`` do not count): ``SECRET_KEY = "9f8a..."``,
   ``config["api_token"] = "..."``, ``apiKey: "..."``. A hash or random-looking string
   anywhere else (a sha256 test vector, a regex, a base64 fixture) is test data and stays.
6. E-mail addresses (after the BigCode/StarCoder PII regex, tightened for code: the
   address must end in a 2+ letter top-level label, have 2+ characters of domain before it
   and not be followed by ``(`` or ``[``).
7. IP addresses (after the BigCode/StarCoder PII regex and its filters): a valid IPv4 or
   IPv6 address that is globally routable. Not masked: private, loopback, link-local,
   reserved, multicast, unspecified and documentation ranges, popular public DNS resolvers
   (8.8.8.8, 1.1.1.1...), version-like ``x.x.x.x`` (single-digit parts, unless ``dns`` or
   ``server`` is near), dotted numbers with a fifth part (``1.22.33.44.5``), numbers on a
   line that mentions ``version``, and IPv6 outside 2000::/3 or with fewer than 3 groups
   (so a slice like ``x[1000::2]`` stays).

detect-secrets is called through each plugin's ``analyze_string`` only, never
``analyze_line`` or a baseline: that keeps the plugin set fixed here, reads no global
settings and never runs the network verification some plugins carry.

Not caught (see docs/datagen_safety.md): unquoted secrets that match no token format
(``PASSWORD=hunter2`` in a shell line, ``password: hunter2`` in YAML), secrets split across
string concatenations, encoded or encrypted secrets, names, phone numbers, street addresses
and other personal data beyond e-mail and IP, hostnames, and private keys without PEM armour.

Masking can change what a test checks (a test that asserts on an e-mail address now asserts
on ``<EMAIL>``); mask first, then verify the task, so such a task is dropped rather than
written broken.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from codeeval_rl.errors import ConfigError, InputError
from codeeval_rl.types import Task

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "Finding",
    "FindingSummary",
    "Masked",
    "MaskedTask",
    "Masker",
    "mask_task",
    "mask_text",
    "summarize",
]

PLACEHOLDERS: Mapping[str, str] = {
    "key": "<KEY>",
    "email": "<EMAIL>",
    "ip": "<IP>",
    "password": "<PASSWORD>",
}
"""Finding kind -> the text that replaces the find."""

KINDS: tuple[str, ...] = tuple(PLACEHOLDERS)

_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))


@dataclass(frozen=True)
class Finding:
    """One masked find: its ``kind`` (``key``, ``email``, ``ip`` or ``password``), the task
    ``field`` it was in (``prompt``, ``tests[2].code``...), the 1-based ``line`` of the field
    where it started and the ``detector`` that found it. Never holds the secret."""

    kind: str
    field: str
    line: int
    detector: str


@dataclass(frozen=True)
class Masked:
    """A text with every find replaced by its placeholder, and the finds."""

    text: str
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class MaskedTask:
    """A task with all its text fields masked, and the finds in field order."""

    task: Task
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class FindingSummary:
    """How many finds, per kind and per file; never a secret value."""

    total: int
    by_kind: Mapping[str, int] = field(default_factory=dict)
    by_file: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_kind": dict(self.by_kind),
            "by_file": {f: dict(k) for f, k in self.by_file.items()},
        }


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str
    detector: str


# --------------------------------------------------------------------------- detect-secrets

_TOKEN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("aws", "AWSKeyDetector"),
    ("artifactory", "ArtifactoryDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"),
    ("cloudant", "CloudantDetector"),
    ("discord", "DiscordBotTokenDetector"),
    ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"),
    ("ibm_cloud_iam", "IbmCloudIamDetector"),
    ("ibm_cos_hmac", "IbmCosHmacDetector"),
    ("jwt", "JwtTokenDetector"),
    ("mailchimp", "MailchimpDetector"),
    ("npm", "NpmDetector"),
    ("openai", "OpenAIDetector"),
    ("pypi_token", "PypiTokenDetector"),
    ("sendgrid", "SendGridDetector"),
    ("slack", "SlackDetector"),
    ("softlayer", "SoftlayerDetector"),
    ("square_oauth", "SquareOAuthDetector"),
    ("stripe", "StripeDetector"),
    ("telegram_token", "TelegramBotTokenDetector"),
    ("twilio", "TwilioKeyDetector"),
)


@lru_cache(maxsize=1)
def _plugins() -> tuple[Any, ...]:
    """The detect-secrets plugin instances (imported on first use: the package pulls in
    ``requests``)."""
    import importlib

    out = []
    for module, name in _TOKEN_PLUGINS:
        mod = importlib.import_module(f"detect_secrets.plugins.{module}")
        out.append(getattr(mod, name)())
    return tuple(out)


@lru_cache(maxsize=1)
def _basic_auth() -> Any:
    from detect_secrets.plugins.basic_auth import BasicAuthDetector

    return BasicAuthDetector()


@lru_cache(maxsize=1)
def _keyword() -> tuple[Any, Mapping[Any, int]]:
    from detect_secrets.plugins import keyword

    return keyword.KeywordDetector(), keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP


@lru_cache(maxsize=4)
def _entropy_plugins(base64_limit: float, hex_limit: float) -> tuple[Any, Any]:
    from detect_secrets.plugins.high_entropy_strings import (
        Base64HighEntropyString,
        HexHighEntropyString,
    )

    return Base64HighEntropyString(limit=base64_limit), HexHighEntropyString(limit=hex_limit)


_QUOTES = "\"'`"


def _tidy(line: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a plugin's match to the secret itself: some patterns take the quote or ``=``
    around it (Artifactory) or run to the end of the line (npm); never replace a quote."""
    for q in _QUOTES:
        cut = line.find(q, start, end)
        if cut > start:
            end = cut
        elif cut == start:
            start += 1
    while start < end and line[start] in " \t=:":
        start += 1
    while end > start and line[end - 1] in " \t\r\n":
        end -= 1
    return start, end


_TOKEN_TAIL = re.compile(r"[\w\-+/=.]*")


def _regex_plugin_spans(plugin: Any, line: str) -> Iterator[tuple[int, int]]:
    """Where ``plugin`` finds secrets on ``line``: its own ``analyze_string`` decides that
    there is one (including extra checks such as the JWT one), its ``denylist`` says where.

    A capture group that stops inside a token (GitHub's ``(ghp|gho|...)_`` prefix) stands
    for the whole match; a match is extended over the token characters right after it (the
    JWT pattern stops before the signature), less a final ``.``."""
    values = set(plugin.analyze_string(line))
    if not values:
        return
    for regex in plugin.denylist:
        for m in regex.finditer(line):
            spans = [m.span(i) for i in range(1, (regex.groups or 0) + 1) if m.group(i)]
            if not any(line[s:e] in values for s, e in spans or [m.span()]):
                continue  # rejected by the plugin's own checks
            if not spans or any(e < m.end() and (line[e].isalnum() or line[e] == "_") for _, e in spans):
                spans = [m.span()]
            for s, e in spans:
                e = _TOKEN_TAIL.match(line, e).end()  # type: ignore[union-attr]
                while e > s and line[e - 1] == ".":
                    e -= 1
                yield _tidy(line, s, e)


def _per_line(text: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for line in text.splitlines(keepends=True):
        yield offset, line
        offset += len(line)


def _detect_secrets_tokens(text: str) -> Iterator[_Span]:
    for offset, line in _per_line(text):
        for plugin in _plugins():
            for s, e in _regex_plugin_spans(plugin, line):
                if e > s:
                    yield _Span(offset + s, offset + e, "key", f"detect-secrets:{type(plugin).__name__}")


# --------------------------------------------------------------------------- own patterns

_PEM_HEAD = r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_BLOCK = re.compile(_PEM_HEAD + r".*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----", re.DOTALL)
_PEM_OPEN = re.compile(_PEM_HEAD + r"(?:(?:\r?\n|\\n)[ \t]*[A-Za-z0-9+/=:,\- ]+)*")
_PUTTY = re.compile(r"PuTTY-User-Key-File-\d+:.*?Private-MAC: *[0-9a-fA-F]+", re.DOTALL)


def _pem_blocks(text: str) -> Iterator[_Span]:
    for regex in (_PEM_BLOCK, _PUTTY, _PEM_OPEN):  # _PEM_OPEN: a block cut off before its END
        for m in regex.finditer(text):
            yield _Span(m.start(), m.end(), "key", "pem-block")


# (pattern, whether the body after the prefix must mix letters and digits)
_TOKEN_PATTERNS: tuple[tuple[re.Pattern[str], bool], ...] = (
    (re.compile(r"(?<![\w-])sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?([A-Za-z0-9_-]{20,})"), True),
    (re.compile(r"(?<![\w-])AIza([0-9A-Za-z_-]{35})(?![\w-])"), False),
    (re.compile(r"(?<!\w)github_pat_([A-Za-z0-9_]{22,})"), False),
    (re.compile(r"(?<!\w)(?:sk|rk)_(?:test|live)_([0-9A-Za-z]{16,})"), False),
    (re.compile(r"(?<!\w)hf_([A-Za-z0-9]{34})(?!\w)"), False),
)


def _own_tokens(text: str) -> Iterator[_Span]:
    for regex, mixed in _TOKEN_PATTERNS:
        for m in regex.finditer(text):
            body = m.group(1)
            if not mixed or (re.search(r"\d", body) and re.search(r"[A-Za-z]", body)):
                yield _Span(m.start(), m.end(), "key", "token-pattern")


_TEMPLATED = re.compile(r"^(?:\$\{?\w+\}?|\{\{?[\w.]*\}?\}|<[\w-]+>|%\(?\w*\)?s|\*+|x+|X+|\.\.\.)$")


def _templated(value: str) -> bool:
    """A placeholder such as ``${DB_PASSWORD}``, ``{password}``, ``<password>``, ``%s`` or ``****``, not a
    secret (detect-secrets' is_templated_secret idea)."""
    return bool(_TEMPLATED.match(value))


_URL_PASSWORD = re.compile(r"(?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s:@/'\"<>]+:([^\s@/'\"<>]+)@")


def _url_passwords(text: str) -> Iterator[_Span]:
    for m in _URL_PASSWORD.finditer(text):
        if not _templated(m.group(1)):
            yield _Span(m.start(1), m.end(1), "password", "url-password")
    for offset, line in _per_line(text):
        for s, e in _regex_plugin_spans(_basic_auth(), line):
            if e > s and not _templated(line[s:e]):
                yield _Span(offset + s, offset + e, "password", "detect-secrets:BasicAuthDetector")


_PASSWORD_NAME = re.compile(r"pass|pwd|contrase", re.IGNORECASE)
_KEYWORD = re.compile(r"api_?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key"
                      r"|private_?key|client_?key|db_?pass|database_?pass|key_?pass|password|passwd"
                      r"|pwd|secret|contrase", re.IGNORECASE)
# a secret-sounding name that ends in one of these words names or describes the secret
# (``secret_type``, ``password_prompt``, ``password_file``), it does not hold it
_NOT_A_VALUE = frozenset({
    "type", "types", "name", "names", "label", "labels", "prompt", "field", "fields", "hint",
    "message", "msg", "text", "title", "help", "description", "desc", "placeholder", "file",
    "files", "path", "paths", "dir", "url", "env", "var", "variable", "id", "ids", "header",
    "pattern", "regex", "re", "format", "fmt", "template", "policy", "length", "len",
})


def _words(name: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]


def _keyword_holds_value(name_part: str, value: str) -> bool:
    """False for ``secret_type = 'Secret Keyword'`` and the like: the name describes the
    secret, or the value is a phrase assigned to a name that is not a password's."""
    names = [w for w in re.findall(r"\w+", name_part) if _KEYWORD.search(w)]
    if not names:
        return True
    words = _words(names[0])
    if words and words[-1] in _NOT_A_VALUE:
        return False
    return not (re.search(r"\s", value) and not _PASSWORD_NAME.search(names[0]))


_PASSWORD_ASSIGNMENT = re.compile(
    r"(?<![\w$])(?P<name>[\w$.-]*(?:password|passwd|pwd)[\w$]*)[\"'`]?\]?\s*(?::=|=>|=|:)\s*"
    r"(?P<q>[\"'`])(?P<value>[^\"'`\r\n]+)(?P=q)",
    re.IGNORECASE,
)


def _keywords(text: str) -> Iterator[_Span]:
    for m in _PASSWORD_ASSIGNMENT.finditer(text):  # BigCode-style; also Go's := and JS's :
        s, e = m.span("value")
        if not _templated(m.group("value")) and _keyword_holds_value(m.group("name"), m.group("value")):
            yield _Span(s, e, "password", "password-assignment")
    _, regexes = _keyword()
    for offset, line in _per_line(text):
        for regex, group in regexes.items():
            for m in regex.finditer(line):
                s, e = m.span(group)
                if e <= s or _templated(line[s:e]):
                    continue
                name_part = line[m.start():s] + line[e:m.end()]
                if not _keyword_holds_value(name_part, line[s:e]):
                    continue
                kind = "password" if _PASSWORD_NAME.search(name_part) else "key"
                yield _Span(offset + s, offset + e, kind, "detect-secrets:KeywordDetector")


_SECRET_WORDS = frozenset({
    "key", "keys", "apikey", "accesskey", "secretkey", "privatekey", "privkey",
    "token", "tokens", "secret", "secrets", "password", "passwords", "passwd", "pwd", "pass",
    "passphrase", "credential", "credentials", "creds", "auth", "authorization", "bearer",
})
_ASSIGNED_TO = re.compile(
    r"(?P<name>[A-Za-z_$][\w$.-]*)[\"'`]?\]?"       # name, dict key or subscript
    r"(?:\s*:\s*[A-Za-z_][\w\[\]., |]*?)?"          # optional type annotation
    r"\s*(?::=|=>|=|:)\s*[rRbBuU]{0,2}$"            # assignment, then the string's prefix
)


def _names_secret(prefix: str) -> bool:
    """Does the text before a quoted string assign it to a secret-looking name?"""
    m = _ASSIGNED_TO.search(prefix[-200:])  # bounded: a minified line can be long
    if not m:
        return False
    return any(w in _SECRET_WORDS for w in _words(m.group("name")))


def _entropy(base64_limit: float, hex_limit: float) -> Callable[[str], Iterator[_Span]]:
    def detect(text: str) -> Iterator[_Span]:
        for offset, line in _per_line(text):
            for plugin in _entropy_plugins(base64_limit, hex_limit):
                for m in plugin.regex.finditer(line):
                    value = m.group(2)
                    if (plugin.calculate_shannon_entropy(value) > plugin.entropy_limit
                            and _names_secret(line[:m.start(1)])):
                        yield _Span(offset + m.start(2), offset + m.end(2), "key",
                                    f"detect-secrets:{type(plugin).__name__}")
    return detect


_EMAIL = re.compile(
    r"""(?:(?<=^)|(?<=[\s@,?!;:)('".<>\[\]{}=/`|])|(?<=\\[nrt]))
    ([^\s@?!;,:)('"<>\[\]{}=/`|\\]+
     @
     [^\s@!?;,/()'"<>\[\]{}=`|\\]*[^\s@?!;,/:)('">.\[\]{}=`|\\]
     \.[A-Za-z]{2,}(?:\.[A-Za-z]{2,})*)
    (?=$|[\s@,?!;:)'".>\]}`|\\])""",
    re.MULTILINE | re.VERBOSE,
)


def _emails(text: str) -> Iterator[_Span]:
    for m in _EMAIL.finditer(text):
        domain = m.group(1).rsplit("@", 1)[1]
        if len(domain.rsplit(".", 1)[0]) >= 2:  # not x@w.shape
            yield _Span(m.start(1), m.end(1), "email", "email-regex")


_IPV4 = r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)(?:\.(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)){3}"
_H = "[0-9a-fA-F]{1,4}"
_IPV6 = (
    rf"(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}"
    rf"|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}"
    rf"|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}|{_H}:(?::{_H}){{1,6}}|:(?:(?::{_H}){{1,7}}|:)"
    rf"|::(?:ffff(?::0{{1,4}})?:)?{_IPV4}|(?:{_H}:){{1,4}}:{_IPV4}"
)
_IP = re.compile(
    r"(?:(?<=^)|(?<=[\s@?,!;:'\")(.\[\]{}=/<>|`]))(?<!\d\.)"
    rf"({_IPV4}|{_IPV6})"
    r"(?=$|[\s@,?!;:'\"().\]}/<>|`])(?!\.\d)",
    re.MULTILINE,
)
_POPULAR_DNS = frozenset({
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "76.76.19.19", "76.223.122.150", "9.9.9.9",
    "149.112.112.112", "208.67.222.222", "208.67.220.220", "8.26.56.26", "8.20.247.20",
    "94.140.14.14", "94.140.15.15",
})
_GLOBAL_V6 = ipaddress.ip_network("2000::/3")


def _is_public_ip(value: str, line: str) -> bool:
    """The BigCode filters: a valid, globally routed address that is not a popular DNS
    resolver and does not look like a version number."""
    if not any(c.isdigit() for c in value) or value in _POPULAR_DNS:
        return False
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    if (not ip.is_global or ip.is_private or ip.is_reserved or ip.is_multicast
            or ip.is_loopback or ip.is_link_local or ip.is_unspecified):
        return False
    lower = line.lower()
    if isinstance(ip, ipaddress.IPv6Address):
        return ip in _GLOBAL_V6 and sum(1 for g in value.split(":") if g) >= 3
    if len(value) == 7 and "dns" not in lower and "server" not in lower:
        return False  # x.x.x.x: usually a version
    return "version" not in lower


def _ips(text: str) -> Iterator[_Span]:
    for m in _IP.finditer(text):
        end = text.find("\n", m.end(1))
        line = text[text.rfind("\n", 0, m.start(1)) + 1: end if end >= 0 else len(text)]
        if _is_public_ip(m.group(1), line):
            yield _Span(m.start(1), m.end(1), "ip", "ip-regex")


# --------------------------------------------------------------------------- masking


@dataclass(frozen=True)
class Masker:
    """Masks text and tasks with the detectors above, in that priority order.

    ``base64_limit`` / ``hex_limit``: the Shannon entropy (bits per character) above which a
    quoted base64 / hex string assigned to a secret-looking name is masked (detect-secrets'
    defaults 4.5 and 3.0; each between 0 and 8). Pure: the same input gives the same output,
    and masking masked text finds nothing new (placeholders are never matched again).
    """

    base64_limit: float = 4.5
    hex_limit: float = 3.0

    def __post_init__(self) -> None:
        for name in ("base64_limit", "hex_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 8:
                raise ConfigError(f"Masker.{name} must be a number between 0 and 8, got {value!r}")

    def _detectors(self) -> tuple[Callable[[str], Iterable[_Span]], ...]:
        return (_pem_blocks, _detect_secrets_tokens, _own_tokens, _url_passwords, _keywords,
                _entropy(float(self.base64_limit), float(self.hex_limit)), _emails, _ips)

    def mask_text(self, text: str, field: str = "prompt") -> Masked:
        """``text`` with every find replaced by its placeholder; ``field`` names the text in
        the findings. Raises InputError when ``text`` is not a string."""
        if not isinstance(text, str):
            raise InputError(f"cannot mask {field}: expected text, got {type(text).__name__}")
        if not isinstance(field, str) or not field:
            raise InputError(f"field must be a non-empty name, got {field!r}")
        if not text:
            return Masked(text)
        # character ranges already claimed, disjoint and sorted: placeholders, then finds
        starts = [m.start() for m in _PLACEHOLDER_RE.finditer(text)]
        ends = [m.end() for m in _PLACEHOLDER_RE.finditer(text)]
        accepted: list[_Span] = []
        for detect in self._detectors():
            for span in detect(text):
                i = bisect.bisect_right(starts, span.start)
                if (span.end <= span.start or (i > 0 and ends[i - 1] > span.start)
                        or (i < len(starts) and starts[i] < span.end)):
                    continue  # empty, or overlaps a claimed range
                starts.insert(i, span.start)
                ends.insert(i, span.end)
                accepted.append(span)
        if not accepted:
            return Masked(text)
        accepted.sort(key=lambda s: s.start)
        line_starts = [o for o, _ in _per_line(text)]
        parts: list[str] = []
        pos = 0
        for span in accepted:
            parts.append(text[pos:span.start])
            parts.append(PLACEHOLDERS[span.kind])
            pos = span.end
        parts.append(text[pos:])
        findings = tuple(
            Finding(kind=s.kind, field=field, line=bisect.bisect_right(line_starts, s.start), detector=s.detector)
            for s in accepted
        )
        return Masked("".join(parts), findings)

    def mask_task(self, task: Task) -> MaskedTask:
        """``task`` with its prompt, context, reference solution and every test's code,
        stdin and expected output masked (fields ``tests[i].code`` and so on, ``i`` the
        test's index). The id, entry point, language and provenance are left as they are."""
        if not isinstance(task, Task):
            raise InputError(f"cannot mask: expected a Task, got {type(task).__name__}")
        found: list[Finding] = []

        def mask(text: str, name: str) -> str:
            out = self.mask_text(text, name)
            found.extend(out.findings)
            return out.text

        prompt = mask(task.prompt, "prompt")
        context = mask(task.context, "context")
        tests = tuple(
            replace(t, code=mask(t.code, f"tests[{i}].code"), stdin=mask(t.stdin, f"tests[{i}].stdin"),
                    expected_stdout=mask(t.expected_stdout, f"tests[{i}].expected_stdout"))
            for i, t in enumerate(task.tests)
        )
        reference = mask(task.reference_solution, "reference_solution")
        new = replace(task, prompt=prompt, context=context, tests=tests, reference_solution=reference)
        return MaskedTask(new, tuple(found))


_DEFAULT = Masker()


def mask_text(text: str, field: str = "prompt") -> Masked:
    """:meth:`Masker.mask_text` with the default limits."""
    return _DEFAULT.mask_text(text, field)


def mask_task(task: Task) -> MaskedTask:
    """:meth:`Masker.mask_task` with the default limits."""
    return _DEFAULT.mask_task(task)


def summarize(findings_by_file: Iterable[tuple[str, Iterable[Finding]]]) -> FindingSummary:
    """Count findings per kind and per (file, kind). ``findings_by_file`` pairs a file name
    (a task's source path, or its id) with that file's findings; a file may appear more
    than once. Files without findings are left out of ``by_file``."""
    by_kind: Counter[str] = Counter()
    by_file: dict[str, Counter[str]] = {}
    for file, findings in findings_by_file:
        if not isinstance(file, str):
            raise InputError(f"summarize: file names must be strings, got {type(file).__name__}")
        for f in findings:
            if not isinstance(f, Finding):
                raise InputError(f"summarize: expected Finding values, got {type(f).__name__}")
            by_kind[f.kind] += 1
            by_file.setdefault(file, Counter())[f.kind] += 1
    return FindingSummary(
        total=sum(by_kind.values()),
        by_kind=dict(sorted(by_kind.items())),
        by_file={f: dict(sorted(c.items())) for f, c in sorted(by_file.items())},
    )
