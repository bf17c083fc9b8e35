"""PSI over frozen quantile bins, the two-sample KS statistic, and a persistence rule for alerts.

The conventions are deliberately explicit: the bins are computed once, on a reference window, and
stored with the monitor (recomputing them on the current window changes what the statistic measures);
empty bins receive a small floor so that ln(q / p) stays finite; and the KS statistic is thresholded
directly, since with tens of thousands of observations its p-value is significant for almost any change.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

FLOOR = 1e-4


@dataclass(frozen=True)
class ReferenceBins:
    """Interior quantile edges of a reference sample (len(edges) + 1 bins) and its proportions."""

    edges: tuple[float, ...]
    proportions: tuple[float, ...]

    @classmethod
    def fit(cls, reference: Sequence[float], bins: int = 10) -> ReferenceBins:
        if bins < 2:
            raise ValueError("at least two bins are needed for a distribution to be compared")
        values = sorted(reference)
        if not values:
            raise ValueError("the reference window is empty; there is nothing to freeze")
        edges: list[float] = []
        for i in range(1, bins):
            edge = values[min(len(values) - 1, int(i * len(values) / bins))]
            if not edges or edge > edges[-1]:  # ties collapse bins rather than creating empty ones
                edges.append(edge)
        proportions = _proportions(values, edges)
        return cls(tuple(edges), tuple(proportions))

    def proportions_of(self, sample: Sequence[float]) -> list[float]:
        return _proportions(sample, list(self.edges))


def _proportions(sample: Sequence[float], edges: list[float]) -> list[float]:
    counts = [0] * (len(edges) + 1)
    for value in sample:
        counts[bisect.bisect_right(edges, value)] += 1
    total = max(len(sample), 1)
    return [c / total for c in counts]


def psi(reference: ReferenceBins, current: Sequence[float], floor: float = FLOOR) -> float:
    """Sum over bins of (q - p) ln(q / p), with both proportions floored at `floor`."""
    p = [max(x, floor) for x in reference.proportions]
    q = [max(x, floor) for x in reference.proportions_of(current)]
    return sum((qi - pi) * math.log(qi / pi) for pi, qi in zip(p, q))


def ks_statistic(a: Sequence[float], b: Sequence[float]) -> float:
    """Maximum absolute difference between the two empirical CDFs (no binning involved)."""
    if not a or not b:
        raise ValueError("both samples must be non-empty")
    xs, ys = sorted(a), sorted(b)
    i = j = 0
    best = 0.0
    while i < len(xs) and j < len(ys):
        value = min(xs[i], ys[j])
        while i < len(xs) and xs[i] == value:
            i += 1
        while j < len(ys) and ys[j] == value:
            j += 1
        best = max(best, abs(i / len(xs) - j / len(ys)))
    return best


def persistent_alert(statistics: Sequence[float], threshold: float, windows: int = 3) -> bool:
    """True only if the last `windows` statistics all exceed the threshold (one bad day is not drift)."""
    recent = list(statistics)[-windows:]
    return len(recent) == windows and all(s > threshold for s in recent)
