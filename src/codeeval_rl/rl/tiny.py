"""A tokenizer and a causal LM of a few million parameters, built from scratch offline.

Used by the quickstart and by tests: no download, seconds to build. The tokenizer is a
byte-level BPE (the ``tokenizers`` package) trained on the given texts, with digits split
one per token so numbers never seen in training still tokenise from seen pieces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from codeeval_rl.errors import ConfigError, require

__all__ = ["SPECIAL_TOKENS", "build_tiny_model", "train_tokenizer"]

SPECIAL_TOKENS = ("<pad>", "<eos>")


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512) -> Any:
    """Train a byte-level BPE tokenizer on ``texts``; returns a transformers
    ``PreTrainedTokenizerFast`` with ``<pad>`` and ``<eos>`` (the end of every completion)."""
    tokenizers = require("tokenizers", "train")
    transformers = require("transformers", "train")
    from tokenizers import decoders, models, pre_tokenizers, trainers

    if vocab_size < 300:
        raise ConfigError(f"vocab_size ({vocab_size}) must be >= 300 (256 bytes + merges + specials)")
    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(texts), trainer=trainer)
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")


def build_tiny_model(vocab_size: int, *, hidden: int = 128, layers: int = 4, heads: int = 4,
                     intermediate: int = 384, max_positions: int = 256, seed: int = 0,
                     pad_token_id: int = 0, eos_token_id: int = 1) -> Any:
    """A randomly initialised Llama-architecture causal LM (``hidden=128, layers=4``: about
    1 M parameters plus the embeddings)."""
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    config = transformers.LlamaConfig(
        vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        num_key_value_heads=heads, intermediate_size=intermediate, max_position_embeddings=max_positions,
        pad_token_id=pad_token_id, eos_token_id=eos_token_id, bos_token_id=eos_token_id,
        tie_word_embeddings=True, rms_norm_eps=1e-5)
    torch.manual_seed(seed)
    model = transformers.LlamaForCausalLM(config)
    model.generation_config.pad_token_id = pad_token_id
    model.generation_config.eos_token_id = eos_token_id
    return model
