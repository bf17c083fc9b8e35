"""An OpenAI-compatible chat endpoint, as every config group that calls an LLM declares it."""

from __future__ import annotations

from pydantic import Field

from llm_twin.config.base import Schema


class LLMEndpointConfig(Schema):
    """`base_url` null disables the LLM path (callers fall back to their offline path or fail clearly).

    `api_key` is an `env:NAME` reference (resolved by `llm_twin.connections` when a call is made), so the
    key itself never lands in a config file, the composed config or ZenML's run parameters.
    """

    base_url: str | None
    model: str
    api_key: str | None = Field(pattern=r"^env:[A-Za-z_][A-Za-z0-9_]*(\|.*)?$")
    timeout_s: float = Field(gt=0)
    retries: int = Field(ge=0, le=10)
    backoff_s: float = Field(ge=0, le=30, description="first retry delay, doubled each time")
    temperature: float = Field(ge=0, le=2)

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)
