"""The service's API contract (pydantic): what `/generate` and `/retrieve` accept and return."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from llm_twin.rag.models import RetrievedChunk

Instruction = Annotated[str, Field(min_length=1, max_length=4000, description="what the twin should write")]
Platform = Annotated[str | None, Field(default=None, max_length=50, pattern=r"^[A-Za-z0-9_.-]*$",
                                       description="platform filter, e.g. linkedin, medium, github")]


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instruction: Instruction
    url: HttpUrl | None = Field(default=None, description="a public page to ground the answer in")
    platform: Platform = None
    max_new_tokens: int = Field(default=256, ge=1, le=1024)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=0.9, ge=0.01, le=1.0)


class ContextChunk(BaseModel):
    id: str
    document_id: str
    data_type: str
    platform: str
    link: str
    title: str = ""
    score: float
    text: str

    @classmethod
    def of(cls, chunk: RetrievedChunk) -> "ContextChunk":
        return cls(**chunk.model_dump(include=set(cls.model_fields)))


class GenerateResponse(BaseModel):
    answer: str
    context: list[ContextChunk]
    model_version: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    timings: dict[str, float]
    trace_id: str


class RetrieveResponse(BaseModel):
    query: str
    queries: list[str]
    filters: dict[str, str | None]
    context: list[ContextChunk]
    context_tokens: int
    timings: dict[str, float]
