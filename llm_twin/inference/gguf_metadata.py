"""GGUF key/value metadata written from a Hugging Face folder: hyper-parameters and tokenizer.

The export reuses a base GGUF's metadata when the base model came as a GGUF (the packaged SmolLM2, a file
from Ollama or LM Studio): its tokenizer is then exactly the one llama.cpp already runs. A base model that
came as a Hugging Face folder has no such file, so this module writes what llama.cpp's own converter
would: the family's hyper-parameters and the tokenizer (vocabulary, token types, merges or scores,
special tokens, chat template).

The one thing a Hugging Face folder does not say is llama.cpp's pre-tokenizer name (how text is split
before BPE: digits one by one or in threes, contractions...). llama.cpp's converter recognises it by a
hash table of known tokenizers; here the candidates of the family are tried instead, each checked by
tokenizing probe texts with llama.cpp and comparing with the HF tokenizer (`tokenizer_check`), and the
first that agrees on every probe is taken. None agreeing is an error, never a silent difference.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from llm_twin.models.families import Family, rope_parameters

log = logging.getLogger(__name__)

# llama.cpp pre-tokenizer names to try, per family, most likely first (a Llama 3 tokenizer is `llama-bpe`,
# SmolLM2's `smollm`, Qwen2's `qwen2`, Mistral-Nemo's `tekken`; `default` is GPT-2's own split).
PRE_CANDIDATES: dict[str, tuple[str, ...]] = {
    "llama": ("llama-bpe", "smollm", "qwen2", "tekken", "gpt-2", "default"),
    "mistral": ("tekken", "llama-bpe", "smollm", "qwen2", "gpt-2", "default"),
    "qwen2": ("qwen2", "llama-bpe", "smollm", "tekken", "gpt-2", "default"),
}
_BYTE_TOKEN = re.compile(r"<0x[0-9A-Fa-f]{2}>")


class MetadataError(ValueError):
    """The folder's config or tokenizer cannot be described to llama.cpp."""


class HfTokenizer(BaseModel):
    """A tokenizer as llama.cpp stores it."""

    model: str  # "gpt2" (byte-level BPE) | "llama" (sentencepiece-style BPE with byte fallback)
    tokens: list[str]
    token_types: list[int]
    scores: list[float] | None
    add_space_prefix: bool | None


def _tokenizer_json(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "tokenizer.json"
    if not path.is_file():
        raise MetadataError(f"{model_dir} has no tokenizer.json (a fast tokenizer is needed for the GGUF export)")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def read_tokenizer(model_dir: Path, tokenizer: Any, vocab_size: int) -> HfTokenizer:
    """The vocabulary of `tokenizer` (loaded from `model_dir`) padded to the model's `vocab_size`, as
    llama.cpp's converter lays it out (unused ids become `[PADn]`, special added tokens CONTROL, other
    added tokens USER_DEFINED, `<0xNN>` BYTE)."""
    import gguf

    data = _tokenizer_json(model_dir)
    bpe = data.get("model", {})
    if bpe.get("type") != "BPE":
        raise MetadataError(f"tokenizer model {bpe.get('type')!r} is not supported (BPE tokenizers are)")
    byte_fallback = bool(bpe.get("byte_fallback"))
    kind = "llama" if byte_fallback else "gpt2"

    vocab: dict[str, int] = tokenizer.get_vocab()
    if max(vocab.values()) >= vocab_size:
        raise MetadataError(f"the tokenizer has ids up to {max(vocab.values())} but the model only {vocab_size} rows")
    reverse = {i: t for t, i in vocab.items()}
    added = tokenizer.added_tokens_decoder  # id -> AddedToken
    unk_id = getattr(tokenizer, "unk_token_id", None)
    tokens: list[str] = []
    types: list[int] = []
    for i in range(vocab_size):
        text = reverse.get(i)
        if text is None:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        if i in added:
            special = bool(added[i].special)
            if not special and kind == "llama":
                text = text.replace("\u2581", " ")  # llama.cpp matches user-defined tokens in raw text
            types.append(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED)
        elif i == unk_id:
            types.append(gguf.TokenType.UNKNOWN)
        elif kind == "llama" and _BYTE_TOKEN.fullmatch(text):
            types.append(gguf.TokenType.BYTE)
        else:
            types.append(gguf.TokenType.NORMAL)
        tokens.append(text)

    scores = None
    add_space_prefix = None
    if kind == "llama":
        scores = _merge_scores(bpe, vocab, vocab_size)
        add_space_prefix = _prepends_space(data)
    return HfTokenizer(model=kind, tokens=tokens, token_types=[int(t) for t in types], scores=scores,
                       add_space_prefix=add_space_prefix)


def _merge_scores(bpe: dict[str, Any], vocab: dict[str, int], vocab_size: int) -> list[float]:
    """Sentencepiece-style scores: llama.cpp merges the adjacent pair whose joined token scores highest,
    which equals HF's merge order when a token scores minus the rank of the merge that makes it."""
    scores = [0.0] * vocab_size
    seen: set[str] = set()
    for rank, merge in enumerate(bpe.get("merges") or []):
        left, right = merge if isinstance(merge, list) else merge.split(" ", 1)
        joined = left + right
        if joined in vocab and joined not in seen:
            seen.add(joined)
            scores[vocab[joined]] = -float(rank + 1)
    return scores


def _prepends_space(data: dict[str, Any]) -> bool:
    """Whether the tokenizer puts `▁` before the text (a Metaspace pre-tokenizer or a Prepend normalizer)."""
    text = json.dumps([data.get("pre_tokenizer"), data.get("normalizer")])
    if '"Prepend"' in text:
        return True
    return bool(re.search(r'"prepend_scheme": "(first|always)"', text)) or '"add_prefix_space": true' in text


def write_hparams(writer: Any, config: Any, family: Family) -> None:
    """The family's hyper-parameters, as llama.cpp's converter writes them for llama / qwen2."""
    import gguf

    n_head = int(config.num_attention_heads)
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // n_head)
    writer.add_context_length(int(config.max_position_embeddings))
    writer.add_embedding_length(int(config.hidden_size))
    writer.add_block_count(int(config.num_hidden_layers))
    writer.add_feed_forward_length(int(config.intermediate_size))
    writer.add_head_count(n_head)
    writer.add_head_count_kv(int(getattr(config, "num_key_value_heads", None) or n_head))
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    writer.add_vocab_size(int(config.vocab_size))
    rope = rope_parameters(config)
    writer.add_rope_freq_base(float(rope["rope_theta"]))
    writer.add_rope_dimension_count(head_dim)
    if head_dim != int(config.hidden_size) // n_head:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    rope_type = rope.get("rope_type") or "default"
    if rope_type == "linear":
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(float(rope["factor"]))
    elif rope_type == "yarn":
        writer.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        writer.add_rope_scaling_factor(float(rope["factor"]))
        writer.add_rope_scaling_orig_ctx_len(int(rope["original_max_position_embeddings"]))
    elif rope_type == "llama3" and family.gguf_arch == "llama":
        pass  # written as the `rope_freqs` tensor (gguf_export)
    elif rope_type != "default":
        raise MetadataError(f"rotary scaling {rope_type!r} of a {family.name} model is not supported by the export")


class TokenizerVariant(BaseModel):
    """What llama.cpp needs beyond the vocabulary and the HF folder cannot state: the pre-tokenizer name of
    a byte-level BPE, or whether a sentencepiece-style one puts a space before text (llama.cpp does it at
    the start and after every special token, HF fast tokenizers do one or the other)."""

    pre: str | None
    add_space_prefix: bool | None


def write_tokenizer(writer: Any, model_dir: Path, tok: HfTokenizer, tokenizer: Any, variant: TokenizerVariant) -> None:
    """Vocabulary, special tokens, merges (byte-level BPE) and the chat template."""
    import gguf

    writer.add_tokenizer_model(tok.model)
    if variant.pre is not None:
        writer.add_tokenizer_pre(variant.pre)
    writer.add_token_list(tok.tokens)
    writer.add_token_types(tok.token_types)
    if tok.scores is not None:
        writer.add_token_scores(tok.scores)
    if variant.add_space_prefix is not None:
        writer.add_add_space_prefix(variant.add_space_prefix)
    special = gguf.SpecialVocab(model_dir, load_merges=tok.model == "gpt2", n_vocab=len(tok.tokens))
    special.chat_template = None  # taken from the loaded tokenizer below (one source of truth)
    special.add_to_gguf(writer, quiet=True)
    template = getattr(tokenizer, "chat_template", None)
    if template:
        writer.add_chat_template(template)


def variants(family: Family, tok: HfTokenizer) -> list[TokenizerVariant]:
    """The variants to try, most likely first: pre-tokenizer names for a byte-level BPE; for a
    sentencepiece-style vocabulary, with and without the space prefix (what the HF tokenizer suggests first)."""
    if tok.model == "llama":
        first = bool(tok.add_space_prefix)
        return [TokenizerVariant(pre=None, add_space_prefix=v) for v in (first, not first)]
    return [TokenizerVariant(pre=pre, add_space_prefix=None) for pre in PRE_CANDIDATES[family.name]]
