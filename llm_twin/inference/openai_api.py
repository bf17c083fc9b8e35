"""The twin's OpenAI-compatible chat API: the wire models of `POST /v1/chat/completions` and `GET /v1/models`.

Field names and shapes follow the OpenAI chat API, so the official `openai` client, chat front ends,
editors and agent frameworks talk to the twin unchanged. Extensions (ignored by clients that do not
know them): `platform` and `url` on the request (the same retrieval filter and page grounding as
`/generate`), `sources`, `trace_id` and `model_version` on the response and on the final stream chunk.

Unknown request fields are ignored (as OpenAI-compatible servers do); what the twin cannot honour
(`n` > 1, tools, non-text content) is a 400 that names the field.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from llm_twin.inference.api import ContextChunk, Platform

MODEL_ID = "llm_twin"
MAX_MESSAGE_CHARS = 32_000


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text"] = Field(description="only text parts are supported")
    text: str = Field(max_length=MAX_MESSAGE_CHARS)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"] = Field(
        description="tool and function messages are not supported")
    content: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)] | list[TextPart]
    name: str | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """What the twin reads of an OpenAI chat request. Retrieval runs on the last user message."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(default=MODEL_ID, max_length=200, description=f"'{MODEL_ID}' or the served model version")
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    max_tokens: int | None = Field(default=None, ge=1, description="default: serving.generation.max_new_tokens")
    max_completion_tokens: int | None = Field(default=None, ge=1, description="newer name of max_tokens")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0, description="0 acts as greedy (nucleus of 0.01)")
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = Field(default=None, description="up to 4 stop strings")
    seed: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1)
    n: int = Field(default=1, description="only 1 is supported")
    tools: list[dict[str, Any]] | None = Field(default=None, description="not supported")
    platform: Platform = None
    url: HttpUrl | None = Field(default=None, description="twin extension: a public page to ground the answer in")

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int) -> int:
        if value != 1:
            raise ValueError("the twin returns one choice: n must be 1")
        return value

    @field_validator("tools")
    @classmethod
    def _no_tools(cls, value: list[dict[str, Any]] | None) -> None:
        if value:
            raise ValueError("tool calling is not supported by the twin")

    @field_validator("stop")
    @classmethod
    def _stops(cls, value: str | list[str] | None) -> list[str] | None:
        stops = [value] if isinstance(value, str) else value
        if stops is None:
            return None
        if len(stops) > 4 or any(not s or len(s) > 100 for s in stops):
            raise ValueError("stop takes up to 4 non-empty strings of at most 100 characters")
        return stops

    @field_validator("platform")
    @classmethod
    def _empty_platform_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _has_user_message(self) -> ChatCompletionRequest:
        if not any(m.role == "user" and m.text.strip() for m in self.messages):
            raise ValueError("messages must contain a user message with text (retrieval runs on the last one)")
        return self

    @property
    def stop_list(self) -> list[str]:
        return list(self.stop or [])  # normalised to a list by the validator

    @property
    def max_new_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def query_index(self) -> int:
        """Index of the last user message with text: what retrieval searches with."""
        return max(i for i, m in enumerate(self.messages) if m.role == "user" and m.text.strip())


# -- responses ---------------------------------------------------------------------------------------


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    sources: list[ContextChunk] = Field(description="twin extension: the author's content the answer used")
    trace_id: str
    model_version: str


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop", "length"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    sources: list[ContextChunk] | None = None
    trace_id: str | None = None
    model_version: str | None = None

    def sse(self) -> str:
        """One server-sent event; optional extension fields are left out where they do not apply."""
        data = self.model_dump(mode="json")
        for key in ("usage", "sources", "trace_id", "model_version"):
            if data[key] is None:
                del data[key]
        for choice in data["choices"]:
            choice["delta"] = {k: v for k, v in choice["delta"].items() if v is not None}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


SSE_DONE = "data: [DONE]\n\n"


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "llm_twin"
    model_version: str = Field(description="twin extension: the version being served")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorDetail(BaseModel):
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """OpenAI's error body: clients raise it as `openai.BadRequestError` etc. with this message."""

    error: ErrorDetail


# -- helpers -----------------------------------------------------------------------------------------


def finish_reason(twin_reason: str) -> Literal["stop", "length"]:
    """The twin's reasons in OpenAI's vocabulary: a time limit cut the answer short like a length limit."""
    return "length" if twin_reason in ("length", "time_limit") else "stop"


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def error_body(message: str, status: int, param: str | None = None) -> dict[str, Any]:
    kind = {401: "authentication_error", 404: "not_found_error", 413: "invalid_request_error",
            429: "rate_limit_error"}.get(status, "invalid_request_error" if status < 500 else "server_error")
    code = {401: "invalid_api_key", 404: "model_not_found", 413: "context_length_exceeded"}.get(status)
    return ErrorResponse(error=ErrorDetail(message=message, type=kind, param=param, code=code)).model_dump()


def validation_message(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    """A pydantic/FastAPI error list as one sentence naming the field, and that field (OpenAI's `param`)."""
    parts = []
    param = None
    for err in errors[:5]:
        if err.get("type") == "json_invalid":
            return f"the request body is not valid JSON: {err.get('ctx', {}).get('error', err.get('msg'))}", None
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        where = ".".join(loc) or "body"
        param = param or where
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts), param
