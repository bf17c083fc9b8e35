"""Chat calls for the LLM variants of self-query and expansion (`retrieval.llm`, an `LLMEndpoint`).

A thin adapter over `llm_twin.llm_client` (the one OpenAI-compatible client). Any failure raises
`LLMError` and the caller falls back to the rule-based path, so an unreachable endpoint degrades
retrieval quality but never fails a request.
"""

from __future__ import annotations

from llm_twin.llm_client import LLMError, LLMRejected, chat_completion
from llm_twin.rag.settings import LLMEndpoint

__all__ = ["LLMError", "LLMRejected", "chat"]


def chat(endpoint: LLMEndpoint, system: str, user: str, max_tokens: int = 256) -> str:
    if not endpoint.enabled:
        raise LLMError("no LLM endpoint configured (retrieval.llm.base_url)")
    key = endpoint.api_key()
    return chat_completion(
        endpoint.base_url or "",
        endpoint.model,
        [{"role": "system", "content": system}, {"role": "user", "content": user}],
        api_key=key.get_secret_value() if key is not None else None,
        temperature=0.0,
        max_tokens=max_tokens,
        timeout_s=endpoint.timeout_s,
        retries=endpoint.retries,
        backoff_s=endpoint.backoff_s,
    )
