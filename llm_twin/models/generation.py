"""Batched, deterministic generation from a causal LM folder, for sample generations, preference pairs
and evaluation. Greedy decoding with a mild repetition penalty keeps small models from looping while
staying reproducible."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

log = logging.getLogger(__name__)


class GreedyDecoding(BaseModel):
    """Decoding of evaluation, sample generations and preference pairs (reproducible, not user-facing)."""

    max_new_tokens: int
    batch_size: int
    repetition_penalty: float = 1.1
    no_repeat_ngram_size: int = 4


def generate(model: Any, tokenizer: Any, prompts: list[list[dict[str, str]]], cfg: GreedyDecoding) -> list[str]:
    """One answer per chat prompt (messages), decoded without special tokens."""
    import torch

    tokenizer.padding_side = "left"
    outputs: list[str] = []
    for start in range(0, len(prompts), cfg.batch_size):
        batch = prompts[start : start + cfg.batch_size]
        texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in batch]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=cfg.max_new_tokens,
                do_sample=False,
                repetition_penalty=cfg.repetition_penalty,
                no_repeat_ngram_size=cfg.no_repeat_ngram_size,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        new_tokens = out[:, enc["input_ids"].shape[1] :]
        outputs.extend(t.strip() for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return outputs
