"""Reranking of the deduplicated candidates.

MMR (maximal marginal relevance) is the offline default: it needs only the vectors already returned by
the search, and trades relevance for diversity so the context is not five copies of one paragraph. A
sentence-transformers CrossEncoder scores (query, chunk) pairs jointly when one is configured: more
accurate, ~10-50 ms per pair on CPU.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

from llm_twin.rag.clients import Hit


def mmr(query_vec: np.ndarray, hits: list[Hit], k: int, lam: float = 0.7) -> list[Hit]:
    """Greedy MMR: argmax lam*sim(q, d) - (1-lam)*max_{s in selected} sim(d, s)."""
    if not hits:
        return []
    with_vec = [h for h in hits if h.vector is not None]
    if len(with_vec) != len(hits):  # no vectors: fall back to score order
        return sorted(hits, key=lambda h: h.score, reverse=True)[:k]
    mat = np.stack([h.vector for h in with_vec if h.vector is not None])
    mat = mat / np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-9)
    q = query_vec / max(float(np.linalg.norm(query_vec)), 1e-9)
    relevance = mat @ q
    pairwise = mat @ mat.T
    selected: list[int] = []
    remaining = list(range(len(hits)))
    while remaining and len(selected) < k:
        if selected:
            redundancy = pairwise[np.ix_(remaining, selected)].max(axis=1)
        else:
            redundancy = np.zeros(len(remaining))
        scores = lam * relevance[remaining] - (1 - lam) * redundancy
        best = remaining[int(np.argmax(scores))]
        selected.append(best)
        remaining.remove(best)
    return [hits[i] for i in selected]


@lru_cache(maxsize=2)
def _cross_encoder(path: str):
    from sentence_transformers import CrossEncoder

    return CrossEncoder(path, device="cpu")


_lock = threading.Lock()


def cross_encode(model_path: str, query: str, hits: list[Hit], k: int) -> list[Hit]:
    """Sort by cross-encoder score; the returned hits carry that score."""
    if not hits:
        return []
    model = _cross_encoder(model_path)
    with _lock:
        scores = model.predict([(query, h.payload.text) for h in hits], show_progress_bar=False)
    order = np.argsort(-np.asarray(scores, dtype=np.float64))[:k]
    out = []
    for i in order:
        hit = hits[int(i)]
        out.append(Hit(hit.id, float(scores[int(i)]), hit.vector, hit.payload))
    return out
