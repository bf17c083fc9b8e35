"""Minimal OpenAI-compatible chat client (requests) for the LLM variants of self-query and expansion.

Plain HTTP instead of the `openai` SDK: one call shape works against OpenAI, vLLM, Ollama or a llama.cpp
server, with an explicit timeout and bounded retries. Any failure falls back to the rule-based path in the
caller, so an unreachable endpoint degrades retrieval quality but never fails a request.
"""

from __future__ import annotations

import logging
import time

import requests

from llm_twin.rag.settings import LLMEndpoint

log = logging.getLogger(__name__)


class LLMError(RuntimeError):
    """The endpoint is not configured, unreachable, or answered something unusable (callers fall back)."""


class _Permanent(LLMError):
    """A 4xx answer other than 429: retrying would repeat it."""


def chat(endpoint: LLMEndpoint, system: str, user: str, max_tokens: int = 256) -> str:
    if not endpoint.enabled:
        raise LLMError("no LLM endpoint configured (retrieval.llm.base_url)")
    url = endpoint.base_url.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    key = endpoint.api_key()
    if key is not None:
        headers["Authorization"] = f"Bearer {key.get_secret_value()}"
    body = {
        "model": endpoint.model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "temperature": 0.0,
        "max_tokens": max_tokens,
    }
    last: Exception | None = None
    for attempt in range(endpoint.retries + 1):
        try:
            resp = requests.post(url, json=body, headers=headers, timeout=endpoint.timeout_s)
            if resp.status_code >= 500 or resp.status_code == 429:  # transient: retried
                raise LLMError(f"HTTP {resp.status_code}")
            if resp.status_code >= 400:  # a bad key or request will not fix itself: no retry
                raise _Permanent(f"LLM endpoint {endpoint.base_url} rejected the request: HTTP {resp.status_code}")
            content = resp.json()["choices"][0]["message"]["content"]
            if not isinstance(content, str) or not content.strip():
                raise LLMError("empty completion")
            return content
        except _Permanent:
            raise
        except (requests.RequestException, LLMError, KeyError, IndexError, TypeError, ValueError) as exc:
            last = exc
            log.warning("LLM call failed (attempt %d/%d): %s", attempt + 1, endpoint.retries + 1, type(exc).__name__)
            if attempt < endpoint.retries:
                time.sleep(endpoint.backoff_s * 2**attempt)
    raise LLMError(f"LLM endpoint {endpoint.base_url} failed after {endpoint.retries + 1} attempts: {last}")
