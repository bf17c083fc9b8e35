"""`conf/stack/<name>.yaml`: the ZenML stack a run uses and which steps go to its GPU step operator."""

from __future__ import annotations

from pydantic import Field

from llm_twin.config.base import Schema


class StackConfig(Schema):
    name: str = Field(min_length=1)
    zenml_stack: str = Field(min_length=1)
    step_operator: str | None
    gpu_steps: list[str]
