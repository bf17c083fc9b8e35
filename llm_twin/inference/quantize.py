"""Quantize a GGUF file with llama.cpp's own quantizer (`llama_cpp.llama_model_quantize`).

The quantized types here are the ones that matter on CPU: Q8_0 (near-lossless, default), Q4_K_M (smaller,
measurably worse on a 135M model), F16. Which one is served is decided by `selection.py` from measured
perplexity and speed, never by the name.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

# llama.cpp `llama_ftype` values (stable across releases).
QUANT_TYPES: dict[str, int] = {"F32": 0, "F16": 1, "Q8_0": 7, "Q4_0": 2, "Q5_K_M": 17, "Q4_K_M": 15, "Q6_K": 18}


class QuantizeError(RuntimeError):
    """llama.cpp refused to quantize (unknown type, unreadable input...)."""


def quantize_gguf(src: Path, dst: Path, qtype: str = "Q8_0", threads: int | None = None) -> Path:
    """Quantize `src` into `dst` (atomic rename on success)."""
    import llama_cpp

    key = qtype.upper()
    if key not in QUANT_TYPES:
        raise QuantizeError(f"unknown quantization {qtype!r}; choose one of {sorted(QUANT_TYPES)}")
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".partial")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_TYPES[key]
    params.nthread = threads or os.cpu_count() or 1
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
    if rc != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise QuantizeError(f"llama_model_quantize({src.name} -> {key}) failed with code {rc}")
    tmp.replace(dst)
    log.info("quantized %s -> %s (%s, %.1f MB)", src.name, dst.name, key, dst.stat().st_size / 1e6)
    return dst
