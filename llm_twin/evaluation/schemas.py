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
    tokens_per_s: float = 0.0
    samples: list[dict[str, str]] = Field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        keys = ["perplexity", "rouge_l", "bleu", "embedding_similarity", "reference_similarity",
                "stylometry_similarity", "style_similarity", "tokens_per_s"]
        out = {k: round(float(getattr(self, k)), 4) for k in keys}
        if self.judge_score is not None:
            out["judge_score"] = round(float(self.judge_score), 3)
        return out


class EvaluationReport(BaseModel):
    candidate: ModelScores
    base: ModelScores | None = None
    production: ModelScores | None = None
    held_out_samples: int = 0
    dataset_hash: str = ""
    duration_s: float = 0.0

    def all(self) -> list[ModelScores]:
        return [s for s in (self.base, self.production, self.candidate) if s is not None]
