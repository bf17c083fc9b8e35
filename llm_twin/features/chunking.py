"""Token-aware chunking with the embedding model's own tokenizer.

A chunk is built from whole sentences (prose) or whole lines (code) up to `chunk_tokens` tokens, and the
next chunk repeats the trailing units of the previous one up to `overlap_tokens`, so an idea cut at a
boundary is still embedded whole once. Only a single sentence or line longer than the budget is cut by
token windows. Chunks are slices of the cleaned text (original spacing kept) and never cross a section
(for code: a file; its path is repeated at the top of each of its chunks).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from llm_twin.config.features import ChunkingConfig
from llm_twin.features.cleaning import CleanedDocument, Section

_PROSE_BREAK = re.compile(r"(?<=[.!?…])\s+|\n+")
_LINE_BREAK = re.compile(r"\n")


class Tokenizer(Protocol):
    def __call__(self, text: Any, **kwargs: Any) -> Any: ...


def _spans(text: str, code: bool) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line, separators excluded, empty units skipped."""
    spans, start = [], 0
    for match in (_LINE_BREAK if code else _PROSE_BREAK).finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


class Chunker:
    """Splits the sections of a cleaned document into chunks of at most `chunk_tokens` tokens."""

    def __init__(self, tokenizer: Tokenizer, config: ChunkingConfig, code: bool = False) -> None:
        self.tokenizer = tokenizer
        self.config = config
        self.code = code

    def count(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        ids = self.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
        return [len(x) for x in ids]

    def chunk(self, cleaned: CleanedDocument) -> list[str]:
        chunks: list[str] = []
        for section in cleaned.sections:
            chunks.extend(self._chunk_section(section))
        return chunks

    def _windows(self, text: str, start: int, end: int, budget: int) -> list[tuple[int, int, int]]:
        """Cut one over-long unit into token windows (with the configured overlap)."""
        enc = self.tokenizer(text[start:end], add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        step = max(1, budget - min(self.config.overlap_tokens, budget // 2))
        out = []
        for i in range(0, len(offsets), step):
            window = offsets[i : i + budget]
            out.append((start + window[0][0], start + window[-1][1], len(window)))
            if i + budget >= len(offsets):
                break
        return out

    def _chunk_section(self, section: Section) -> list[str]:
        text = section.text
        header = section.header
        budget = self.config.chunk_tokens
        if header:
            header_tokens = self.count([header])[0]
            if header_tokens > budget // 2:
                header = ""
            else:
                budget -= header_tokens
        spans = _spans(text, self.code)
        counts = self.count([text[s:e] for s, e in spans])
        units: list[tuple[int, int, int]] = []
        for (s, e), n in zip(spans, counts):
            units.extend(self._windows(text, s, e, budget) if n > budget else [(s, e, n)])

        chunks: list[tuple[int, int]] = []
        current: list[tuple[int, int, int]] = []
        used = 0
        for unit in units:
            if current and used + unit[2] > budget:
                chunks.append((current[0][0], current[-1][1]))
                carried: list[tuple[int, int, int]] = []
                carried_tokens = 0
                for prev in reversed(current):
                    if carried_tokens + prev[2] > self.config.overlap_tokens or carried_tokens + prev[2] + unit[2] > budget:
                        break
                    carried.insert(0, prev)
                    carried_tokens += prev[2]
                current, used = carried, carried_tokens
            current.append(unit)
            used += unit[2]
        if current:
            chunks.append((current[0][0], current[-1][1]))
        body = [text[s:e].strip() for s, e in chunks]
        return [f"{header}\n{b}" if header else b for b in body if b]

