"""Held-out author texts for the perplexity checks.

Preference order: texts given by the caller (e.g. the evaluation split), the author's cleaned documents
in the feature store, then a small bundled English sample so the export check can always run.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

BUNDLED = Path(__file__).with_name("heldout_sample.txt")


def bundled_texts() -> list[str]:
    return [p.strip() for p in BUNDLED.read_text().split("\n\n") if p.strip()]


def feature_store_texts(qdrant_client, author: str | None = None, limit: int = 64) -> list[str]:
    """Cleaned documents (`cleaned_<type>`) of the author, newest layout first; [] when none."""
    from qdrant_client import models

    texts: list[str] = []
    flt = None
    if author:
        flt = models.Filter(must=[models.FieldCondition(key="author_full_name", match=models.MatchValue(value=author))])
    for name in ("cleaned_articles", "cleaned_posts"):
        try:
            if not qdrant_client.collection_exists(name):
                continue
            points, _ = qdrant_client.scroll(name, scroll_filter=flt, limit=limit, with_payload=True)
        except Exception:  # the check falls back to bundled texts rather than failing the deploy
            log.warning("cannot read %s for held-out texts", name, exc_info=True)
            continue
        texts += [str(p.payload.get("text", "")) for p in points if p.payload and p.payload.get("text")]
    return texts


def heldout_texts(explicit: list[str] | None = None, qdrant_client=None, author: str | None = None) -> tuple[list[str], str]:
    """(texts, source name)."""
    if explicit:
        return explicit, "explicit"
    if qdrant_client is not None:
        texts = feature_store_texts(qdrant_client, author)
        if texts:
            return texts, "feature_store"
    return bundled_texts(), "bundled"
