"""`conf/pipeline/<name>.yaml`: which ZenML pipeline runs, the services it needs and its parameters."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from llm_twin.config.base import Schema

Service = Literal["mongo", "rabbitmq", "kafka", "qdrant"]


class PipelineModelConfig(Schema):
    """The Model Control Plane model a run is attached to (`zenml.Model` arguments)."""

    name: str
    version: str | int | None
    description: str | None
    tags: list[str] | None


class PipelineConfig(Schema):
    name: str = Field(min_length=1)
    entrypoint: str | None = Field(description="module.attribute of the @pipeline (or of a `llm_twin.runner.command`); null for a sequence")
    sequence: list[str] | None = Field(description="run these pipelines one after another instead")
    services: list[Service]
    model: PipelineModelConfig | None
    params: dict[str, Any]

    @model_validator(mode="after")
    def _one_kind(self) -> PipelineConfig:
        if bool(self.entrypoint) == bool(self.sequence):
            raise ValueError(f"pipeline {self.name!r}: set exactly one of `entrypoint` and `sequence`")
        return self
