"""Pydantic view of `conf/evaluation`: what to measure, on how much, and the promotion gate."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from llm_twin.training.config import LLMClientConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JudgeConfig(_Strict):
    enabled: bool = False
    llm: LLMClientConfig = Field(default_factory=LLMClientConfig)


class GateConfig(_Strict):
    """Candidate must beat the base, and not fall behind current production by more than the tolerance."""

    max_perplexity_ratio: float = Field(default=0.98, gt=0)  # candidate ppl ≤ ratio × base ppl
    min_style_gain: float = 0.0  # candidate style_similarity − base ≥ this
    production_tolerance: float = Field(default=0.02, ge=0)  # relative slack vs current production
    min_judge_score: float | None = None  # 1..5, only when the judge is enabled
    human_in_the_loop: bool = False  # passed candidates go to `staging`; a person promotes to production
    promote: bool = True  # False: evaluate and report only, never change stages


class EvaluationConfig(_Strict):
    max_samples: int = Field(default=16, ge=1)  # held-out prompts to generate for
    max_new_tokens: int = Field(default=96, ge=1)
    batch_size: int = Field(default=8, ge=1)
    torch_threads: int | Literal["auto"] = "auto"
    compare_production: bool = True
    compare_base: bool = True
    include_augmented: bool = True
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
