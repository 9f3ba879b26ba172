"""The policy boundary: a model that samples completions with their token log-probs.

:class:`Policy` is the small protocol trainers, the evaluator's ``--model`` path and the
framework facade talk to; :class:`LLMAdapter` implements it over any Hugging Face causal LM
(transformers; LoRA through peft; vLLM for generation when it is installed and a GPU is
present); :class:`FakePolicy` is the scripted stand-in for unit tests.

Log-probs are those of the sampled tokens under the model's distribution divided by the
sampling temperature (before top-p truncation), the quantity the trainers' ratios use.
Limits: vLLM serves generation-only uses (``generate_samples``, evaluation); the trainers
generate with transformers, because their weights change every step.
"""

from __future__ import annotations

import copy
import importlib.util
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from codeeval_rl.errors import InputError, require

__all__ = ["FakePolicy", "LLMAdapter", "Policy", "PromptLike", "Sample"]

PromptLike = str | Sequence[Mapping[str, str]]
"""A plain prompt string, or a chat as a list of ``{"role", "content"}`` messages."""


@dataclass(frozen=True)
class Sample:
    """One sampled completion. ``logprobs[i]`` belongs to ``completion_ids[i]``."""

    prompt_ids: tuple[int, ...]
    completion_ids: tuple[int, ...]
    logprobs: tuple[float, ...]
    text: str
    finished: bool = True
    """False when ``max_new_tokens`` cut the completion before end-of-sequence."""


@runtime_checkable
class Policy(Protocol):
    """Samples ``n`` completions per prompt; result ``[prompt][sample]``."""

    def generate(self, prompts: Sequence[PromptLike], *, n: int = 1, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 256) -> list[list[Sample]]: ...


class FakePolicy:
    """Scripted policy: ``responder(prompt_text, sample_index) -> completion`` decides every
    sample; token ids are the completion's bytes and log-probs are 0. Keeps every call."""

    def __init__(self, responder: Callable[[str, int], str] | None = None) -> None:
        self.responder = responder or (lambda prompt, i: "")
        self.calls: list[tuple[list[str], int]] = []

    def generate(self, prompts: Sequence[PromptLike], *, n: int = 1, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 256) -> list[list[Sample]]:
        texts = [p if isinstance(p, str) else "\n".join(m["content"] for m in p) for p in prompts]
        self.calls.append((texts, n))
        out = []
        for text in texts:
            row = []
            for i in range(n):
                completion = self.responder(text, i)
                ids = tuple(completion.encode("utf-8"))[:max_new_tokens]
                row.append(Sample(tuple(text.encode("utf-8")), ids, (0.0,) * len(ids), completion))
            out.append(row)
        return out


def _validate_sampling(n: int, temperature: float, top_p: float, max_new_tokens: int) -> None:
    if n < 1:
        raise InputError(f"n ({n}) must be >= 1")
    if temperature < 0:
        raise InputError(f"temperature ({temperature}) must be >= 0")
    if not 0 < top_p <= 1:
        raise InputError(f"top_p ({top_p}) must be in (0, 1]")
    if max_new_tokens < 1:
        raise InputError(f"max_new_tokens ({max_new_tokens}) must be >= 1")


class LLMAdapter:
    """A Hugging Face causal LM as a :class:`Policy` and a trainable model.

    ``model_name_or_path``: a local directory or a hub id (offline hosts need it cached).
    ``lora``: ``{"r": 16, "alpha": 32, "target_modules": [...]}`` wraps the model with peft;
    the frozen base then serves as the KL reference. ``device``: ``"cpu"``, ``"cuda"``...
    (default: CUDA when available). ``dtype``: ``"float32"``, ``"bfloat16"``... ``use_chat_template``:
    format prompts with the tokenizer's chat template when it has one. ``use_vllm``: ``"auto"``
    (when installed and CUDA is present), ``True`` or ``False``; only for generation-only uses.
    Use :meth:`from_objects` to wrap an already-built model and tokenizer.
    """

    def __init__(self, model_name_or_path: str | os.PathLike[str] | None = None, *,
                 lora: Mapping[str, Any] | None = None, device: str | None = None, dtype: str | None = None,
                 use_chat_template: bool = True, system_prompt: str | None = None,
                 use_vllm: bool | str = "auto", trust_remote_code: bool = False,
                 model: Any = None, tokenizer: Any = None) -> None:
        torch = require("torch", "train")
        transformers = require("transformers", "train")
        if model is None and model_name_or_path is None:
            raise InputError("LLMAdapter needs a model name or path")
        self.name = str(model_name_or_path) if model_name_or_path is not None else type(model).__name__
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        torch_dtype = None
        if dtype is not None:
            torch_dtype = getattr(torch, dtype, None)
            if not isinstance(torch_dtype, torch.dtype):
                raise InputError(f"dtype ({dtype!r}) is not a torch dtype name such as 'float32' or 'bfloat16'")
        if model is None:
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_name_or_path),
                                                                       trust_remote_code=trust_remote_code)
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    str(model_name_or_path), dtype=torch_dtype, trust_remote_code=trust_remote_code)
            except OSError as exc:
                raise InputError(f"cannot load model {model_name_or_path!r}: {exc}") from None
        elif tokenizer is None:
            raise InputError("LLMAdapter(model=...) needs tokenizer= as well")
        elif torch_dtype is not None:
            model = model.to(torch_dtype)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.tokenizer = tokenizer
        self.model_path = str(model_name_or_path) if model_name_or_path is not None else None
        self.use_chat_template = use_chat_template and bool(getattr(tokenizer, "chat_template", None))
        self.system_prompt = system_prompt
        self.lora = dict(lora) if lora else None
        if self.lora:
            model = self._wrap_lora(model, self.lora)
        self.model = model.to(self.device)
        self._use_vllm = use_vllm
        self._vllm: Any = None

    @classmethod
    def from_objects(cls, model: Any, tokenizer: Any, **kwargs: Any) -> LLMAdapter:
        """Wrap a model and tokenizer already in memory."""
        return cls(None, model=model, tokenizer=tokenizer, **kwargs)

    @staticmethod
    def _wrap_lora(model: Any, lora: Mapping[str, Any]) -> Any:
        peft = require("peft", "train")
        unknown = set(lora) - {"r", "alpha", "target_modules", "dropout"}
        if unknown:
            raise InputError(f"lora: unknown keys {sorted(unknown)}; allowed: r, alpha, target_modules, dropout")
        r = int(lora.get("r", 16))
        if r < 1:
            raise InputError(f"lora.r ({r}) must be >= 1")
        config = peft.LoraConfig(r=r, lora_alpha=int(lora.get("alpha", 2 * r)),
                                 target_modules=lora.get("target_modules") or "all-linear",
                                 lora_dropout=float(lora.get("dropout", 0.0)), task_type="CAUSAL_LM")
        return peft.get_peft_model(model, config)

    # --- prompts -------------------------------------------------------------------------
    def format_prompt(self, prompt: PromptLike) -> str:
        """The text the model sees: the chat template applied when there is one, else the
        prompt as it is (a chat without a template is joined with blank lines)."""
        if isinstance(prompt, str):
            messages: list[Mapping[str, str]] = [{"role": "user", "content": prompt}]
        else:
            messages = list(prompt)
            for i, m in enumerate(messages):
                if not isinstance(m, Mapping) or "role" not in m or "content" not in m:
                    raise InputError(f"prompt message {i} must be a mapping with 'role' and 'content'")
        if self.use_chat_template:
            if self.system_prompt and messages[0]["role"] != "system":
                messages = [{"role": "system", "content": self.system_prompt}, *messages]
            return str(self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        if isinstance(prompt, str):
            return prompt
        return "\n\n".join(m["content"] for m in messages)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # --- sampling ------------------------------------------------------------------------
    def generate(self, prompts: Sequence[PromptLike], *, n: int = 1, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 256) -> list[list[Sample]]:
        """Sample ``n`` completions for each prompt (``temperature=0``: greedy)."""
        _validate_sampling(n, temperature, top_p, max_new_tokens)
        texts = [self.format_prompt(p) for p in prompts]
        if self._vllm_wanted():
            return self._generate_vllm(texts, n, temperature, top_p, max_new_tokens)
        return self.generate_ids([self.encode(t) for t in texts], n=n, temperature=temperature,
                                 top_p=top_p, max_new_tokens=max_new_tokens)

    def generate_ids(self, prompt_ids: Sequence[Sequence[int]], *, n: int = 1, temperature: float = 1.0,
                     top_p: float = 1.0, max_new_tokens: int = 256) -> list[list[Sample]]:
        """Sample from already tokenised prompts with transformers (the trainers' path)."""
        import torch

        _validate_sampling(n, temperature, top_p, max_new_tokens)
        tok = self.tokenizer
        model = self.model
        pad = tok.pad_token_id
        eos = tok.eos_token_id
        rows = [list(p) for p in prompt_ids for _ in range(n)]
        if not rows:
            return []
        width = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):  # left padding: every prompt ends at the same column
            if r:
                input_ids[i, width - len(r):] = torch.tensor(r)
                attention[i, width - len(r):] = 1
        greedy = temperature == 0
        was_training = model.training
        model.eval()
        with torch.no_grad():
            out = model.generate(
                input_ids=input_ids.to(self.device), attention_mask=attention.to(self.device),
                do_sample=not greedy, temperature=None if greedy else temperature,
                top_p=None if greedy else top_p, top_k=None if greedy else 0, max_new_tokens=max_new_tokens,
                pad_token_id=pad, eos_token_id=eos, output_logits=True, return_dict_in_generate=True)
        if was_training:
            model.train()
        new = out.sequences[:, width:].cpu()
        logits = torch.stack(out.logits, dim=1).float().cpu()
        if not greedy:
            logits = logits / temperature
        lp = torch.log_softmax(logits, dim=-1).gather(-1, new.unsqueeze(-1)).squeeze(-1)
        samples: list[list[Sample]] = []
        for i, r in enumerate(rows):
            ids = new[i].tolist()
            finished = eos in ids
            length = ids.index(eos) + 1 if finished else len(ids)
            ids = ids[:length]
            text = tok.decode(ids, skip_special_tokens=True)
            sample = Sample(tuple(r), tuple(ids), tuple(lp[i, :length].tolist()), text, finished)
            if i % n == 0:
                samples.append([])
            samples[-1].append(sample)
        return samples

    def _vllm_wanted(self) -> bool:
        if self._use_vllm is False or self.model_path is None or self.lora:
            return False
        import torch

        available = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
        if self._use_vllm is True and not available:
            raise InputError("use_vllm=True but vLLM is not installed or no GPU is present")
        return available

    def _generate_vllm(self, texts: list[str], n: int, temperature: float, top_p: float,
                       max_new_tokens: int) -> list[list[Sample]]:
        vllm = require("vllm", "train")
        if self._vllm is None:
            self._vllm = vllm.LLM(model=self.model_path)
        params = vllm.SamplingParams(n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens,
                                     logprobs=0)
        results = []
        for req in self._vllm.generate(texts, params):
            row = []
            for c in req.outputs:
                lps = tuple(float(step[t].logprob) for step, t in zip(c.logprobs or [], c.token_ids))
                row.append(Sample(tuple(req.prompt_token_ids), tuple(c.token_ids), lps, c.text,
                                  c.finish_reason == "stop"))
            results.append(row)
        return results

    # --- training helpers ----------------------------------------------------------------
    def reference_model(self) -> Any:
        """A frozen copy of the current model for the KL penalty (with LoRA: ``None``; the
        trainers then use the base model with adapters disabled)."""
        if self.lora:
            return None
        ref = copy.deepcopy(self.model)
        ref.eval()
        for p in ref.parameters():
            p.requires_grad_(False)
        return ref

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write model (or LoRA adapter) and tokenizer to ``path`` in Hugging Face format."""
        os.makedirs(path, exist_ok=True)
        self.model.save_pretrained(str(path))
        self.tokenizer.save_pretrained(str(path))
