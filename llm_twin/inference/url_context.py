"""Ground a generation in a web page given with the request ("write a post based on this article").

The page is fetched through the project's one fetcher (`llm_twin.web`), cleaned to text, chunked, and its
chunks most similar to the instruction are used as context beside the author's own content. The fetch
refuses anything but http(s) and every host that resolves to a non-public address (loopback, private,
link-local, carrier-grade NAT, IPv4-mapped / 6to4 / Teredo forms of those, cloud metadata...) unless
`allow_private` (or `allowed_networks`) says otherwise; it connects to the address it checked (no DNS
rebinding), checks every redirect hop the same way, and stops at a connect/read timeout, a total
deadline and a size cap: a public service must not become a proxy into the network it runs in, nor be
held by a slow server. A refused URL is a `UrlRejected` (400), any other failure a `UrlFetchFailed` (422).
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from llm_twin.config.serving import UrlConfig
from llm_twin.embedding import Embedder
from llm_twin.rag.models import RetrievedChunk
from llm_twin.web import AddressPolicy, Fetcher, FetchError, FetchLimits, parse_target, resolve_checked

USER_AGENT = "llm-twin/0.1 (+grounding)"


class UrlRejected(ValueError):
    """The URL is not allowed (scheme, private address...): a 4xx for the client."""


class UrlFetchFailed(RuntimeError):
    """The page could not be fetched or has no text: a 4xx/502 for the client."""


def _policy(allow_private: bool, allowed_networks: list[str] | tuple[str, ...] = ()) -> AddressPolicy:
    return AddressPolicy.of(allow_private, allowed_networks, setting="serving.url.allow_private")


def _mapped(exc: FetchError) -> UrlRejected | UrlFetchFailed:
    return UrlRejected(exc.message) if exc.refused else UrlFetchFailed(f"{exc.reason}: {exc.message}")


def check_url(url: str, allow_private: bool = False, allowed_networks: list[str] | tuple[str, ...] = ()) -> str:
    """`url` if it may be fetched: absolute http(s), and every address of its host allowed."""
    try:
        target = parse_target(url)
        resolve_checked(target.host, target.port, _policy(allow_private, allowed_networks), timeout_s=10.0)
    except FetchError as exc:
        raise _mapped(exc) from exc
    return url


def fetch(url: str, settings: UrlConfig) -> str:
    """Return the HTML/text of `url`, following at most `max_redirects` checked redirects."""
    fetcher = Fetcher(_policy(settings.allow_private, settings.allowed_networks),
                      headers={"User-Agent": USER_AGENT, "Accept": "text/html,text/plain;q=0.9"})
    limits = FetchLimits(connect_timeout_s=settings.timeout_s, read_timeout_s=settings.timeout_s,
                         total_timeout_s=settings.total_timeout_s, max_bytes=settings.max_bytes,
                         max_redirects=settings.max_redirects, content_types=tuple(settings.content_types),
                         truncate=True)
    try:
        return fetcher.get(url, limits).text
    except FetchError as exc:
        raise _mapped(exc) from exc


def clean_html(html: str) -> tuple[str, str]:
    """(title, readable text) without scripts, styles and navigation."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    root = soup.find("article") or soup.find("main") or soup.body or soup
    text = root.get_text("\n", strip=True)
    text = re.sub(r"\n{2,}", "\n", text)
    return title, text


def chunk_words(text: str, size: int) -> list[str]:
    words = text.split()
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def url_chunks(url: str, instruction: str, settings: UrlConfig, embedder: Embedder) -> list[RetrievedChunk]:
    """The page's chunks most relevant to the instruction, as context chunks with their source link."""
    if not settings.enabled:
        raise UrlRejected("URL grounding is disabled by configuration (serving.url.enabled)")
    title, text = clean_html(fetch(url, settings))
    chunks = chunk_words(text, settings.chunk_words)
    if not chunks:
        raise UrlFetchFailed(f"{url} has no readable text")
    vectors = embedder.encode([instruction] + chunks)
    scores = vectors[1:] @ vectors[0]
    order = np.argsort(-scores)[: settings.max_chunks]
    doc_id = "url-" + hashlib.sha256(url.encode()).hexdigest()[:16]
    return [
        RetrievedChunk(
            id=f"{doc_id}:{int(i)}", document_id=doc_id, chunk_index=int(i), data_type="url", platform="web",
            author="", link=url, title=title, text=chunks[int(i)], score=round(float(scores[int(i)]), 6),
        )
        for i in order
    ]
