"""Loading a causal LM and its tokenizer from a local folder (base, merged twin or registry version).

Training, evaluation, export and the GPU serving backend all load models through here, so dtype names,
padding and the "no chat template" check are decided once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from llm_twin.config.model import ModelConfig

log = logging.getLogger(__name__)


def torch_dtype(name: str) -> Any:
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matmuls run several times faster than fp32 ones (bench/train.py measures
    both); without them bf16 is emulated and slower than fp32."""
    import torch

    cpu = torch.cpu
    return bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
                or getattr(cpu, "_is_amx_tile_supported", lambda: False)())


def trains_in_4bit(model_cfg: ModelConfig) -> bool:
    """Whether training loads the base as 4-bit NF4 (QLoRA) here: `load_in_4bit` on a CUDA machine, and on
    CPU only when the model's config says `cpu_load_in_4bit`. On CPU, bitsandbytes dequantizes every
    weight on every forward and backward, which costs more than the memory it saves on a small model."""
    return bool(model_cfg.load_in_4bit and (has_cuda() or model_cfg.cpu_load_in_4bit))


def load_tokenizer(path: Path | str) -> Any:
    """The tokenizer of a model folder; a missing pad token falls back to EOS (batched generation)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_causal_lm(model_dir: Path | str, dtype: str = "float32") -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) of a full-precision model folder."""
    from transformers import AutoModelForCausalLM

    tok = load_tokenizer(model_dir)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch_dtype(dtype))
    model.eval()
    return model, tok


def try_load_tokenizer(model_cfg: ModelConfig) -> tuple[Any | None, str]:
    """The base model's tokenizer, or (None, reason) when it cannot be loaded here (a hub model offline)."""
    from llm_twin.models.base import base_model_dir

    try:
        path = base_model_dir(model_cfg)
        return load_tokenizer(path), str(path)
    except Exception as exc:  # noqa: BLE001 - any failure means: estimate from words instead
        log.warning("tokenizer for %s not available (%s); token counts are estimated from words", model_cfg.name, exc)
        return None, f"estimate(words*1.4) for {model_cfg.name}"


def count_tokens(tokenizer: Any | None, messages: list[dict[str, str]]) -> int:
    """Tokens of a chat with the model's template (estimated from words without a tokenizer)."""
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        words = sum(len(m["content"].split()) for m in messages)
        return int(words * 1.4) + 8 * len(messages)
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=False)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return len(ids)
