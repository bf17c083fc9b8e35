"""Query expansion: search with a few rephrasings so a chunk that uses other words is still found.

Rules by default (the query itself, its content words, and for code its identifiers split into words);
with `retrieval.expansion: llm` an OpenAI-compatible endpoint writes the alternatives. The original query
always comes first and the result has at most `expand_to_n` distinct queries.
"""

from __future__ import annotations

import logging
import re

from llm_twin.config.retrieval import RetrievalConfig
from llm_twin.connections import llm_client
from llm_twin.llm_client import LLMError

log = logging.getLogger(__name__)

_STOP = set(
    "a an the and or of to in on for with about from into by as at is are be was were it this that these "
    "those my your our their me i you we they write create draft make give tell explain please post "
    "article short long new some any how what why which who can could would should do does".split()
)
_INSTRUCTION = re.compile(r"^(please\s+)?(write|draft|create|compose|give me|tell me about|explain)\b[^:]*?\b(about|on)\b\s*", re.IGNORECASE)


def split_identifiers(text: str) -> str:
    """`fooBar_baz()` → `foo bar baz`: code-aware preprocessing so identifiers match prose."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return re.sub(r"[_\W]+", " ", text).strip().lower()


def keywords(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9+#.\-]*", text)
    return " ".join(w for w in words if w.lower() not in _STOP)


def _rules(query: str, n: int, is_code: bool) -> list[str]:
    candidates = [query, _INSTRUCTION.sub("", query), keywords(query)]
    if is_code:
        candidates.insert(1, split_identifiers(query))
    return candidates


def _llm(query: str, n: int, settings: RetrievalConfig) -> list[str]:
    system = (
        f"Write {n - 1} different rephrasings of the user's search query, one per line, no numbering, "
        "no other text. Each must keep the meaning and use different words."
    )
    messages = [{"role": "system", "content": system}, {"role": "user", "content": query}]
    lines = llm_client(settings.llm).chat(messages, max_tokens=64 * n).splitlines()
    return [query] + [re.sub(r"^\s*(\d+[.)]|[-*])\s*", "", line).strip() for line in lines]


def expand_query(query: str, settings: RetrievalConfig, is_code: bool = False) -> list[str]:
    n = settings.expand_to_n
    candidates: list[str] = []
    if n > 1 and settings.expansion == "llm" and settings.llm.enabled:
        try:
            candidates = _llm(query, n, settings)
        except LLMError as exc:
            log.warning("LLM query expansion failed, using rules: %s", exc)
    if len(candidates) < n:
        candidates += _rules(query, n, is_code)
    seen: set[str] = set()
    out: list[str] = []
    for cand in candidates:
        key = " ".join(cand.lower().split())
        if key and key not in seen:
            seen.add(key)
            out.append(cand.strip())
        if len(out) == n:
            break
    return out
