"""A minimal OpenAI-compatible chat-completions client over plain HTTP (requests).

Used by the `llm` instruction generator and the optional LLM judge. Any endpoint that speaks
`POST {base_url}/chat/completions` works (OpenAI, vLLM, llama.cpp server, Ollama's /v1). The API key
comes from the environment variable the config names, never from YAML, and is never logged.
"""

from __future__ import annotations

import logging
import os
import time

import requests

from llm_twin.training.config import LLMClientConfig

log = logging.getLogger(__name__)


class LLMClientError(RuntimeError):
    """The endpoint is not configured, unreachable, or answered something unusable."""


class ChatClient:
    def __init__(self, cfg: LLMClientConfig, session: requests.Session | None = None) -> None:
        if not cfg.base_url:
            raise LLMClientError(
                "no LLM endpoint configured: set `generator.llm.base_url` (or evaluation.judge.llm.base_url), "
                "e.g. via ${oc.env:LLM_TWIN_LLM_BASE_URL}"
            )
        self.cfg = cfg
        self.url = cfg.base_url.rstrip("/") + "/chat/completions"
        self.session = session or requests.Session()

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.cfg.api_key_env, "")
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def chat(self, messages: list[dict[str, str]], max_tokens: int = 128) -> str:
        """One completion; bounded retries with backoff on network errors and 429/5xx."""
        body = {
            "model": self.cfg.model,
            "messages": messages,
            "temperature": self.cfg.temperature,
            "max_tokens": max_tokens,
        }
        last: Exception | None = None
        for attempt in range(self.cfg.max_retries + 1):
            try:
                resp = self.session.post(self.url, json=body, headers=self._headers(), timeout=self.cfg.timeout_s)
                if resp.status_code == 429 or resp.status_code >= 500:
                    raise LLMClientError(f"{self.url} answered HTTP {resp.status_code}")
                if resp.status_code >= 400:  # a client error will not fix itself: no retry
                    raise LLMClientError(f"{self.url} rejected the request: HTTP {resp.status_code} {resp.text[:200]}")
                content = resp.json()["choices"][0]["message"]["content"]
                if not isinstance(content, str) or not content.strip():
                    raise LLMClientError(f"{self.url} returned an empty completion")
                return content.strip()
            except (requests.RequestException, LLMClientError, KeyError, IndexError, ValueError) as exc:
                last = exc
                if isinstance(exc, LLMClientError) and "rejected" in str(exc):
                    raise
                log.warning("LLM call failed (attempt %d/%d): %s", attempt + 1, self.cfg.max_retries + 1, exc)
                if attempt < self.cfg.max_retries:
                    time.sleep(min(2.0**attempt, 8.0))
        raise LLMClientError(f"LLM endpoint failed after {self.cfg.max_retries + 1} attempts: {last}")
