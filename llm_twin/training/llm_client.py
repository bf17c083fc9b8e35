"""The chat client of the `llm` instruction generator and the optional LLM judge (`LLMClientConfig`).

A thin adapter over `llm_twin.llm_client` (the one OpenAI-compatible client): any endpoint that speaks
`POST {base_url}/chat/completions` works. The API key comes from the environment variable the config
names (`api_key_env`), never from YAML, and is never logged.
"""

from __future__ import annotations

import os

import requests

from llm_twin.llm_client import LLMError, chat_completion
from llm_twin.training.config import LLMClientConfig

LLMClientError = LLMError  # one error type for both callers (kept under its training name)

__all__ = ["ChatClient", "LLMClientError"]


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

    def chat(self, messages: list[dict[str, str]], max_tokens: int = 128) -> str:
        """One completion, stripped; bounded retries (1 s, 2 s, ... capped at 8 s) on network errors and 429/5xx."""
        return chat_completion(
            self.cfg.base_url or "",
            self.cfg.model,
            messages,
            api_key=os.environ.get(self.cfg.api_key_env, "") or None,
            temperature=self.cfg.temperature,
            max_tokens=max_tokens,
            timeout_s=self.cfg.timeout_s,
            retries=self.cfg.max_retries,
            backoff_s=1.0,
            max_backoff_s=8.0,
            session=self.session,
        ).strip()
