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
    human_in_the_loop: bool = Field(description="passing candidates go to `staging` for a person")
    promote: bool = Field(description="false: evaluate and report only")


class EvaluationConfig(Schema):
    max_samples: int = Field(ge=1, description="held-out prompts to generate for")
    max_new_tokens: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    torch_threads: int | Literal["auto"]
    compare_production: bool
    compare_base: bool
    include_augmented: bool
    judge: JudgeConfig
    gate: GateConfig
