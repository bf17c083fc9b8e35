"""Cut cleaned documents into answer-sized windows, per data type.

A post usually fits in one window; articles are split on paragraph boundaries into windows of at most
`max_words` (a paragraph longer than that is split on sentences, then words); code is split on blank
lines so functions stay together. Small models train on a few hundred tokens, so the answer must fit.
"""

from __future__ import annotations

import re

from llm_twin.config.dataset import WindowConfig

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _units(text: str, data_type: str) -> list[str]:
    """Paragraph-like units, each at most a few sentences."""
    if data_type == "code":
        parts = re.split(r"\n\s*\n", text)
    else:
        parts = re.split(r"\n\s*\n|\n(?=[-*•#])", text)
    return [p.strip() for p in parts if p.strip()]


def _split_long(unit: str, max_words: int) -> list[str]:
    if len(unit.split()) <= max_words:
        return [unit]
    out: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE.split(unit):
        words = sentence.split()
        if len(words) > max_words:  # one giant sentence: hard-split on words
            if current:
                out.append(" ".join(current))
                current = []
            out.extend(" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words))
            continue
        if current and len(" ".join(current).split()) + len(words) > max_words:
            out.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        out.append(" ".join(current))
    return out


def window_text(text: str, data_type: str, cfg: WindowConfig) -> list[str]:
    """Windows of whole paragraphs, each ≤ cfg.max_words words; optional word overlap between windows."""
    joiner = "\n\n"
    units = [piece for unit in _units(text, data_type) for piece in _split_long(unit, cfg.max_words)]
    windows: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        n = len(unit.split())
        if current and size + n > cfg.max_words:
            windows.append(joiner.join(current))
            if cfg.overlap_words:
                tail = " ".join(joiner.join(current).split()[-cfg.overlap_words :])
                current, size = [tail], len(tail.split())
            else:
                current, size = [], 0
        current.append(unit)
        size += n
    if current:
        windows.append(joiner.join(current))
    return windows
