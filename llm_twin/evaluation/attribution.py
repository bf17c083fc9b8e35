"""Authorship attribution: would a reader (here, a stylometric classifier) attribute this text to the author?

Perplexity and embedding similarity move a little for any fine-tune; they do not say *whose* voice a
text is in. This model is fitted on the training texts of every author in the warehouse (the target's
train split plus reference authors writing on the same topics), then attributes each generation to one
of them. `attribution` is the share of a model's generations attributed to the target author, with a
percentile bootstrap interval; a twin should beat its base model by more than that interval.

Features are classic, offline stylometry: character 2-4-grams (spelling, punctuation, formatting habits
such as arrows, "1)" lists, hashtags, line breaks, kept with case) and function-word frequencies
(topic-independent). A linear model (logistic regression, balanced classes) on the two. Texts are cut
into windows of about the length of a generation, so training and attributed texts are alike in size.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

FUNCTION_WORDS = tuple(
    """a about above after again against all almost also although always am among an and another any are
    as at be because been before being below between both but by can could did do does doing down during
    each either enough even ever every few for from further had has have having he her here hers him his
    how however i if in indeed instead into is it its itself just least less many may me might mine more
    most much must my neither never no nor not now of off often on once one only or other otherwise our
    ours out over own perhaps quite rather same she should since so some still such than that the their
    them then there therefore these they this those though through thus to too under until up upon us very
    was we were what whatever when where whether which while who whom whose why will with within without
    would yet you your yours i'm i've i'd i'll we're we've it's that's don't doesn't isn't can't won't
    you're you'll let's""".split()
)
NEWLINE_MARK = " ¶ "  # line breaks are a formatting habit: keep them visible to the character n-grams


def _keep_lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", NEWLINE_MARK)


def windows(text: str, max_words: int, min_words: int = 12) -> list[str]:
    """Cut a text into pieces of at most `max_words` words, keeping its own whitespace and line breaks."""
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    out = []
    for i in range(0, len(spans), max_words):
        group = spans[i : i + max_words]
        if len(group) >= min_words or (i == 0 and group):
            out.append(text[group[0][0] : group[-1][1]])
    return out


@dataclass
class Interval:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": round(self.value, 4), "low": round(self.low, 4), "high": round(self.high, 4)}


def bootstrap_share(hits: Sequence[bool], n_boot: int = 1000, confidence: float = 0.95, seed: int = 0) -> Interval:
    """The share of hits with a percentile bootstrap interval (resampling the attributed texts)."""
    n = len(hits)
    if n == 0:
        return Interval(0.0, 0.0, 0.0)
    values = [1.0 if h else 0.0 for h in hits]
    rng = random.Random(seed)
    shares = sorted(sum(rng.choices(values, k=n)) / n for _ in range(n_boot))
    return Interval(sum(values) / n, *_percentiles(shares, confidence))


def bootstrap_gain(hits: Sequence[bool], base_hits: Sequence[bool], n_boot: int = 1000, confidence: float = 0.95,
                   seed: int = 0) -> Interval:
    """Paired bootstrap of share(hits) − share(base_hits): both models answered the same instructions, so
    instructions are resampled together (the interval of the gain, not of each share)."""
    if len(hits) != len(base_hits):
        raise ValueError(f"paired bootstrap needs the same instructions: {len(hits)} vs {len(base_hits)} answers")
    n = len(hits)
    if n == 0:
        return Interval(0.0, 0.0, 0.0)
    diffs = [float(a) - float(b) for a, b in zip(hits, base_hits)]
    rng = random.Random(seed)
    idx = range(n)
    gains = sorted(sum(diffs[i] for i in rng.choices(idx, k=n)) / n for _ in range(n_boot))
    return Interval(sum(diffs) / n, *_percentiles(gains, confidence))


def _percentiles(sorted_values: list[float], confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2
    last = len(sorted_values) - 1
    return sorted_values[round(alpha * last)], sorted_values[round((1 - alpha) * last)]


@dataclass
class AttributionModel:
    """Character n-gram + function-word features, logistic regression over the warehouse's authors."""

    ngram_range: tuple[int, int] = (2, 4)
    window_words: int = 80
    max_features: int = 60000
    c: float = 10.0
    seed: int = 0
    authors: list[str] = field(default_factory=list)
    train_counts: dict[str, int] = field(default_factory=dict)
    _pipeline: Any = None

    def _build(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, make_pipeline

        chars = TfidfVectorizer(analyzer="char", ngram_range=self.ngram_range, preprocessor=_keep_lines,
                                sublinear_tf=True, min_df=2, max_features=self.max_features)
        words = TfidfVectorizer(analyzer="word", vocabulary=list(dict.fromkeys(FUNCTION_WORDS)), lowercase=True,
                                token_pattern=r"(?u)\b[\w']+\b", sublinear_tf=True)
        features = FeatureUnion([("char_ngrams", chars), ("function_words", words)])
        classifier = LogisticRegression(C=self.c, max_iter=2000, class_weight="balanced", random_state=self.seed)
        return make_pipeline(features, classifier)

    def fit(self, texts_by_author: dict[str, list[str]]) -> AttributionModel:
        """Fit on each author's texts (cut into windows); at least two authors with text are required."""
        xs: list[str] = []
        ys: list[str] = []
        for author, texts in sorted(texts_by_author.items()):
            pieces = [w for t in texts if t and t.strip() for w in windows(t, self.window_words)]
            if pieces:
                xs.extend(pieces)
                ys.extend([author] * len(pieces))
                self.train_counts[author] = len(pieces)
        self.authors = sorted(self.train_counts)
        if len(self.authors) < 2:
            raise ValueError(
                f"attribution needs texts of at least two authors, got {self.authors or 'none'}: add reference "
                "authors (evaluation.attribution.reference_authors, e.g. [priya_raman, tomas_okafor]) or set "
                "evaluation.attribution.enabled=false"
            )
        self._pipeline = self._build().fit(xs, ys)
        return self

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The author each text is attributed to (an empty text is attributed to no one: "")."""
        if self._pipeline is None:
            raise RuntimeError("AttributionModel.predict before fit")
        filled = [t for t in texts if t and t.strip()]
        predicted = iter(self._pipeline.predict(filled).tolist() if filled else [])
        return [str(next(predicted)) if t and t.strip() else "" for t in texts]

    def share(self, texts: Sequence[str], target: str, n_boot: int = 1000, confidence: float = 0.95,
              seed: int = 0) -> tuple[Interval, list[str]]:
        predicted = self.predict(texts)
        return bootstrap_share([p == target for p in predicted], n_boot, confidence, seed), predicted
