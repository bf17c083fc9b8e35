"""Retrieval quality and behaviour on a small real index (MiniLM embeddings in a local Qdrant)."""

from __future__ import annotations

import shutil

import pytest
from qdrant_client import QdrantClient

from llm_twin.rag.context import assemble_context
from llm_twin.rag.expansion import expand_query, split_identifiers
from llm_twin.rag.models import RetrievalRequest
from llm_twin.rag.retriever import ContextRetriever
from llm_twin.rag.self_query import self_query
from tests.inference.conftest import AUTHOR, OTHER, retrieval_config


@pytest.fixture()
def retriever(sample_index, embedder, tmp_path):
    path = tmp_path / "q"
    shutil.copytree(sample_index, path)
    client = QdrantClient(path=str(path))
    yield ContextRetriever(client, retrieval_config(), embedder, known_authors=[AUTHOR, OTHER])
    client.close()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("write a post about vector databases and filtering", "a-vector"),
        ("how do I ground an LLM in my own documents with retrieval?", "a-rag"),
        ("is int8 quantization worth it on CPU?", "a-quant"),
        ("change data capture and kafka streaming", "p-kafka"),
        ("a retry helper with exponential backoff", "c-retry"),
    ],
)
def test_known_queries_bring_back_the_right_document(retriever, query, expected):
    result = retriever.retrieve(RetrievalRequest(query=query, k=3))
    assert result.chunks, "no chunks retrieved"
    assert result.chunks[0].document_id == expected, [c.document_id for c in result.chunks]
    assert all(c.author == AUTHOR for c in result.chunks)  # default author filter
    # Plain passages: the chunk's text is in the context, its link is data (result.chunks), not prompt text.
    assert result.chunks[0].text[:40] in result.context
    assert "[1]" not in result.context and result.chunks[0].link not in result.context


def test_author_filter_from_text_and_request(retriever):
    by_text = retriever.retrieve(RetrievalRequest(query="what did John Roe write about vector databases", k=3))
    assert by_text.meta.author == OTHER
    assert {c.author for c in by_text.chunks} == {OTHER}
    by_field = retriever.retrieve(RetrievalRequest(query="vector databases", author=OTHER, k=3))
    assert [c.document_id for c in by_field.chunks] == ["o-vector"]


def test_platform_filter_and_fallback(retriever):
    res = retriever.retrieve(RetrievalRequest(query="vector databases", platform="linkedin", k=5))
    assert res.meta.platform == "linkedin"
    assert res.chunks and {c.platform for c in res.chunks} == {"linkedin"}
    # an unknown platform matches nothing: the filter is relaxed rather than returning no context
    res = retriever.retrieve(RetrievalRequest(query="vector databases", platform="myspace", k=2))
    assert res.chunks[0].document_id == "a-vector"


def test_no_duplicates_and_budget(retriever):
    res = retriever.retrieve(RetrievalRequest(query="Write a post about the vector databases we use", k=6))
    ids = [c.id for c in res.chunks]
    assert len(ids) == len(set(ids))
    assert res.context_tokens <= retriever.settings.context_token_budget
    assert len(res.queries) == 3 and res.queries[0] == "Write a post about the vector databases we use"


def test_code_query_is_code_aware(retriever):
    meta = self_query(RetrievalRequest(query="how does retry_with_backoff() work?"),
                      retrieval_config(default_author=None))
    assert meta.is_code and meta.data_types[0] == "code"
    assert split_identifiers("retryWithBackoff_fn()") == "retry with backoff fn"
    assert "retry with backoff" in retriever.clients["code"].preprocess("retry_with_backoff()")
    assert expand_query("getUser() in python", retrieval_config(expand_to_n=4), is_code=True)[1] == "get user in python"


def test_context_budget_truncates_first_chunk():
    from llm_twin.rag.models import RetrievedChunk

    chunk = RetrievedChunk(id="x", document_id="d", chunk_index=0, data_type="articles", platform="medium",
                           author=AUTHOR, link="https://x", text="word " * 500, score=1.0)
    text, tokens, used = assemble_context([chunk, chunk.model_copy(update={"id": "y"})], budget=100)
    assert used == [chunk] and tokens <= 100 and text.startswith("word")
    assert "[1]" not in text and "https://" not in text  # plain passages: no numbered source lines
