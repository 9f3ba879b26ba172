"""Chat backends for the question writer: a local Hugging Face model or an OpenAI-compatible endpoint.

Both take a chat (``[{"role": ..., "content": ...}, ...]``) and return ``n`` sampled replies
as text, through one method, :meth:`ChatBackend.complete`. Nothing downloads:

* :class:`LocalModel` loads a causal LM with transformers (``local_files_only=True``: a local
  directory, or a hub id already in the Hugging Face cache). The chat is rendered with the
  tokenizer's chat template when it has one, else as plain ``Role: content`` paragraphs
  ending in ``Assistant:``. ``temperature=0`` is greedy; otherwise sampling is seeded (the
  global torch RNG is left as it was), so the same seed on the same device gives the same text.
* :class:`ChatEndpoint` POSTs to ``{url}/v1/chat/completions`` with the standard library
  (no extra dependency). The bearer key comes from ``CODEEVAL_ENDPOINT_KEY`` when set.
  429 and 5xx answers, refused connections and timeouts are retried with exponential
  backoff (a ``Retry-After`` header is honoured, capped at 60 s); other failures raise at once.

Errors: :class:`EndpointError` when the endpoint cannot be used (it names the URL and what
went wrong), :class:`PromptTooLong` when one prompt does not fit the model's context (a
per-prompt fault: the caller may skip that function and go on), and the
:class:`~codeeval_rl.errors.InputError` it derives from for a model that cannot be loaded.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from codeeval_rl.errors import ConfigError, InputError, require

__all__ = [
    "ENDPOINT_KEY_ENV",
    "ChatBackend",
    "ChatEndpoint",
    "EndpointError",
    "LocalModel",
    "Message",
    "PromptTooLong",
    "RequestRejected",
    "chat_completions_url",
    "plain_chat_text",
]

Message = Mapping[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": text}``."""

ENDPOINT_KEY_ENV = "CODEEVAL_ENDPOINT_KEY"
"""Environment variable holding the endpoint's bearer key (no header when unset or empty)."""

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_MAX_RETRY_AFTER = 60.0


class EndpointError(InputError):
    """The chat endpoint cannot be used: refused, unreachable, timed out, or answered something
    that is not a chat completion. The message names the URL."""


class RequestRejected(EndpointError):
    """The endpoint rejected this one request (HTTP 400/413/422, e.g. a prompt over its context
    length); other requests may still succeed."""


class PromptTooLong(InputError):
    """A prompt has more tokens than the local model's context holds."""


@runtime_checkable
class ChatBackend(Protocol):
    """What the question writer needs from a model."""

    @property
    def id(self) -> str:
        """Who generates: the model path or hub id, or ``model@endpoint``."""
        ...

    def render(self, messages: Sequence[Message]) -> str:
        """The exact text this backend sends for ``messages`` (hashed for provenance)."""
        ...

    def complete(self, messages: Sequence[Message], *, n: int = 1, temperature: float = 0.0,
                 seed: int = 0, max_tokens: int = 1024) -> list[str]:
        """``n`` replies to ``messages`` (``temperature=0``: greedy)."""
        ...


def _check_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or not isinstance(m.get("role"), str) \
                or not isinstance(m.get("content"), str):
            raise InputError(f"message {i} must be a mapping with string 'role' and 'content', got {m!r:.80}")
        out.append({"role": m["role"], "content": m["content"]})
    if not out:
        raise InputError("a chat needs at least one message")
    return out


def _check_sampling(n: int, temperature: float, max_tokens: int) -> None:
    if n < 1:
        raise ConfigError(f"n ({n}) must be >= 1")
    if temperature < 0:
        raise ConfigError(f"temperature ({temperature}) must be >= 0")
    if max_tokens < 1:
        raise ConfigError(f"max_tokens ({max_tokens}) must be >= 1")


def plain_chat_text(messages: Sequence[Message]) -> str:
    """A chat as plain text for a tokenizer without a chat template: one ``Role: content``
    paragraph per message, then ``Assistant:`` for the model to continue."""
    parts = [f"{m['role'].capitalize()}: {m['content']}" for m in _check_messages(messages)]
    return "\n\n".join(parts) + "\n\nAssistant:"


# --- local model -------------------------------------------------------------------------------------


class LocalModel:
    """A causal LM loaded offline with transformers (rules in the module docstring).

    ``path_or_id``: a model directory, or a hub id already cached (nothing is downloaded).
    ``device``: ``"cpu"``, ``"cuda"``, ``"cuda:1"``... (default: CUDA when available).
    ``dtype``: a torch dtype name (default: ``bfloat16`` on CUDA, ``float32`` on CPU).
    Raises :class:`~codeeval_rl.errors.InputError` naming the path when it cannot be loaded,
    :class:`~codeeval_rl.errors.MissingDependency` without the ``train`` extra."""

    def __init__(self, path_or_id: str | os.PathLike[str], *, device: str | None = None,
                 dtype: str | None = None, trust_remote_code: bool = False) -> None:
        torch = require("torch", "train")
        transformers = require("transformers", "train")
        name = os.fspath(path_or_id)
        path = Path(name).expanduser()
        looks_like_path = path.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1 \
            or os.sep in name and os.sep != "/"
        if looks_like_path and not path.exists():
            raise InputError(f"model path {name!r} does not exist")
        if path.exists() and not path.is_dir():
            raise InputError(f"model path {name!r} is not a directory (a Hugging Face model directory is needed)")
        source = str(path) if path.exists() else name
        try:
            self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        except RuntimeError as exc:
            raise ConfigError(f"device {device!r} is not a torch device: {exc}") from None
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} asks for CUDA, which this host does not have")
        dtype_name = dtype or ("bfloat16" if self.device.type == "cuda" else "float32")
        torch_dtype = getattr(torch, dtype_name, None)
        if not isinstance(torch_dtype, torch.dtype):
            raise ConfigError(f"dtype {dtype!r} is not a torch dtype name such as 'float32' or 'bfloat16'")
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                source, local_files_only=True, trust_remote_code=trust_remote_code)
            model = transformers.AutoModelForCausalLM.from_pretrained(
                source, local_files_only=True, dtype=torch_dtype, trust_remote_code=trust_remote_code)
        except (OSError, ValueError, KeyError) as exc:
            where = "directory" if path.exists() else "local directory, nor a hub id in the Hugging Face cache"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"cannot load model {name!r} offline (not a usable model {where}): {first}") from None
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._id = name
        self.tokenizer = tokenizer
        self.model = model.to(self.device).eval()
        self.templated = bool(getattr(tokenizer, "chat_template", None))
        self.max_positions: int | None = getattr(model.config, "max_position_embeddings", None)

    @property
    def id(self) -> str:
        return self._id

    def render(self, messages: Sequence[Message]) -> str:
        """The chat template's text (with the generation prompt), else :func:`plain_chat_text`.
        A template that refuses a system message gets it folded into the first user message."""
        chat = _check_messages(messages)
        if not self.templated:
            return plain_chat_text(chat)
        try:
            return str(self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True))
        except Exception:  # jinja's TemplateError (or the template's own) for a refused role
            if chat[0]["role"] != "system" or len(chat) < 2:
                raise
            folded = [{"role": chat[1]["role"], "content": chat[0]["content"] + "\n\n" + chat[1]["content"]},
                      *chat[2:]]
            return str(self.tokenizer.apply_chat_template(folded, tokenize=False, add_generation_prompt=True))

    def complete(self, messages: Sequence[Message], *, n: int = 1, temperature: float = 0.0,
                 seed: int = 0, max_tokens: int = 1024) -> list[str]:
        """``n`` replies (greedy when ``temperature == 0``: ``n`` copies of one reply).
        Raises :class:`PromptTooLong` when the prompt alone fills the model's context."""
        import torch

        _check_sampling(n, temperature, max_tokens)
        text = self.render(messages)
        enc = self.tokenizer(text, return_tensors="pt", add_special_tokens=not self.templated)
        length = int(enc["input_ids"].shape[1])
        if self.max_positions is not None and length >= self.max_positions:
            raise PromptTooLong(f"the prompt is {length} tokens; model {self._id!r} holds "
                                f"{self.max_positions} positions")
        greedy = temperature == 0
        kwargs: dict[str, Any] = {"max_new_tokens": max_tokens, "pad_token_id": self.tokenizer.pad_token_id,
                                  "eos_token_id": self.tokenizer.eos_token_id}
        if greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=temperature, num_return_sequences=n)
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed)
            out = self.model.generate(input_ids=enc["input_ids"].to(self.device),
                                      attention_mask=enc["attention_mask"].to(self.device), **kwargs)
        texts = [self.tokenizer.decode(row[length:], skip_special_tokens=True) for row in out.cpu()]
        return texts * n if greedy else texts


# --- OpenAI-compatible endpoint ------------------------------------------------------------------------


def chat_completions_url(url: str) -> str:
    """``{url}/v1/chat/completions`` for a base URL given with or without ``/v1`` (or already
    ending in ``/chat/completions``). Raises :class:`~codeeval_rl.errors.ConfigError` for a URL
    that is not ``http(s)://host...``."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"endpoint {url!r} is not an http(s) URL such as http://127.0.0.1:8000")
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):
        pass
    elif path.endswith("/v1"):
        path += "/chat/completions"
    else:
        path += "/v1/chat/completions"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class ChatEndpoint:
    """An OpenAI-compatible chat-completions endpoint (rules in the module docstring).

    ``model`` is the name sent in the request (many single-model servers accept anything).
    ``timeout`` bounds each request in seconds; ``retries`` is how many times a retryable
    failure is tried again, waiting ``backoff * 2**k`` seconds before try ``k + 1``.
    ``api_key`` overrides :data:`ENDPOINT_KEY_ENV`."""

    def __init__(self, url: str, *, model: str = "default", timeout: float = 120.0, retries: int = 4,
                 backoff: float = 1.0, api_key: str | None = None) -> None:
        if timeout <= 0:
            raise ConfigError(f"timeout ({timeout}) must be > 0 seconds")
        if retries < 0:
            raise ConfigError(f"retries ({retries}) must be >= 0")
        if backoff < 0:
            raise ConfigError(f"backoff ({backoff}) must be >= 0 seconds")
        if not model:
            raise ConfigError("the endpoint's model name must not be empty")
        self.url = chat_completions_url(url)
        self.model = model
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._key = api_key if api_key is not None else os.environ.get(ENDPOINT_KEY_ENV, "")

    @property
    def id(self) -> str:
        return f"{self.model}@{self.url.removesuffix('/chat/completions')}"

    def render(self, messages: Sequence[Message]) -> str:
        """The messages as canonical JSON (sorted keys), the part of the request that is the prompt."""
        return json.dumps(_check_messages(messages), sort_keys=True, ensure_ascii=False)

    def complete(self, messages: Sequence[Message], *, n: int = 1, temperature: float = 0.0,
                 seed: int = 0, max_tokens: int = 1024) -> list[str]:
        """``n`` replies. One request asks for all ``n``; a server that returns fewer choices is
        asked again (with ``seed + k``) until there are ``n``."""
        _check_sampling(n, temperature, max_tokens)
        chat = _check_messages(messages)
        replies: list[str] = []
        for k in range(n):
            if len(replies) >= n:
                break
            body: dict[str, Any] = {"model": self.model, "messages": chat, "temperature": temperature,
                                    "max_tokens": max_tokens, "seed": seed + k}
            if n - len(replies) > 1:
                body["n"] = n - len(replies)
            replies.extend(self._choices(self._post(body)))
        return replies[:n]

    def _post(self, body: Mapping[str, Any]) -> Any:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        last = ""
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2 ** attempt
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
            except urllib.error.HTTPError as exc:
                detail = _error_detail(exc)
                if exc.code not in _RETRY_STATUS:
                    kind = RequestRejected if exc.code in (400, 413, 422) else EndpointError
                    hint = " (check the URL)" if exc.code == 404 else \
                        f" (check {ENDPOINT_KEY_ENV})" if exc.code in (401, 403) else ""
                    raise kind(f"endpoint {self.url} answered HTTP {exc.code}{hint}: {detail}") from None
                last = f"HTTP {exc.code}: {detail}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after:
                    try:
                        wait = min(max(float(retry_after), 0.0), _MAX_RETRY_AFTER)
                    except ValueError:
                        pass
            except TimeoutError:
                last = f"no answer within {self.timeout:g} s"
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, TimeoutError):
                    last = f"no answer within {self.timeout:g} s"
                else:
                    last = f"cannot connect: {reason}"
            except (OSError, http.client.HTTPException) as exc:  # reset, closed mid-answer, not HTTP
                last = f"connection failed: {type(exc).__name__}: {exc}"
            else:
                try:
                    return json.loads(raw)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    raise EndpointError(f"endpoint {self.url} answered invalid JSON: "
                                        f"{raw[:200].decode(errors='replace')!r}") from None
            if attempt < self.retries:
                time.sleep(wait)
        raise EndpointError(f"endpoint {self.url} failed after {self.retries + 1} tries; last: {last}")

    def _choices(self, payload: Any) -> list[str]:
        choices = payload.get("choices") if isinstance(payload, dict) else None
        if not isinstance(choices, list) or not choices:
            raise EndpointError(f"endpoint {self.url} answered without choices: {json.dumps(payload)[:200]}")
        texts: list[str] = []
        for i, choice in enumerate(choices):
            message = choice.get("message") if isinstance(choice, dict) else None
            content = message.get("content") if isinstance(message, dict) else None
            if not isinstance(content, str):
                raise EndpointError(f"endpoint {self.url} answered without choices[{i}].message.content "
                                    f"(a chat-completions answer is expected): {json.dumps(choice)[:200]}")
            texts.append(content)
        return texts


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read(500).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text or str(exc.reason)
