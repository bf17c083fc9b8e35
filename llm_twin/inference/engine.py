"""The twin behind the service: retrieval + URL grounding + prompt + llama.cpp generation + tracing.

Framework-free (the BentoML service is a thin adapter), so it is tested, benchmarked and reused without
a server. Client errors raise `RequestError` (mapped to 4xx by the service).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from llm_twin.connections import Connections
from llm_twin.domain.prompts import build_messages, system_prompt
from llm_twin.embedding import get_embedder
from llm_twin.inference.api import ContextChunk, GenerateRequest, GenerateResponse, RetrieveResponse
from llm_twin.inference.export import REPORT_FILE, SERVED_FILE
from llm_twin.inference.generator import GenerationParams, LlamaGenerator
from llm_twin.inference.runtime import RuntimeConfig
from llm_twin.inference.url_context import UrlFetchFailed, UrlRejected, url_chunks
from llm_twin.monitoring.traces import Trace, Tracer, build_tracer
from llm_twin.rag.context import assemble_context
from llm_twin.rag.models import RetrievalRequest, RetrievedChunk
from llm_twin.rag.retriever import ContextRetriever

log = logging.getLogger(__name__)

INDEX_DIR = "qdrant"


class RequestError(ValueError):
    """The request cannot be served as asked (bad URL, prompt too long...): a 4xx, with this message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class TwinEngine:
    def __init__(self, model_dir: Path, index_dir: Path | None, runtime: RuntimeConfig | None = None,
                 tracer: Tracer | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.runtime = runtime or RuntimeConfig.read(self.model_dir)
        rt = self.runtime
        if rt.serving.backend == "transformers_bnb":  # GPU stacks: the merged HF folder in <model>/hf
            from llm_twin.inference.gpu import TransformersGenerator

            self.generator = TransformersGenerator(self.model_dir / "hf", rt.serving.bnb_bits, rt.serving.n_ctx)
        else:
            self.generator = LlamaGenerator(self.model_dir / SERVED_FILE, rt.serving.n_ctx, rt.serving.threads)
        self.embedder = get_embedder(rt.embedding)
        self._tmp: str | None = None
        connections = Connections.of(rt.infra)
        if connections.qdrant_url:
            self.qdrant = connections.qdrant_client()
        else:
            # Qdrant local mode locks its folder and may write to it: each worker serves its own copy.
            self._tmp = tempfile.mkdtemp(prefix="twin-index-")
            src = Path(index_dir) / INDEX_DIR if index_dir and (Path(index_dir) / INDEX_DIR).is_dir() else None
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
        self.tracer = tracer or build_tracer(rt.monitoring, connections)
        self.model_version = rt.model_version
        report = self.model_dir / REPORT_FILE
        self.report = report.read_text() if report.is_file() else "{}"

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
            raise RequestError(str(exc), 400) from exc
        except UrlFetchFailed as exc:
            raise RequestError(str(exc), 422) from exc

    def generate(self, request: GenerateRequest) -> GenerateResponse:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        result = self.retriever.retrieve(RetrievalRequest(query=request.instruction, platform=request.platform))
        timings.update(result.timings)
        chunks = list(result.chunks)
        context = result.context
        if request.url is not None:
            t_url = time.perf_counter()
            web = self._url_context(str(request.url), request.instruction)
            # The page comes first (the request is "based on this page"); the author's own chunks follow.
            context, _, chunks = assemble_context(
                web + chunks, self.retriever.settings.context_token_budget, self.generator.count_tokens)
            timings["url_s"] = round(time.perf_counter() - t_url, 4)
        author = result.meta.author or self.runtime.author
        messages = build_messages(request.instruction, context, system_prompt(self.runtime.serving.system_prompt, author or ""))
        prompt = self.generator.render(messages)
        defaults = self.runtime.serving.generation
        params = GenerationParams(
            max_new_tokens=request.max_new_tokens, temperature=request.temperature, top_p=request.top_p,
            repeat_penalty=defaults.repeat_penalty, time_limit_s=defaults.time_limit_s,
        )
        try:
            gen = self.generator.generate(messages, params)
        except ValueError as exc:  # prompt does not fit the context window
            raise RequestError(str(exc), 413) from exc
        timings["generation_s"] = gen.seconds
        timings["tokens_per_s"] = gen.tokens_per_s
        timings["total_s"] = round(time.perf_counter() - t0, 4)
        trace = Trace(
            endpoint="generate", instruction=request.instruction, prompt=prompt, platform=request.platform,
            url=str(request.url) if request.url else None, retrieved_chunk_ids=[c.id for c in chunks],
            answer=gen.text, finish_reason=gen.finish_reason, latency_s=timings["total_s"],
            prompt_tokens=gen.prompt_tokens, completion_tokens=gen.completion_tokens,
            model_version=self.model_version, timings=timings,
        )
        self.tracer.record(trace)
        return GenerateResponse(
            answer=gen.text, context=[ContextChunk.of(c) for c in chunks], model_version=self.model_version,
            finish_reason=gen.finish_reason, prompt_tokens=gen.prompt_tokens,
            completion_tokens=gen.completion_tokens, timings=timings, trace_id=trace.id,
        )

    def close(self) -> None:
        self.tracer.close()
        self.generator.close()
        self.qdrant.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
