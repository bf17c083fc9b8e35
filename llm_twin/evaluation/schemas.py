"""Evaluation results: per-model scores and the comparison report (JSON-able ZenML artifacts)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ModelScores(BaseModel):
    label: str  # base / candidate / production
    model_dir: str = ""
    version: str | None = None
    perplexity: float
    rouge_l: float = 0.0
    bleu: float = 0.0
    embedding_similarity: float = 0.0
    reference_similarity: float = 0.0
    stylometry_similarity: float = 0.0
    style_similarity: float = 0.0
    judge_score: float | None = None
    # Share of generations a stylometric classifier attributes to the target author (None: not measured),
    # with its percentile bootstrap interval.
    attribution: float | None = None
    attribution_low: float | None = None
    attribution_high: float | None = None
    invented_link_rate: float = 0.0  # answers with a URL that is in no retrieved source
    marker_leak_rate: float = 0.0    # answers copying context numbering / source lines / the header
    distinct_2: float = 0.0          # mean per-answer distinct bigrams (low: repetition)
    tokens_per_s: float = 0.0
    samples: list[dict[str, str]] = Field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        keys = ["perplexity", "rouge_l", "bleu", "embedding_similarity", "reference_similarity",
                "stylometry_similarity", "style_similarity", "invented_link_rate", "marker_leak_rate",
                "distinct_2", "tokens_per_s"]
        out = {k: round(float(getattr(self, k)), 4) for k in keys}
        for key in ("attribution", "attribution_low", "attribution_high"):
            if getattr(self, key) is not None:
                out[key] = round(float(getattr(self, key)), 4)
        if self.judge_score is not None:
            out["judge_score"] = round(float(self.judge_score), 3)
        return out


class AttributionSummary(BaseModel):
    """What the attribution model was fitted on and how well it separates the authors' own texts."""

    target: str
    authors: list[str]
    train_windows: dict[str, int] = Field(default_factory=dict)
    # Share of the target's own held-out texts attributed to them: the ceiling a perfect twin reaches.
    reference_attribution: float | None = None
    # Paired bootstrap of candidate − base attribution on the same instructions.
    gain: float | None = None
    gain_low: float | None = None
    gain_high: float | None = None
    confidence: float = 0.95


class EvaluationReport(BaseModel):
    candidate: ModelScores
    base: ModelScores | None = None
    production: ModelScores | None = None
    attribution: AttributionSummary | None = None
    held_out_samples: int = 0
    dataset_hash: str = ""
    duration_s: float = 0.0

    def all(self) -> list[ModelScores]:
        return [s for s in (self.base, self.production, self.candidate) if s is not None]
