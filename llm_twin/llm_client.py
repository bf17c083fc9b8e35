"""The one OpenAI-compatible chat-completions client (plain HTTP over `requests`, retries by tenacity).

Plain HTTP instead of the `openai` SDK: one call shape works against OpenAI, vLLM, Ollama (/v1) or a
llama.cpp server, with an explicit timeout and bounded retries with exponential backoff on network
errors, 429 and 5xx; any other 4xx (a bad key or request) is raised at once, since retrying would repeat
it. Clients are made by `llm_twin.connections.llm_client`, which resolves the key from the endpoint's
`env:` reference; the key is never logged.

Callers: the `llm` instruction generator and the LLM judge (they fail on `LLMError`), and LLM self-query
and query expansion (they fall back to their rule-based path on `LLMError`).
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from pydantic import SecretStr
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from llm_twin.config.llm import LLMEndpointConfig

log = logging.getLogger(__name__)


class LLMError(RuntimeError):
    """The endpoint is not configured, unreachable, or answered something unusable (callers fall back)."""


class LLMRejected(LLMError):
    """A 4xx answer other than 429: retrying would repeat it."""


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, (LLMError, requests.RequestException)) and not isinstance(exc, LLMRejected)


class ChatClient:
    def __init__(self, endpoint: LLMEndpointConfig, api_key: SecretStr | None = None, session: Any = None) -> None:
        if not endpoint.base_url:
            raise LLMError("no LLM endpoint configured: set its `base_url` (e.g. retrieval.llm.base_url)")
        self.endpoint = endpoint
        self.url = endpoint.base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self.session = session or requests.Session()

    def chat(self, messages: list[dict[str, str]], max_tokens: int = 256, temperature: float | None = None) -> str:
        """One completion's text (unstripped). The n-th retry waits `backoff_s * 2**(n-1)` seconds."""
        headers = {"Content-Type": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        body = {
            "model": self.endpoint.model,
            "messages": messages,
            "temperature": self.endpoint.temperature if temperature is None else temperature,
            "max_tokens": max_tokens,
        }
        attempts = self.endpoint.retries + 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=self.endpoint.backoff_s, max=max(self.endpoint.backoff_s * 16, 1.0)),
            retry=retry_if_exception(_transient),
            before_sleep=lambda state: log.warning(
                "LLM call failed (attempt %d/%d): %s", state.attempt_number, attempts,
                state.outcome.exception() if state.outcome else "?",
            ),
        )
        try:
            return retrying(self._post, body, headers)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise LLMError(f"LLM endpoint {self.endpoint.base_url} failed after {attempts} attempts: {last}") from last
        except requests.RequestException as exc:  # pragma: no cover - tenacity wraps these in RetryError
            raise LLMError(f"LLM endpoint {self.endpoint.base_url} failed: {exc}") from exc

    def _post(self, body: dict[str, Any], headers: dict[str, str]) -> str:
        resp = self.session.post(self.url, json=body, headers=headers, timeout=self.endpoint.timeout_s)
        if resp.status_code == 429 or resp.status_code >= 500:  # transient: retried
            raise LLMError(f"{self.url} answered HTTP {resp.status_code}")
        if resp.status_code >= 400:  # a bad key or request will not fix itself: no retry
            raise LLMRejected(
                f"LLM endpoint {self.endpoint.base_url} rejected the request: HTTP {resp.status_code} {resp.text[:200]}"
            )
        try:
            content = resp.json()["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise LLMError(f"{self.url} answered something that is not a chat completion: {exc}") from exc
        if not isinstance(content, str) or not content.strip():
            raise LLMError(f"{self.url} returned an empty completion")
        return content
