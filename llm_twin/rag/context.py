"""Context assembly: the reranked chunks as plain passages (`domain.prompts.render_passage`: no numbering,
no source lines, no URLs; the sources go back as data), within a token budget.

The budget is counted with the served model's tokenizer when one is given (so the prompt never
overflows the model's context window), else estimated from words.
"""

from __future__ import annotations

from collections.abc import Callable

from llm_twin.domain.prompts import render_passage
from llm_twin.rag.models import RetrievedChunk

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """~1.3 tokens per English word for BPE tokenizers; used only without a real tokenizer."""
    return int(len(text.split()) * 1.3) + 1


def _format(n: int, chunk: RetrievedChunk, text: str) -> str:
    """The passage as the prompt shows it (`n` and the chunk's source stay out of the text)."""
    return render_passage(text)


def assemble_context(
    chunks: list[RetrievedChunk], budget: int, count: TokenCounter = estimate_tokens
) -> tuple[str, int, list[RetrievedChunk]]:
    """Return (context text, its token count, the chunks actually included).

    Chunks are added in rank order; one that does not fit is skipped (a shorter later one may), except
    that the first chunk is truncated rather than dropped so the context is never empty when any hit exists.
    """
    parts: list[str] = []
    used: list[RetrievedChunk] = []
    total = 0
    for chunk in chunks:
        block = _format(len(used) + 1, chunk, chunk.text)
        cost = count(block) + 1
        if total + cost > budget:
            if used:
                continue
            words = chunk.text.split()
            while words and count(_format(1, chunk, " ".join(words))) + 1 > budget:
                words = words[: max(1, int(len(words) * 0.8))] if len(words) > 1 else []
            if not words:
                continue
            block = _format(1, chunk, " ".join(words))
            cost = count(block) + 1
        parts.append(block)
        used.append(chunk)
        total += cost
    return "\n\n".join(parts), total, used
