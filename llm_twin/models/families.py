"""The model families a user can bring as a base model (llama, mistral, qwen2), and what differs between them.

One table, read by everything that has to know the family: resolving a local base model (which Hugging Face
`model_type` / GGUF `general.architecture` is accepted), the GGUF export (which llama.cpp architecture and
tensor-name map, whether q/k need the rotary permutation), and the llama3 rotary scaling that Llama 3.1+
models store as a `rope_freqs` tensor in GGUF but as `rope_scaling` parameters in Hugging Face configs.

What llama.cpp expects (checked against the `gguf` package's MODEL_ARCH / TENSOR maps and by perplexity):
- llama and mistral are both llama.cpp's `llama` architecture (llama.cpp's converter writes Mistral-7B as
  `llama`); their q/k projections are permuted from HF's rotate-half layout to llama.cpp's interleaved one.
- qwen2 is its own `qwen2` architecture: NEOX-style rotary (HF's layout as it is, no permutation) and
  q/k/v biases, which map to `blk.N.attn_{q,k,v}.bias`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


class Family(BaseModel):
    name: str
    hf_model_types: tuple[str, ...]  # config.json `model_type`
    gguf_arch: str  # GGUF `general.architecture`
    permute_qk: bool  # llama.cpp's interleaved rotary layout (LLAMA rope) vs HF's (NEOX rope)
    examples: str


FAMILIES: tuple[Family, ...] = (
    Family(name="llama", hf_model_types=("llama",), gguf_arch="llama", permute_qk=True,
           examples="Llama 3.x, SmolLM2, TinyLlama"),
    Family(name="mistral", hf_model_types=("mistral",), gguf_arch="llama", permute_qk=True,
           examples="Mistral-7B-Instruct v0.1-v0.3"),
    Family(name="qwen2", hf_model_types=("qwen2",), gguf_arch="qwen2", permute_qk=False,
           examples="Qwen2, Qwen2.5"),
)


class UnsupportedFamily(ValueError):
    """The model is of no supported family; the message names the supported ones."""


def supported_text() -> str:
    return "; ".join(f"{f.name} ({f.examples})" for f in FAMILIES)


def family_of_model_type(model_type: str | None) -> Family:
    """The family of a Hugging Face config's `model_type`."""
    for family in FAMILIES:
        if model_type in family.hf_model_types:
            return family
    raise UnsupportedFamily(
        f"model_type {model_type!r} is not a supported base model family; supported: {supported_text()}"
    )


def family_of_gguf_arch(arch: str) -> Family:
    """The family of a GGUF `general.architecture` (a Mistral GGUF says `llama`: same export rules)."""
    for family in FAMILIES:
        if family.gguf_arch == arch:
            return family
    arches = sorted({f.gguf_arch for f in FAMILIES})
    raise UnsupportedFamily(
        f"GGUF architecture {arch!r} is not supported; supported GGUF architectures: {', '.join(arches)} "
        f"(families: {supported_text()})"
    )


def rope_parameters(config: Any) -> dict[str, Any]:
    """The rotary parameters of a transformers config, old (`rope_scaling` + `rope_theta`) or new
    (`rope_parameters`, transformers 5) style, as one dict with `rope_theta` and `rope_type`."""
    params: dict[str, Any] = dict(getattr(config, "rope_parameters", None) or {})
    scaling = getattr(config, "rope_scaling", None)
    if isinstance(scaling, Mapping):
        params = {**dict(scaling), **params}
    params.setdefault("rope_theta", getattr(config, "rope_theta", 10000.0))
    params.setdefault("rope_type", params.get("type", "default"))
    return params


def llama3_rope_factors(params: Mapping[str, Any], head_dim: int) -> list[float]:
    """Per-frequency divisors of Llama 3.1+'s rotary scaling (`rope_type: llama3`), as llama.cpp's
    converter writes them to the `rope_freqs` tensor (one value per rotary frequency)."""
    base = float(params["rope_theta"])
    factor = float(params.get("factor", 8.0))
    low = float(params.get("low_freq_factor", 1.0))
    high = float(params.get("high_freq_factor", 4.0))
    old_ctx = float(params.get("original_max_position_embeddings", 8192))
    low_wavelen, high_wavelen = old_ctx / low, old_ctx / high
    factors: list[float] = []
    for i in range(0, head_dim, 2):
        freq = 1.0 / (base ** (i / head_dim))
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(factor)
        else:
            smooth = (old_ctx / wavelen - low) / (high - low)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    return factors
