"""Dataset contracts: instruct samples, preference pairs and their metadata (pydantic, JSON-able).

They are what the `dataset` pipeline stores as versioned ZenML artifacts and what training, evaluation
and deploy (held-out texts for the export check) read; `to_hf()` gives the Hugging Face `datasets` view
trl's trainers consume.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llm_twin.domain.prompts import build_messages

DATASET_SCHEMA_VERSION = 1


class InstructSample(BaseModel):
    """One (instruction [+ retrieved context]) → author's text example."""

    model_config = ConfigDict(extra="forbid")

    id: str
    data_type: str
    document_id: str
    window_index: int = 0
    kind: Literal["plain", "augmented"] = "plain"
    platform: str = ""
    title: str = ""
    instruction: str = Field(min_length=1)
    context: str | None = None
    sources: list[str] = Field(default_factory=list, description="links of the context's chunks (data, not prompt text)")
    answer: str = Field(min_length=1)
    system: str | None = None
    n_tokens: int = 0  # prompt + answer in base-model tokens (0 = not measured)

    def prompt_messages(self) -> list[dict[str, str]]:
        return build_messages(self.instruction, self.context, self.system)

    def completion_messages(self) -> list[dict[str, str]]:
        return [{"role": "assistant", "content": self.answer}]


class TokenStats(BaseModel):
    count: int = 0
    min: int = 0
    mean: float = 0.0
    p95: int = 0
    max: int = 0
    total: int = 0


class DatasetMetadata(BaseModel):
    schema_version: int = DATASET_SCHEMA_VERSION
    dataset_hash: str = ""
    generator: str = "template"
    documents: int = 0
    windows: int = 0
    dropped_duplicates: int = 0
    dropped_too_short: int = 0
    dropped_too_long: int = 0
    counts: dict[str, int] = Field(default_factory=dict)  # e.g. train/posts, test/articles, train/augmented
    token_stats: TokenStats = Field(default_factory=TokenStats)
    tokenizer: str = ""
    seed: int = 42
    # document id → content hash of every source document read (the warehouse's hash, carried by the feature
    # pipelines): what the retraining policy compares the warehouse with (llm_twin/release/trigger.py)
    source_documents: dict[str, str] = Field(default_factory=dict)
    built_at: str = ""


class InstructDataset(BaseModel):
    """Train/test split of instruct samples with metadata; the versioned artifact of the dataset pipeline."""

    train: list[InstructSample]
    test: list[InstructSample]
    metadata: DatasetMetadata = Field(default_factory=DatasetMetadata)

    def content_hash(self) -> str:
        payload = {
            "train": [s.model_dump() for s in self.train],
            "test": [s.model_dump() for s in self.test],
        }
        raw = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()

    def to_hf(self, include_augmented: bool = True) -> Any:
        """A `datasets.DatasetDict` in trl's conversational prompt-completion format (+ metadata columns)."""
        from datasets import Dataset, DatasetDict

        def rows(samples: list[InstructSample]) -> dict[str, list[Any]]:
            kept = [s for s in samples if include_augmented or s.kind == "plain"]
            return {
                "prompt": [s.prompt_messages() for s in kept],
                "completion": [s.completion_messages() for s in kept],
                "id": [s.id for s in kept],
                "data_type": [s.data_type for s in kept],
                "kind": [s.kind for s in kept],
            }

        return DatasetDict({"train": Dataset.from_dict(rows(self.train)), "test": Dataset.from_dict(rows(self.test))})


class PreferenceSample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    prompt: list[dict[str, str]]
    chosen: str
    rejected: str


class PreferenceDataset(BaseModel):
    """Pairs for DPO: chosen = the author's text, rejected = what the base model wrote for the prompt."""

    samples: list[PreferenceSample] = Field(default_factory=list)
    base_model: str = ""

    def to_hf(self) -> Any:
        from datasets import Dataset

        return Dataset.from_dict(
            {
                "prompt": [s.prompt for s in self.samples],
                "chosen": [[{"role": "assistant", "content": s.chosen}] for s in self.samples],
                "rejected": [[{"role": "assistant", "content": s.rejected}] for s in self.samples],
            }
        )
