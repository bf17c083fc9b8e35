"""Self-query: turn a free-text request into metadata filters (author, platform) and content types.

Rule-based by default (keyword and name matching: deterministic, offline, instant); when
`retrieval.self_query: llm` and an endpoint is configured, an LLM extracts the same fields as JSON and
the rules fill in whatever it leaves out. Explicit request fields always win over extraction.
"""

from __future__ import annotations

import json
import logging
import re

from llm_twin.config.retrieval import RetrievalConfig
from llm_twin.connections import llm_client
from llm_twin.llm_client import LLMError
from llm_twin.rag.models import QueryMeta, RetrievalRequest

log = logging.getLogger(__name__)

# platform keyword -> canonical platform name stored in the payloads
PLATFORMS: dict[str, str] = {
    "linkedin": "linkedin",
    "medium": "medium",
    "substack": "substack",
    "github": "github",
    "gitlab": "gitlab",
    "twitter": "x",
    "blog": "blog",
}
_CODE_HINTS = re.compile(
    r"```|\bdef |\bclass |\bimport |\bfunction\b|\bcode\b|\bsnippet\b|\brepo(sitory)?\b|\bgithub\b|"
    r"\bimplement\w*\b|\bpython\b|\w+\(\)|\b[a-z]+_[a-z_]+\b|\b[a-z]+[A-Z]\w+\b",
)
_POST_HINTS = re.compile(r"\b(post|tweet|linkedin)\b", re.IGNORECASE)
_ARTICLE_HINTS = re.compile(r"\b(article|blog|essay|medium|substack)\b", re.IGNORECASE)


def looks_like_code(text: str) -> bool:
    return bool(_CODE_HINTS.search(text))


def _rules(request: RetrievalRequest, known_authors: list[str]) -> QueryMeta:
    text = request.query
    lower = text.lower()
    author = None
    for name in sorted(known_authors, key=len, reverse=True):
        if name and name.lower() in lower:
            author = name
            break
    platform = None
    for word, canonical in PLATFORMS.items():
        if re.search(rf"\b{word}\b", lower):
            platform = canonical
            break
    return QueryMeta(author=author, platform=platform, is_code=looks_like_code(text))


def _llm(request: RetrievalRequest, settings: RetrievalConfig, known_authors: list[str]) -> QueryMeta:
    system = (
        "Extract search filters from the user's request. Answer with one JSON object with keys "
        '"author" (a full name or null), "platform" (one of linkedin, medium, substack, github or null) '
        'and "is_code" (true if the request is about source code).'
        + (f" Known authors: {', '.join(known_authors)}." if known_authors else "")
    )
    messages = [{"role": "system", "content": system}, {"role": "user", "content": request.query}]
    raw = llm_client(settings.llm).chat(messages, max_tokens=96)
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    data = json.loads(match.group(0)) if match else {}
    platform = str(data.get("platform") or "").lower() or None
    author = data.get("author") or None
    if author and known_authors:  # a name the index does not hold would filter everything out
        author = next((a for a in known_authors if a.lower() == str(author).strip().lower()), None)
    return QueryMeta(
        author=author,
        platform=PLATFORMS.get(platform or "", platform),
        is_code=bool(data.get("is_code", False)),
    )


def self_query(
    request: RetrievalRequest, settings: RetrievalConfig, known_authors: list[str] | None = None
) -> QueryMeta:
    known = [a for a in (known_authors or []) if a]
    meta = _rules(request, known)
    if settings.self_query == "llm" and settings.llm.enabled:
        try:
            llm_meta = _llm(request, settings, known)
            meta = QueryMeta(
                author=llm_meta.author or meta.author,
                platform=llm_meta.platform or meta.platform,
                is_code=llm_meta.is_code or meta.is_code,
            )
        except (LLMError, ValueError) as exc:
            log.warning("LLM self-query failed, using rules: %s", exc)
    # Explicit request fields win; the configured author is the default twin.
    meta.author = request.author or meta.author or settings.default_author
    if request.platform:
        meta.platform = request.platform.lower()
    types: list[str] = list(settings.data_types)
    if meta.is_code and "code" in types:
        types = ["code"] + [t for t in types if t != "code"]
    meta.data_types = types
    return meta
