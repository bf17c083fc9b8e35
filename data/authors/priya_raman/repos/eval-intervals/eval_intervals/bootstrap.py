"""Percentile bootstrap over questions (the unit that varies), unpaired and paired.

Resampling is done over questions rather than over individual judgments, since the questions are what
we would draw differently next month; a fixed seed makes every reported interval reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def _percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def bootstrap_interval(scores: Sequence[float], level: float = 0.95, resamples: int = 2000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile interval for the mean of per-question scores (1/0 for correctness, or graded)."""
    if not scores:
        raise ValueError("an empty evaluation set has no interval; to be precise, it has no estimate")
    rng = random.Random(seed)
    n = len(scores)
    means = sorted(sum(scores[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    alpha = (1 - level) / 2
    return _percentile(means, alpha), _percentile(means, 1 - alpha)


def paired_difference(a: Sequence[float], b: Sequence[float], level: float = 0.95, resamples: int = 2000,
                      seed: int = 0) -> tuple[float, tuple[float, float]]:
    """Mean of (b - a) over the same questions, with a bootstrap interval that resamples question pairs."""
    if len(a) != len(b):
        raise ValueError("a paired comparison needs both systems scored on the same questions")
    diffs = [y - x for x, y in zip(a, b)]
    return sum(diffs) / len(diffs), bootstrap_interval(diffs, level, resamples, seed)
