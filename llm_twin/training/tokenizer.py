"""Load the base model's tokenizer (for length filtering and token statistics) and its local folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from llm_twin.training.config import ModelConfig

log = logging.getLogger(__name__)


def base_model_dir(model_cfg: ModelConfig) -> Path:
    """Local folder (or hub id as a Path) of the full-precision base model."""
    if model_cfg.local_path:
        return Path(model_cfg.local_path)
    from llm_twin.models.base import ensure_base_model

    return ensure_base_model(model_cfg.model_dump())


def load_tokenizer(path: Path | str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def try_load_tokenizer(model_cfg: ModelConfig) -> tuple[Any | None, str]:
    """The tokenizer, or (None, reason) when it cannot be loaded here (e.g. a hub model offline)."""
    try:
        path = base_model_dir(model_cfg)
        return load_tokenizer(path), str(path)
    except Exception as exc:  # noqa: BLE001 - any failure means: estimate from words instead
        log.warning("tokenizer for %s not available (%s); token counts are estimated from words", model_cfg.name, exc)
        return None, f"estimate(words*1.4) for {model_cfg.name}"


def count_tokens(tokenizer: Any | None, messages: list[dict[str, str]]) -> int:
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        words = sum(len(m["content"].split()) for m in messages)
        return int(words * 1.4) + 8 * len(messages)
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=False)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return len(ids)
