"""Cohen's kappa: agreement between two raters, corrected for the agreement expected by chance.

We compute it first between two people (which gives the ceiling for the task) and then between the
judge and each person; a judge is only as trustworthy as the rubric that the people agree on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def cohen_kappa(rater_a: Sequence[Hashable], rater_b: Sequence[Hashable]) -> float:
    if len(rater_a) != len(rater_b) or not rater_a:
        raise ValueError("kappa needs two non-empty label sequences of equal length")
    n = len(rater_a)
    observed = sum(x == y for x, y in zip(rater_a, rater_b)) / n
    counts_a, counts_b = Counter(rater_a), Counter(rater_b)
    expected = sum(counts_a[label] * counts_b[label] for label in counts_a) / (n * n)
    if expected == 1.0:
        return 1.0  # both raters used a single identical label throughout
    return (observed - expected) / (1 - expected)
