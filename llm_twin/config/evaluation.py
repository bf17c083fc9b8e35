"""`conf/evaluation/<name>.yaml`: what evaluation measures, on how much, and the promotion gate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llm_twin.config.base import Schema
from llm_twin.config.llm import LLMEndpointConfig


class JudgeConfig(Schema):
    enabled: bool
    llm: LLMEndpointConfig


class GateConfig(Schema):
    """A candidate must beat the base and not fall behind current production by more than a tolerance."""

    max_perplexity_ratio: float = Field(gt=0, description="candidate ppl ≤ ratio × base ppl")
    min_style_gain: float = Field(description="candidate style_similarity − base ≥ this")
    production_tolerance: float = Field(ge=0, description="relative slack vs current production")
    min_judge_score: float | None = Field(description="1..5, only when the judge is enabled")
    min_attribution_gain: float | None = Field(description="candidate attribution − base ≥ this (null: not required)")
    attribution_significant: bool = Field(
        description="the lower end of the gain's bootstrap interval must clear min_attribution_gain")
    human_in_the_loop: bool = Field(description="passing candidates go to `staging` for a person")
    promote: bool = Field(description="false: evaluate and report only")


class AttributionConfig(Schema):
    """Stylometric authorship attribution over the authors in the warehouse (llm_twin/evaluation/attribution)."""

    enabled: bool
    reference_authors: list[str] = Field(
        description="conf/author/<name>.yaml files of other authors; ingested into the warehouse if absent")
    ingest_missing: bool = Field(description="import a reference author's exports/repositories when the warehouse lacks them")
    all_warehouse_authors: bool = Field(description="also fit on every other author already in the warehouse")
    min_texts: int = Field(ge=1, description="an author with fewer text windows is left out of the model")
    window_words: int = Field(ge=10, description="texts are cut into windows of about a generation's length")
    ngram_range: tuple[int, int] = Field(description="character n-gram sizes, e.g. [2, 4]")
    max_features: int = Field(ge=100)
    c: float = Field(gt=0, description="inverse regularisation of the logistic regression")
    bootstrap: int = Field(ge=100, description="bootstrap resamples for the intervals")
    confidence: float = Field(gt=0, lt=1)
    seed: int


class EvaluationConfig(Schema):
    max_samples: int = Field(ge=1, description="held-out prompts to generate for")
    max_new_tokens: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    torch_threads: int | Literal["auto"]
    compare_production: bool
    compare_base: bool
    include_augmented: bool
    judge: JudgeConfig
    attribution: AttributionConfig
    gate: GateConfig
