"""The retrieval pipeline used by the service, the evaluation and the benchmark."""

from __future__ import annotations

import logging
import time

import numpy as np
from qdrant_client import QdrantClient

from llm_twin.config.retrieval import RetrievalConfig
from llm_twin.embedding import Embedder
from llm_twin.rag.clients import CLIENTS, Hit, RetrievalClient
from llm_twin.rag.context import TokenCounter, assemble_context, estimate_tokens
from llm_twin.rag.expansion import expand_query
from llm_twin.rag.models import QueryMeta, RetrievalRequest, RetrievalResult, RetrievedChunk
from llm_twin.rag.rerank import cross_encode, mmr
from llm_twin.rag.self_query import self_query

log = logging.getLogger(__name__)


def _to_chunk(hit: Hit) -> RetrievedChunk:
    p = hit.payload
    return RetrievedChunk(
        id=hit.id,
        document_id=p.document_id,
        chunk_index=p.chunk_index,
        data_type=p.data_type.feature_name,
        platform=p.platform,
        author=p.author_full_name,
        link=p.link,
        title=p.title,
        text=p.text,
        score=round(hit.score, 6),
    )


def dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per point id and per identical text (the same chunk found by several queries/types),
    keeping the best score."""
    best: dict[str, Hit] = {}
    for hit in hits:
        key = " ".join(hit.payload.text.split()).lower()
        if key not in best or hit.score > best[key].score:
            best[key] = hit
    by_id: dict[str, Hit] = {}
    for hit in best.values():
        if hit.id not in by_id or hit.score > by_id[hit.id].score:
            by_id[hit.id] = hit
    return sorted(by_id.values(), key=lambda h: h.score, reverse=True)


class ContextRetriever:
    def __init__(
        self,
        client: QdrantClient,
        settings: RetrievalConfig,
        embedder: Embedder,
        known_authors: list[str] | None = None,
        count_tokens: TokenCounter = estimate_tokens,
    ) -> None:
        self.client = client
        self.settings = settings
        self.embedder = embedder
        self.known_authors = list(known_authors or [])
        self.count_tokens = count_tokens
        self.clients: dict[str, RetrievalClient] = {name: cls(client) for name, cls in CLIENTS.items()}

    def _search(self, queries: list[str], meta: QueryMeta, with_platform: bool) -> list[Hit]:
        hits: list[Hit] = []
        for name in meta.data_types:
            rc = self.clients[name]
            if not rc.available():
                continue
            vectors = self.embedder.encode([rc.preprocess(q) for q in queries])
            for vec in vectors:
                hits += rc.search(vec, meta, self.settings.top_k, self.settings.score_threshold, with_platform)
        return hits

    def retrieve(self, request: RetrievalRequest) -> RetrievalResult:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        meta = self_query(request, self.settings, self.known_authors)
        queries = expand_query(request.query, self.settings, is_code=meta.is_code)
        timings["self_query_expand_s"] = time.perf_counter() - t0

        t1 = time.perf_counter()
        hits = self._search(queries, meta, with_platform=True)
        if not hits and meta.platform:  # the platform filter is a preference: relax it rather than answer blind
            hits = self._search(queries, meta, with_platform=False)
        hits = dedupe(hits)
        timings["search_s"] = time.perf_counter() - t1

        t2 = time.perf_counter()
        k = request.k or self.settings.final_k
        rr = self.settings.rerank
        if rr.mode == "cross_encoder" and rr.cross_encoder:
            ranked = cross_encode(rr.cross_encoder, request.query, hits, k)
        elif rr.mode == "mmr" and hits:
            qvec = np.asarray(self.embedder.encode([request.query])[0])
            ranked = mmr(qvec, hits, k, rr.mmr_lambda)
        else:
            ranked = hits[:k]
        chunks = [_to_chunk(h) for h in ranked]
        context, tokens, used = assemble_context(chunks, self.settings.context_token_budget, self.count_tokens)
        timings["rerank_context_s"] = time.perf_counter() - t2
        timings["retrieval_s"] = time.perf_counter() - t0
        return RetrievalResult(
            query=request.query,
            meta=meta,
            queries=queries,
            chunks=used,
            context=context,
            context_tokens=tokens,
            timings={k: round(v, 4) for k, v in timings.items()},
        )
