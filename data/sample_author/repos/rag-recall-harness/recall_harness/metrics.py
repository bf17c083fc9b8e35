"""Retrieval metrics that need nothing but lists of ids."""

from __future__ import annotations

from collections.abc import Sequence


def recall_at_k(retrieved: Sequence[str], relevant: set[str], k: int = 5) -> float:
    """Share of the relevant chunk ids found in the top k results."""
    if not relevant:
        raise ValueError("a question without relevant ids cannot be scored; fix the label")
    return len(set(retrieved[:k]) & relevant) / len(relevant)


def mean_reciprocal_rank(runs: Sequence[tuple[Sequence[str], set[str]]]) -> float:
    """MRR over (retrieved, relevant) pairs: 1 / rank of the first relevant hit, 0 if none."""
    total = 0.0
    for retrieved, relevant in runs:
        total += next((1.0 / rank for rank, doc in enumerate(retrieved, 1) if doc in relevant), 0.0)
    return total / max(1, len(runs))


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> list[str]:
    """Fuse rankings from retrievers whose scores are not comparable (BM25 and cosine) using ranks only."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda d: (-scores[d], d))
