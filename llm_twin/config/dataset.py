"""`conf/dataset/<name>.yaml`: how the instruct (and preference) datasets are built from the feature store."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llm_twin.config.base import Schema
from llm_twin.config.llm import LLMEndpointConfig

FeatureType = Literal["posts", "articles", "code"]


class WindowConfig(Schema):
    """How one data type is cut into answer-sized windows (words, paragraph-aware)."""

    max_words: int = Field(ge=10)
    overlap_words: int = Field(ge=0)


class GeneratorConfig(Schema):
    kind: Literal["template", "llm"]
    keyphrases: int = Field(ge=0)
    llm: LLMEndpointConfig


class AugmentConfig(Schema):
    """Augmented prompts: instruction + context retrieved from `embedded_<type>` (never the target doc)."""

    enabled: bool
    fraction: float = Field(ge=0.0, le=1.0)
    top_k: int = Field(ge=1)
    max_context_words: int = Field(ge=10)


class PreferenceConfig(Schema):
    """Preference pairs (chosen = author text, rejected = base model answer) for the optional DPO stage."""

    enabled: bool
    max_samples: int = Field(ge=0)
    max_new_tokens: int = Field(ge=1)
    batch_size: int = Field(ge=1)


class DatasetConfig(Schema):
    data_types: list[FeatureType] = Field(min_length=1)
    author_full_name: str | None = Field(description="only this author's documents; null = everyone")
    windows: dict[FeatureType, WindowConfig]
    min_words: int = Field(ge=1)
    max_tokens: int = Field(ge=16, description="prompt + answer, in base-model tokens")
    system_prompt: str
    generator: GeneratorConfig
    augmented: AugmentConfig
    preference: PreferenceConfig
    test_size: float = Field(gt=0.0, lt=1.0)
    seed: int

    def window(self, data_type: str) -> WindowConfig:
        try:
            return self.windows[data_type]  # type: ignore[index]
        except KeyError:
            raise ValueError(f"dataset.windows has no entry for {data_type!r}") from None
