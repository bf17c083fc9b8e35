"""Style similarity of generations to the author's own texts.

Two views: (1) semantic/style embedding similarity (all-MiniLM-L6-v2 cosine between each generation
and the centroid of the author's texts, plus to its own reference), and (2) simple stylometry
(sentence/word length, vocabulary richness, punctuation, first person, emoji/hashtags, line breaks),
compared feature by feature as relative differences. `style_similarity` averages the two, in [0, 1].
"""

from __future__ import annotations

import re
import statistics

import numpy as np

from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.embedding import get_embedder

_SENT = re.compile(r"[.!?]+(?:\s|$)")
_WORD = re.compile(r"[A-Za-z']+")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
FIRST_PERSON = frozenset({"i", "me", "my", "mine", "we", "our", "us", "i'm", "i've", "i'd", "i'll"})


def stylometry(text: str) -> dict[str, float]:
    words = _WORD.findall(text)
    n = max(len(words), 1)
    sentences = max(len([s for s in _SENT.split(text) if s.strip()]), 1)
    head = [w.lower() for w in words[:100]]
    return {
        "words_per_sentence": len(words) / sentences,
        "chars_per_word": sum(len(w) for w in words) / n,
        "type_token_ratio": len(set(head)) / max(len(head), 1),
        "commas_per_word": text.count(",") / n,
        "exclaims_per_word": (text.count("!") + text.count("?")) / n,
        "first_person_rate": sum(w.lower() in FIRST_PERSON for w in words) / n,
        "emoji_hashtag_rate": (len(_EMOJI.findall(text)) + text.count("#")) / n,
        "newlines_per_word": text.count("\n") / n,
    }


def profile(texts: list[str]) -> dict[str, float]:
    feats = [stylometry(t) for t in texts if t.strip()]
    return {k: statistics.fmean(f[k] for f in feats) for k in feats[0]} if feats else {}


def stylometry_similarity(generations: list[str], author_profile: dict[str, float]) -> float:
    """1 − mean relative feature difference (each capped at 1), averaged over generations."""
    scores = []
    for text in generations:
        f = stylometry(text)
        diffs = [min(abs(f[k] - a) / (abs(a) + 0.01), 1.0) for k, a in author_profile.items()]
        scores.append(1.0 - statistics.fmean(diffs) if diffs else 0.0)
    return float(statistics.fmean(scores)) if scores else 0.0


def embedding_similarity(generations: list[str], author_texts: list[str], embedding: EmbeddingConfig,
                         references: list[str] | None = None) -> dict[str, float]:
    embed = get_embedder(embedding).encode
    gen = embed([g or " " for g in generations])
    author = embed(author_texts)
    centroid = author.mean(axis=0)
    centroid /= np.linalg.norm(centroid) + 1e-12
    out = {"embedding_similarity": float((gen @ centroid).mean())}
    if references:
        ref = embed(references)
        out["reference_similarity"] = float((gen * ref).sum(axis=1).mean())
    return out


def style_scores(generations: list[str], author_texts: list[str], references: list[str],
                 embedding: EmbeddingConfig) -> dict[str, float]:
    emb = embedding_similarity(generations, author_texts, embedding, references)
    sty = stylometry_similarity(generations, profile(author_texts))
    return {**emb, "stylometry_similarity": sty, "style_similarity": (emb["embedding_similarity"] + sty) / 2}
