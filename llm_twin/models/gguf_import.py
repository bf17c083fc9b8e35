"""Convert a GGUF base model (packaged, or a user's file from Ollama / LM Studio) into a Hugging Face folder
once: config, tokenizer (with its chat template) and safetensors, which training (4-bit NF4 needs a
`quantization_config`, refused together with `gguf_file=`), merging and evaluation load.

transformers reads the GGUF (dequantizing every tensor and undoing llama.cpp's rotary permutation); three
things it does not do are done here:
- a GGUF that is not a supported family, or has no chat template, is refused before the slow part;
- Llama 3.1+ files store their rotary scaling as a `rope_freqs` tensor that transformers ignores: the
  `llama3` parameters are recovered from it (and checked by recomputing the tensor), so the HF model
  computes what llama.cpp computes;
- the pre-tokenizer split of `smollm` vocabularies (digits one by one) that transformers' GGUF tokenizer
  lacks is added; then llama.cpp's and the converted tokenizer's ids are compared on probe texts, and a
  difference is logged and recorded in the cache marker.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from llm_twin.models.families import Family, UnsupportedFamily, family_of_gguf_arch, llama3_rope_factors
from llm_twin.models.gguf_header import GgufHeader, GgufHeaderError, read_header

log = logging.getLogger(__name__)

MARKER = "llm_twin_base.json"
# Bump when the conversion changes what it writes, so caches made by an older version are rebuilt.
CONVERSION_VERSION = 2
_LLAMA3_DEFAULTS = {"low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}


class GgufImportError(ValueError):
    """The GGUF cannot be used as a base model; the message says why and what to do."""


def inspect_gguf(path: Path) -> tuple[Family, GgufHeader]:
    """(family, header) of a GGUF base model, refusing what cannot train a twin (header only: quick)."""
    try:
        header = read_header(path)
    except (GgufHeaderError, OSError) as exc:
        raise GgufImportError(f"{path} cannot be read as a GGUF file: {exc}") from exc
    arch = str(header.get("general.architecture"))
    try:
        family = family_of_gguf_arch(arch)
    except UnsupportedFamily as exc:
        raise GgufImportError(f"{path}: {exc}") from exc
    if not header.get("tokenizer.chat_template"):
        raise GgufImportError(
            f"{path} has no chat template (tokenizer.chat_template): the twin renders its training prompts and "
            "answers with the model's chat template, so use the instruct/chat variant of the model"
        )
    if header.get("tokenizer.ggml.model") not in ("gpt2", "llama"):
        raise GgufImportError(f"{path}: tokenizer {header.get('tokenizer.ggml.model')!r} is not supported "
                              "(byte-level BPE `gpt2` and sentencepiece `llama` are)")
    return family, header


def llama3_rope_from_gguf(header: GgufHeader, head_dim: int) -> dict[str, Any] | None:
    """The `llama3` rotary parameters that reproduce the file's `rope_freqs` tensor, or None without one.

    The file keeps only the per-frequency factors; the parameters are found by trying Llama 3's usual
    values first (original context 8192, low/high frequency factors 1 and 4), then other power-of-two
    original contexts, and accepted only when they recompute the tensor."""
    try:
        factors = header.read_f32("rope_freqs.weight")
    except GgufHeaderError as exc:
        raise GgufImportError(f"{header.path}: {exc}") from exc
    if factors is None:
        return None
    rope_theta = float(header.get(f"{header.get('general.architecture')}.rope.freq_base") or 10000.0)
    base: dict[str, Any] = {"rope_type": "llama3", "rope_theta": rope_theta, "factor": float(factors.max()),
                            **_LLAMA3_DEFAULTS}
    stated = header.get("llama.rope.scaling.original_context_length")
    contexts = [int(stated)] if stated else []
    contexts += [8192] + [2**k for k in range(4, 21) if 2**k != 8192]
    for ctx in contexts:
        params = {**base, "original_max_position_embeddings": ctx}
        expected = np.asarray(llama3_rope_factors(params, head_dim), dtype=np.float32)
        if expected.shape == factors.shape and np.allclose(expected, factors, rtol=1e-4, atol=1e-5):
            return params
    raise GgufImportError(
        f"the GGUF's rope_freqs tensor ({factors.tolist()[:8]}...) matches no Llama 3 rotary scaling (factor "
        f"{base['factor']}, low/high frequency factors 1/4): this file cannot be converted faithfully"
    )


def _fix_pre_tokenizer(tokenizer: Any, header: GgufHeader) -> None:
    """SmolLM-style vocabularies split every digit first; transformers' GGUF tokenizer does not."""
    if header.get("tokenizer.ggml.pre") != "smollm":
        return
    from tokenizers import pre_tokenizers

    backend = tokenizer.backend_tokenizer
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )


def load_gguf_tokenizer(path: Path) -> Any:
    """The Hugging Face tokenizer of a GGUF file (metadata only, quick), with the fixes of `convert_gguf`."""
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory(prefix="llm-twin-gguf-") as work:
        named = _as_gguf_name(Path(path), Path(work))
        tokenizer = AutoTokenizer.from_pretrained(str(named.parent), gguf_file=named.name)
    _fix_pre_tokenizer(tokenizer, read_header(path))
    return tokenizer


def _as_gguf_name(path: Path, workdir: Path) -> Path:
    """transformers wants `<folder>, gguf_file=<name>`; an Ollama blob has no suffix: link it as `model.gguf`."""
    if path.suffix == ".gguf":
        return path
    link = workdir / "model.gguf"
    os.symlink(path.resolve(), link)
    return link


def convert_gguf(source: Path, target: Path, dtype: str, extra: dict[str, Any] | None = None) -> Path:
    """Convert `source` into the HF folder `target` (written under a temporary name, then renamed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    family, header = inspect_gguf(source)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    log.info("converting %s (%s) to safetensors under %s (once)", source, family.name, target)
    with tempfile.TemporaryDirectory(prefix="llm-twin-gguf-") as work:
        named = _as_gguf_name(source, Path(work))
        tokenizer = AutoTokenizer.from_pretrained(str(named.parent), gguf_file=named.name)
        model: Any = AutoModelForCausalLM.from_pretrained(str(named.parent), gguf_file=named.name,
                                                          dtype=getattr(torch, dtype))
    # The weights are already dequantized; drop the GGUF "quantizer" so they can be saved.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    n_head = int(model.config.num_attention_heads)
    head_dim = int(getattr(model.config, "head_dim", None) or model.config.hidden_size // n_head)
    rope = llama3_rope_from_gguf(header, head_dim)
    if rope is not None:
        model.config.rope_parameters = rope
    _fix_pre_tokenizer(tokenizer, header)
    tmp = target.with_name(target.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    del model

    mismatches = tokenization_mismatches(source, tokenizer)
    marker = {"source": str(source), "family": family.name, "conversion": CONVERSION_VERSION, "rope": rope,
              "tokenization_mismatches": None if mismatches is None else len(mismatches), **(extra or {})}
    (tmp / MARKER).write_text(json.dumps(marker, indent=2))
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)  # atomic: a crash mid-conversion never leaves a half-written cache
    return target


def tokenization_mismatches(source: Path, tokenizer: Any) -> list[Any] | None:
    """llama.cpp's ids against the converted tokenizer's, logged; None when llama.cpp is not installed: a GPU
    stack that serves with `transformers_bnb` never runs llama.cpp, so nothing there can disagree with it."""
    import importlib.util

    from llm_twin.models.tokenizer_check import compare_tokenization, describe

    if importlib.util.find_spec("llama_cpp") is None:
        log.warning("llama-cpp-python is not installed: the check that llama.cpp tokenizes %s like the converted "
                    "tokenizer is skipped (install it to serve a GGUF)", source.name)
        return None
    mismatches = compare_tokenization(source, tokenizer)
    for m in mismatches:
        log.warning("tokenizer of %s: llama.cpp and the converted tokenizer differ %s", source.name,
                    describe(m, tokenizer))
    return mismatches


def read_marker(folder: Path) -> dict[str, Any] | None:
    path = folder / MARKER
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return None
