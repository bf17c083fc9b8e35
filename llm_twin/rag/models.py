"""Request/response models of retrieval; also the `/retrieve` API contract of the service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RetrievalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=4000)
    author: str | None = Field(default=None, max_length=200, description="author full name filter")
    platform: str | None = Field(default=None, max_length=50, description="e.g. linkedin, medium, github")
    k: int | None = Field(default=None, ge=1, le=50, description="chunks to return (default: final_k)")


class QueryMeta(BaseModel):
    """What self-query understood from the request: the filters and the types of content to search."""

    author: str | None = None
    platform: str | None = None
    data_types: list[str] = Field(default_factory=list)
    is_code: bool = False


class RetrievedChunk(BaseModel):
    id: str
    document_id: str
    chunk_index: int
    data_type: str
    platform: str
    author: str
    link: str
    title: str = ""
    text: str
    score: float = Field(description="similarity to the query (cosine), or the cross-encoder score")


class RetrievalResult(BaseModel):
    query: str
    meta: QueryMeta
    queries: list[str] = Field(description="the expanded queries that were searched")
    chunks: list[RetrievedChunk]
    context: str = Field(description="the chunks assembled within the token budget")
    context_tokens: int
    timings: dict[str, float] = Field(default_factory=dict)
