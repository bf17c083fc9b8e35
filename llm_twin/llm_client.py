"""The one OpenAI-compatible chat-completions client (plain HTTP over `requests`).

Plain HTTP instead of the `openai` SDK: one call shape works against OpenAI, vLLM, Ollama (/v1) or a
llama.cpp server, with an explicit timeout and bounded retries with exponential backoff on network
errors, 429 and 5xx; any other 4xx (a bad key or request) is raised at once, since retrying would repeat
it. The API key is passed in by the caller (read from the environment variable its config names, never
from YAML) and is never logged.

Callers adapt their own config to this function: `llm_twin.rag.llm_client.chat` (self-query, query
expansion; falls back to rules on `LLMError`) and `llm_twin.training.llm_client.ChatClient` (instruction
generator, LLM judge).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests

log = logging.getLogger(__name__)


class LLMError(RuntimeError):
    """The endpoint is not configured, unreachable, or answered something unusable (callers fall back)."""


class LLMRejected(LLMError):
    """A 4xx answer other than 429: retrying would repeat it."""


def chat_completion(
    base_url: str,
    model: str,
    messages: list[dict[str, str]],
    *,
    api_key: str | None = None,
    temperature: float = 0.0,
    max_tokens: int = 256,
    timeout_s: float = 20.0,
    retries: int = 2,
    backoff_s: float = 0.5,
    max_backoff_s: float | None = None,
    session: Any = None,
) -> str:
    """One completion's text (unstripped). The n-th retry waits `backoff_s * 2**n`, capped by `max_backoff_s`."""
    url = base_url.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    body = {"model": model, "messages": messages, "temperature": temperature, "max_tokens": max_tokens}
    post = session.post if session is not None else requests.post
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            resp = post(url, json=body, headers=headers, timeout=timeout_s)
            if resp.status_code == 429 or resp.status_code >= 500:  # transient: retried
                raise LLMError(f"{url} answered HTTP {resp.status_code}")
            if resp.status_code >= 400:  # a bad key or request will not fix itself: no retry
                raise LLMRejected(
                    f"LLM endpoint {base_url} rejected the request: HTTP {resp.status_code} {resp.text[:200]}"
                )
            content = resp.json()["choices"][0]["message"]["content"]
            if not isinstance(content, str) or not content.strip():
                raise LLMError(f"{url} returned an empty completion")
            return content
        except LLMRejected:
            raise
        except (requests.RequestException, LLMError, KeyError, IndexError, TypeError, ValueError) as exc:
            last = exc
            log.warning("LLM call failed (attempt %d/%d): %s: %s", attempt + 1, retries + 1, type(exc).__name__, exc)
            if attempt < retries:
                delay = backoff_s * 2**attempt
                time.sleep(delay if max_backoff_s is None else min(delay, max_backoff_s))
    raise LLMError(f"LLM endpoint {base_url} failed after {retries + 1} attempts: {last}")
