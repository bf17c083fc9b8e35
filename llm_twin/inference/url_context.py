"""Ground a generation in a web page given with the request ("write a post based on this article").

The page is fetched with a timeout and a size cap, cleaned to text, chunked, and its chunks most similar
to the instruction are used as context beside the author's own content. The fetch refuses anything but
http(s) and any host that resolves to a private, loopback, link-local or reserved address (checked again
on every redirect) unless `allow_private` is set: a public service must not become a proxy into the
network it runs in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
from urllib.parse import urljoin, urlparse

import numpy as np
import requests

from llm_twin.config.serving import UrlConfig
from llm_twin.embedding import Embedder
from llm_twin.rag.models import RetrievedChunk


class UrlRejected(ValueError):
    """The URL is not allowed (scheme, private address...): a 4xx for the client."""


class UrlFetchFailed(RuntimeError):
    """The page could not be fetched or has no text: a 4xx/502 for the client."""


def check_url(url: str, allow_private: bool = False) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UrlRejected(f"only absolute http(s) URLs are allowed, got {url!r}")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise UrlFetchFailed(f"cannot resolve {parsed.hostname!r}: {exc}") from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved or addr.is_multicast or addr.is_unspecified:
            raise UrlRejected(f"{parsed.hostname} resolves to a non-public address ({addr}); not allowed")
    return url


def fetch(url: str, settings: UrlConfig) -> str:
    """Return the HTML/text of `url`, following at most `max_redirects` checked redirects."""
    current = url
    for _ in range(settings.max_redirects + 1):
        check_url(current, settings.allow_private)
        try:
            resp = requests.get(current, timeout=settings.timeout_s, stream=True, allow_redirects=False,
                                headers={"User-Agent": "llm-twin/0.1 (+grounding)"})
        except requests.RequestException as exc:
            raise UrlFetchFailed(f"fetching {current} failed: {exc}") from exc
        if resp.is_redirect:
            current = urljoin(current, resp.headers.get("Location", ""))
            resp.close()
            continue
        if resp.status_code >= 400:
            raise UrlFetchFailed(f"fetching {current} returned HTTP {resp.status_code}")
        body = b""
        for block in resp.iter_content(65536):
            body += block
            if len(body) > settings.max_bytes:
                break
        resp.close()
        return body[: settings.max_bytes].decode(resp.encoding or "utf-8", errors="replace")
    raise UrlFetchFailed(f"too many redirects from {url}")


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
