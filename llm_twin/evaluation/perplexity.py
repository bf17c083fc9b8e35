"""Perplexity of a model on the author's held-out texts, given the same prompts the twin sees.

Only the answer tokens (the author's text) are scored, exactly like the SFT loss, and the corpus
perplexity is exp(total NLL / total answer tokens), so long texts weigh by their length.
"""

from __future__ import annotations

import math
from typing import Any

from llm_twin.training.schemas import InstructSample


def answer_perplexity(model: Any, tokenizer: Any, samples: list[InstructSample], max_length: int = 2048) -> float:
    import torch

    total_nll = 0.0
    total_tokens = 0
    for s in samples:
        prompt_ids = tokenizer.apply_chat_template(s.prompt_messages(), tokenize=True, add_generation_prompt=True)
        full_ids = tokenizer.apply_chat_template(s.prompt_messages() + s.completion_messages(), tokenize=True)
        if hasattr(prompt_ids, "keys"):
            prompt_ids, full_ids = prompt_ids["input_ids"], full_ids["input_ids"]
        full_ids = list(full_ids)[:max_length]
        n_prompt = min(len(prompt_ids), len(full_ids))
        if len(full_ids) - n_prompt < 1:
            continue
        input_ids = torch.tensor([full_ids], device=model.device)
        labels = input_ids.clone()
        labels[:, :n_prompt] = -100
        with torch.inference_mode():
            logits = model(input_ids=input_ids).logits.float()
        shift_logits = logits[:, :-1, :]
        shift_labels = labels[:, 1:]
        nll = torch.nn.functional.cross_entropy(
            shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1), ignore_index=-100, reduction="sum"
        )
        total_nll += float(nll)
        total_tokens += int((shift_labels != -100).sum())
    if total_tokens == 0:
        raise ValueError("no answer tokens to score: the held-out set is empty")
    return math.exp(total_nll / total_tokens)
