"""Perplexity, the check every model change is judged by.

Two views of the same quantity:
- `answer_perplexity`: a chat model on the author's held-out answers given the prompts the twin sees;
  only the answer tokens are scored, exactly like the SFT loss (evaluation and the promotion gate).
- `token_windows` + `torch_perplexity` / `gguf_perplexity`: the same token windows scored in PyTorch and
  in llama.cpp, tokenized once with the HF tokenizer, so the numbers are directly comparable: an F32 GGUF
  export must match PyTorch to a fraction of a percent (anything else is a wrong export, e.g. a missing
  rotary permutation), and a quantized GGUF is accepted only within the configured tolerance.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel


class ChatSample(Protocol):
    """A prompt and the author's answer as chat messages (an `InstructSample` is one)."""

    def prompt_messages(self) -> list[dict[str, str]]: ...

    def completion_messages(self) -> list[dict[str, str]]: ...


class Perplexity(BaseModel):
    """Mean negative log-likelihood over all predicted tokens, and its exponential."""

    nll: float
    perplexity: float
    tokens: int


def token_windows(
    tokenizer_dir: Path | str, texts: Iterable[str], window: int = 256, max_windows: int = 16
) -> list[list[int]]:
    """Concatenate the texts (EOS-separated) and cut the ids into non-overlapping windows."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    sep = [tok.eos_token_id] if tok.eos_token_id is not None else []
    ids: list[int] = []
    for text in texts:
        if text and text.strip():
            ids.extend(tok(text.strip(), add_special_tokens=False)["input_ids"] + sep)
    windows = [ids[i : i + window] for i in range(0, len(ids), window)]
    windows = [w for w in windows if len(w) >= 8]
    if not windows:
        raise ValueError("no held-out text to score: the perplexity check needs at least a few sentences")
    return windows[:max_windows]


def _result(total_nll: float, count: int) -> Perplexity:
    mean = total_nll / max(count, 1)
    return Perplexity(nll=mean, perplexity=math.exp(mean), tokens=count)


def _nll_from_logits(logits: np.ndarray, ids: Sequence[int]) -> float:
    """Sum of -log p(ids[t+1] | ids[:t+1]) from row t of `logits`."""
    logits = logits[: len(ids) - 1].astype(np.float64)
    peak = logits.max(axis=-1, keepdims=True)
    logz = np.log(np.exp(logits - peak).sum(axis=-1)) + peak[:, 0]
    target = logits[np.arange(len(ids) - 1), np.asarray(ids[1:])]
    return float((logz - target).sum())


def torch_perplexity(model_or_dir, windows: list[list[int]]) -> Perplexity:
    """Perplexity of a transformers causal LM (a loaded model or a folder, loaded in fp32)."""
    import torch

    model = model_or_dir
    if isinstance(model_or_dir, (str, Path)):
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(str(model_or_dir), dtype=torch.float32)
    model.eval()
    total, count = 0.0, 0
    with torch.inference_mode():
        for ids in windows:
            logits = model(torch.tensor([ids], device=model.device)).logits[0].float().cpu().numpy()
            total += _nll_from_logits(logits, ids)
            count += len(ids) - 1
    return _result(total, count)


def gguf_perplexity(gguf_path: Path | str, windows: list[list[int]], threads: int | None = None) -> Perplexity:
    """Perplexity of a GGUF file evaluated by llama.cpp on the same token ids."""
    from llama_cpp import Llama

    n_ctx = max(len(w) for w in windows)
    llm = Llama(
        model_path=str(gguf_path),
        n_ctx=n_ctx,
        n_batch=n_ctx,
        logits_all=True,
        n_threads=threads or os.cpu_count(),
        verbose=False,
    )
    total, count = 0.0, 0
    try:
        for ids in windows:
            llm.reset()
            llm.eval(ids)
            logits = np.asarray(llm.scores[: len(ids)])
            total += _nll_from_logits(logits, ids)
            count += len(ids) - 1
    finally:
        llm.close()
    return _result(total, count)


def answer_perplexity(model: Any, tokenizer: Any, samples: Sequence[ChatSample], max_length: int = 2048) -> float:
    """exp(total NLL / total answer tokens) over the samples' answers, given their prompts (like the SFT
    loss: only the answer tokens are scored, and long texts weigh by their length)."""
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
