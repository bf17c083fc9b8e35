"""Per-model answer hygiene and repetition: `invented_link_rate`, `marker_leak_rate`, `distinct_2`.

The detectors are `llm_twin.domain.hygiene`'s, the same that guard the served twin, so an offline rate
and the online guarantee talk about one definition.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence

from llm_twin.domain.hygiene import has_invented_link, has_marker_leak
from llm_twin.domain.prompts import CONTEXT_HEADER

_TOKEN = re.compile(r"\w+|[^\w\s]")


def invented_link_rate(answers: Sequence[str], sources: Sequence[Sequence[str]]) -> float:
    """Share of answers with a URL that is in none of that answer's retrieved sources."""
    if not answers:
        return 0.0
    return sum(has_invented_link(a, s) for a, s in zip(answers, sources)) / len(answers)


def marker_leak_rate(answers: Sequence[str]) -> float:
    """Share of answers that copy the context's scaffolding (numbered citations, source lines, header)."""
    if not answers:
        return 0.0
    return sum(has_marker_leak(a, CONTEXT_HEADER) for a in answers) / len(answers)


def distinct_n(text: str, n: int = 2) -> float:
    """Distinct n-grams / all n-grams of one answer (1.0: no n-gram repeats; a loop drives it to 0)."""
    tokens = _TOKEN.findall(text.lower())
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def distinct_2(answers: Sequence[str]) -> float:
    """Mean per-answer distinct-2 (repetition within an answer is what a small model does)."""
    scores = [distinct_n(a, 2) for a in answers if a.strip()]
    return float(statistics.fmean(scores)) if scores else 0.0


def answer_metrics(answers: Sequence[str], sources: Sequence[Sequence[str]]) -> dict[str, float]:
    return {
        "invented_link_rate": invented_link_rate(answers, sources),
        "marker_leak_rate": marker_leak_rate(answers),
        "distinct_2": distinct_2(answers),
    }
