"""The twin behind the service: retrieval + URL grounding + prompt + generation + tracing.

Framework-free (the BentoML service is a thin adapter), so it is tested, benchmarked and reused without
a server. Client errors raise `RequestError` (mapped to 4xx by the service).

Every endpoint that writes goes through one path: `ground` (retrieve on the query, add the page given
with the request, build the chat messages the twin was trained on) then `answer` (whole) or
`answer_stream` (token deltas). `/generate` is a one-message conversation; the OpenAI-compatible
`/v1/chat/completions` keeps the earlier turns and grounds the last user message.

Links only ever come from the retrieved sources: every answer (whole or streamed) passes the hygiene
guard (`domain.hygiene`), which removes any URL that is in no source of this answer and any copied
context scaffolding; the sources themselves are returned as data (`context[]` / `sources`). What the
guard removed is counted in the trace's timings (`guard_links_removed`, `guard_markers_removed`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from llm_twin.connections import Connections
from llm_twin.domain.hygiene import HygieneFilter, clean_answer
from llm_twin.domain.prompts import CONTEXT_HEADER, build_messages, system_prompt
from llm_twin.embedding import get_embedder
from llm_twin.inference.api import ContextChunk, GenerateRequest, GenerateResponse, RetrieveResponse
from llm_twin.inference.export import REPORT_FILE, SERVED_FILE
from llm_twin.inference.generator import Generation, GenerationParams, GenerationStream, LlamaGenerator
from llm_twin.inference.openai_api import ChatCompletionRequest
from llm_twin.inference.runtime import RuntimeConfig
from llm_twin.inference.url_context import UrlFetchFailed, UrlRejected, url_chunks
from llm_twin.monitoring.traces import Trace, Tracer, build_tracer
from llm_twin.rag.context import assemble_context
from llm_twin.rag.models import RetrievalRequest, RetrievedChunk
from llm_twin.rag.retriever import ContextRetriever

if TYPE_CHECKING:
    from llm_twin.inference.gpu import TransformersGenerator

log = logging.getLogger(__name__)

INDEX_DIR = "qdrant"
MAX_QUERY_CHARS = 4000  # RetrievalRequest.query's limit


class RequestError(ValueError):
    """The request cannot be served as asked (bad URL, prompt too long...): a 4xx, with this message."""

    def __init__(self, message: str, status: int = 400, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.param = param


class TwinQuery(BaseModel):
    """One request to write, whatever API it came through."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    endpoint: str
    conversation: list[dict[str, str]] = Field(min_length=1, description="user/assistant turns, oldest first")
    query_index: int = Field(ge=0, description="the user turn retrieval searches with (and that gets the context)")
    extra_system: str | None = None
    platform: str | None = None
    url: str | None = None
    max_new_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return self.conversation[self.query_index]["content"]

    @classmethod
    def of_generate(cls, request: GenerateRequest) -> TwinQuery:
        return cls(endpoint="generate", conversation=[{"role": "user", "content": request.instruction}],
                   query_index=0, platform=request.platform, url=str(request.url) if request.url else None,
                   max_new_tokens=request.max_new_tokens, temperature=request.temperature, top_p=request.top_p)

    @classmethod
    def of_chat(cls, request: ChatCompletionRequest) -> TwinQuery:
        system = [m.text for m in request.messages if m.role in ("system", "developer") and m.text.strip()]
        turns = [(i, m) for i, m in enumerate(request.messages) if m.role in ("user", "assistant")]
        target = request.query_index()
        return cls(
            endpoint="chat", conversation=[{"role": m.role, "content": m.text} for _, m in turns],
            query_index=[i for i, _ in turns].index(target), extra_system="\n\n".join(system) or None,
            platform=request.platform, url=str(request.url) if request.url else None,
            max_new_tokens=request.max_new_tokens, temperature=request.temperature,
            top_p=None if request.top_p is None else max(request.top_p, 0.01), seed=request.seed, stop=request.stop_list,
        )


class Grounded(BaseModel):
    """The prompt of one request and what it was built from."""

    messages: list[dict[str, str]]
    prompt: str
    chunks: list[RetrievedChunk]
    allowed_links: list[str] = Field(default_factory=list, description="the only links an answer may contain")
    params: GenerationParams
    timings: dict[str, float]
    started: float


class Answer(BaseModel):
    text: str
    sources: list[ContextChunk]
    model_version: str
    finish_reason: str  # stop | length | time_limit | cancelled
    prompt_tokens: int
    completion_tokens: int
    timings: dict[str, float]
    trace_id: str

    def to_generate_response(self) -> GenerateResponse:
        return GenerateResponse(
            answer=self.text, context=self.sources, model_version=self.model_version,
            finish_reason=self.finish_reason, prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens, timings=self.timings, trace_id=self.trace_id,
        )


class AnswerStream:
    """Iterate for the answer's text deltas; then `answer` holds the whole Answer (trace recorded).

    Leaving the iteration early (a client that disconnects) stops generation after the current token.
    """

    def __init__(self, engine: TwinEngine, query: TwinQuery, grounded: Grounded, stream: GenerationStream) -> None:
        self._engine = engine
        self._query = query
        self._grounded = grounded
        self._stream = stream
        self._guard = HygieneFilter(grounded.allowed_links, CONTEXT_HEADER)
        self.answer: Answer | None = None
        self.sources = [ContextChunk.of(c) for c in grounded.chunks]

    def __iter__(self) -> Iterator[str]:
        try:
            for delta in self._stream:
                out = self._guard.feed(delta)
                if out:
                    yield out
            tail = self._guard.finish()
            if tail:
                yield tail
        finally:
            self._stream.close()
            self._stream.wait(timeout=10)
            if self._stream.result is not None:
                self._guard.finish()
                guarded = (self._guard.text, len(self._guard.removed_links), len(self._guard.removed_markers))
                self.answer = self._engine._finish(self._query, self._grounded, self._stream.result, guarded)

    def close(self) -> None:
        self._stream.close()


class TwinEngine:
    def __init__(self, model_dir: Path, index_dir: Path | None, runtime: RuntimeConfig | None = None,
                 tracer: Tracer | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.index_dir = Path(index_dir) if index_dir else None
        self.runtime = runtime or RuntimeConfig.read(self.model_dir)
        rt = self.runtime
        self.generator: LlamaGenerator | TransformersGenerator
        if rt.serving.backend == "transformers_bnb":  # GPU stacks: the merged HF folder in <model>/hf
            from llm_twin.inference.gpu import TransformersGenerator

            self.generator = TransformersGenerator(self.model_dir / "hf", rt.serving.bnb_bits, rt.serving.n_ctx)
        else:
            gguf = self.model_dir / SERVED_FILE
            if not gguf.is_file():
                raise FileNotFoundError(f"{gguf} is missing: not a served-model folder")
            self.generator = LlamaGenerator(gguf, rt.serving.n_ctx, rt.serving.threads)
        try:
            self._connect(tracer)
        except BaseException:
            self.generator.close()  # a failed load (e.g. a model swap) must not leak the loaded model
            raise

    def _connect(self, tracer: Tracer | None) -> None:
        rt = self.runtime
        self.embedder = get_embedder(rt.embedding)
        self._tmp: str | None = None
        connections = Connections.of(rt.infra)
        if connections.qdrant_url:
            self.qdrant = connections.qdrant_client()
        else:
            # Qdrant local mode locks its folder and may write to it: each engine serves its own copy.
            self._tmp = tempfile.mkdtemp(prefix="twin-index-")
            src = self.index_dir / INDEX_DIR if self.index_dir and (self.index_dir / INDEX_DIR).is_dir() else None
            if src is not None:
                shutil.copytree(src, self._tmp, dirs_exist_ok=True)
            else:
                log.warning("no retrieval index packaged: answers will have no context")
            self.qdrant = connections.replace(qdrant_path=self._tmp, qdrant_url=None).qdrant_client()
        settings = rt.retrieval
        if rt.author and not settings.default_author:
            settings = settings.model_copy(update={"default_author": rt.author})
        self.retriever = ContextRetriever(self.qdrant, settings, self.embedder,
                                          known_authors=[a for a in [rt.author] if a],
                                          count_tokens=self.generator.count_tokens)
        # A tracer passed in is shared (the service keeps one across model swaps) and not closed here.
        self._owns_tracer = tracer is None
        self.tracer = tracer or build_tracer(rt.monitoring, connections)
        self.model_version = rt.model_version
        report = self.model_dir / REPORT_FILE
        self.report = report.read_text() if report.is_file() else "{}"

    @property
    def n_ctx(self) -> int:
        return self.runtime.serving.n_ctx

    # -- health -----------------------------------------------------------------------------------
    def ready(self) -> bool:
        try:
            self.qdrant.get_collections()
            return True
        except Exception:
            log.warning("retrieval store not reachable", exc_info=True)
            return False

    # -- retrieval --------------------------------------------------------------------------------
    def retrieve(self, query: str, platform: str | None = None, k: int | None = None) -> RetrieveResponse:
        t0 = time.perf_counter()
        result = self.retriever.retrieve(RetrievalRequest(query=query, platform=platform, k=k))
        self.tracer.record(Trace(endpoint="retrieve", instruction=query, platform=platform,
                                 retrieved_chunk_ids=[c.id for c in result.chunks],
                                 latency_s=round(time.perf_counter() - t0, 4), model_version=self.model_version,
                                 timings=result.timings))
        return RetrieveResponse(
            query=query, queries=result.queries,
            filters={"author": result.meta.author, "platform": result.meta.platform},
            context=[ContextChunk.of(c) for c in result.chunks], context_tokens=result.context_tokens,
            timings=result.timings,
        )

    # -- generation -------------------------------------------------------------------------------
    def _url_context(self, url: str, instruction: str) -> list[RetrievedChunk]:
        try:
            return url_chunks(url, instruction, self.runtime.serving.url, self.embedder)
        except UrlRejected as exc:
            raise RequestError(str(exc), 400, "url") from exc
        except UrlFetchFailed as exc:
            raise RequestError(str(exc), 422, "url") from exc

    def _params(self, query: TwinQuery) -> GenerationParams:
        defaults = self.runtime.serving.generation
        max_new = query.max_new_tokens or defaults.max_new_tokens
        if max_new > self.n_ctx:
            raise RequestError(f"max_tokens ({max_new}) exceeds the model's context window of {self.n_ctx} tokens",
                               400, "max_tokens")
        stops = list(dict.fromkeys([*defaults.stop, *(query.stop or [])]))  # the configured ones, then the request's
        return GenerationParams.of(defaults, max_new_tokens=max_new, temperature=query.temperature,
                                   top_p=query.top_p, seed=query.seed, stop=stops)

    def ground(self, query: TwinQuery) -> Grounded:
        """Retrieve on the query, add the page given with it, and build the chat messages."""
        t0 = time.perf_counter()
        params = self._params(query)
        timings: dict[str, float] = {}
        # A chat message may be longer than a search query: search with its end (where the ask usually is).
        result = self.retriever.retrieve(RetrievalRequest(query=query.text.strip()[-MAX_QUERY_CHARS:],
                                                          platform=query.platform))
        timings.update(result.timings)
        chunks = list(result.chunks)
        context = result.context
        if query.url is not None:
            t_url = time.perf_counter()
            web = self._url_context(query.url, query.text)
            # The page comes first (the request is "based on this page"); the author's own chunks follow.
            context, _, chunks = assemble_context(
                web + chunks, self.retriever.settings.context_token_budget, self.generator.count_tokens)
            timings["url_s"] = round(time.perf_counter() - t_url, 4)
        author = result.meta.author or self.runtime.author
        system, user = build_messages(query.text, context, system_prompt(self.runtime.serving.system_prompt, author or ""))
        if query.extra_system:
            system = {"role": "system", "content": f"{system['content']}\n\n{query.extra_system}"}
        turns = list(query.conversation)
        turns[query.query_index] = user
        messages = [system, *turns]
        allowed = [c.link for c in chunks if c.link] + ([query.url] if query.url else [])
        return Grounded(messages=messages, prompt=self.generator.render(messages), chunks=chunks,
                        allowed_links=list(dict.fromkeys(allowed)), params=params, timings=timings, started=t0)

    def _finish(self, query: TwinQuery, grounded: Grounded, gen: Generation,
                guarded: tuple[str, int, int] | None = None) -> Answer:
        """`guarded`: (text, links removed, markers removed) of a streamed answer; a whole one is cleaned here."""
        if guarded is None:
            cleaned = clean_answer(gen.text, grounded.allowed_links, CONTEXT_HEADER)
            guarded = (cleaned.text, len(cleaned.removed_links), len(cleaned.removed_markers))
        text, n_links, n_markers = guarded
        if n_links or n_markers:
            log.info("answer guard removed %d invented link(s) and %d copied marker(s)", n_links, n_markers)
        gen = gen.model_copy(update={"text": text})
        timings = dict(grounded.timings)
        timings["guard_links_removed"] = float(n_links)
        timings["guard_markers_removed"] = float(n_markers)
        timings["generation_s"] = gen.seconds
        timings["tokens_per_s"] = gen.tokens_per_s
        timings["total_s"] = round(time.perf_counter() - grounded.started, 4)
        trace = Trace(
            endpoint=query.endpoint, instruction=query.text, prompt=grounded.prompt, platform=query.platform,
            url=query.url, retrieved_chunk_ids=[c.id for c in grounded.chunks], answer=gen.text,
            finish_reason=gen.finish_reason, latency_s=timings["total_s"], prompt_tokens=gen.prompt_tokens,
            completion_tokens=gen.completion_tokens, model_version=self.model_version, timings=timings,
        )
        self.tracer.record(trace)
        return Answer(
            text=gen.text, sources=[ContextChunk.of(c) for c in grounded.chunks], model_version=self.model_version,
            finish_reason=gen.finish_reason, prompt_tokens=gen.prompt_tokens,
            completion_tokens=gen.completion_tokens, timings=timings, trace_id=trace.id,
        )

    def answer(self, query: TwinQuery) -> Answer:
        grounded = self.ground(query)
        try:
            gen = self.generator.generate(grounded.messages, grounded.params)
        except ValueError as exc:  # prompt does not fit the context window
            raise RequestError(str(exc), 413, "messages") from exc
        return self._finish(query, grounded, gen)

    def answer_stream(self, query: TwinQuery) -> AnswerStream:
        """Grounds and checks the prompt now (errors before any byte is sent); generates when iterated."""
        grounded = self.ground(query)
        try:
            stream = self.generator.stream(grounded.messages, grounded.params)
        except ValueError as exc:
            raise RequestError(str(exc), 413, "messages") from exc
        return AnswerStream(self, query, grounded, stream)

    def generate(self, request: GenerateRequest) -> GenerateResponse:
        return self.answer(TwinQuery.of_generate(request)).to_generate_response()

    def close(self) -> None:
        if self._owns_tracer:
            self.tracer.close()
        self.generator.close()
        self.qdrant.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
