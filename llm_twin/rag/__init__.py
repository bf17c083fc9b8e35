"""Retrieval-augmented generation: the retrieval shared by inference (the service) and evaluation.

`ContextRetriever.retrieve(request)` runs self-query (author/platform filters) → query expansion →
filtered search in each `embedded_<type>` collection through its own per-type client → deduplication →
reranking (MMR offline, a CrossEncoder when configured) → context assembly within a token budget.
"""

from llm_twin.rag.models import QueryMeta, RetrievalRequest, RetrievalResult, RetrievedChunk

__all__ = ["QueryMeta", "RetrievalRequest", "RetrievalResult", "RetrievedChunk"]


def __getattr__(name: str):
    if name == "ContextRetriever":  # lazy: importing it pulls qdrant-client and sentence-transformers
        from llm_twin.rag.retriever import ContextRetriever

        return ContextRetriever
    raise AttributeError(name)
