"""Fixtures of the data-collection tests: a local website (http.server in a thread) serving pages modelled
on Medium, Substack, LinkedIn and a personal blog plus every kind of bad response, a fast crawl config
aimed at it, and a warehouse on the shared nx-27017 server with a fresh database per test.

For author discovery the site also serves a Substack-like publication (`/substack`: `/feed`,
`/sitemap.xml`, `/p/<slug>`), a Medium-like profile (`/medium/@maya.lindqvist`, its feed at
`/medium/feed/@maya.lindqvist`, stories behind a bot check that answers 403), a blog with an RSS 2.0 feed
(`content:encoded`) and a sitemap index, an Atom feed (`/notes/atom.xml`), and broken or hostile XML
(`/bad/...`); the documents are in `pages/feeds/`."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llm_twin.config import CrawlConfig
from llm_twin.connections import Connections
from llm_twin.warehouse import Warehouse
from tests.configs import configured

# Local servers on chosen loopback addresses and a stub resolver for `.test` names (see tests/web/conftest.py).
from tests.web.conftest import dns, servers, twin_servers  # noqa: F401

PAGES = Path(__file__).parent / "pages"
FEEDS = PAGES / "feeds"
ROBOTS = "User-agent: *\nDisallow: /private/\n\nUser-agent: BadBot\nDisallow: /\n"
POSTS = json.loads((FEEDS / "posts.json").read_text(encoding="utf-8"))
XML_DOCUMENTS = {  # path -> (file in pages/feeds, content type), as the platforms serve them
    "/substack/feed": ("substack_feed.xml", "application/xml; charset=utf-8"),
    "/substack/sitemap.xml": ("substack_sitemap.xml", "application/xml"),
    "/medium/feed/@maya.lindqvist": ("medium_feed.xml", "text/xml; charset=UTF-8"),
    "/blog/feed.xml": ("blog_feed.xml", "application/rss+xml; charset=utf-8"),
    "/blog/latest": ("blog_feed.xml", "application/rss+xml; charset=utf-8"),  # a feed at a page-like URL
    "/blog/digest": ("blog_feed.xml", "text/html; charset=utf-8"),  # a feed served as HTML: found by its body
    "/blog/sitemap.xml": ("blog_sitemap_index.xml", "application/xml"),
    "/blog/sitemap-posts.xml": ("blog_sitemap_posts.xml", "application/xml"),
    "/blog/sitemap-tags.xml": ("blog_sitemap_tags.xml", "application/xml"),
    "/blog/sitemap-broken.xml": ("blog_sitemap_broken.xml", "application/xml"),
    "/notes/atom.xml": ("notes_atom.xml", "application/atom+xml"),
    "/bad/feed.xml": ("bad_truncated_feed.xml", "application/rss+xml"),
    "/bad/bomb.xml": ("bad_billion_laughs.xml", "application/rss+xml"),
    "/bad/sitemap.xml": ("bad_external_entity.xml", "application/xml"),
}
BOT_CHECKED = {  # Medium stories that answer crawlers with a bot check (Cloudflare's 403 challenge)
    "/medium/@maya.lindqvist/idempotent-consumers-in-practice-8a1b2c3d4e5f",
    "/medium/@maya.lindqvist/the-cost-of-a-cold-cache-5e6f7a8b9c0d",
}
ALWAYS_DOWN = {"/substack/p/reranking-on-a-budget": 503, "/notes/vector-quantization-field-guide": 502}


class Site:
    """State of the local website: request log and per-path hit counters."""

    def __init__(self) -> None:
        self.base = ""
        self.hits: dict[str, int] = defaultdict(int)
        self.user_agents: list[str] = []
        self.lock = threading.Lock()
        # test-specific answers: path -> (status, body, content type)
        self.routes: dict[str, tuple[int, bytes, str]] = {}

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, name: str) -> bytes:
        return (PAGES / name).read_text(encoding="utf-8").replace("{base}", self.base).encode("utf-8")

    def post(self, path: str) -> bytes | None:
        """A post page of `pages/feeds/posts.json`, in its platform's layout."""
        post = POSTS.get(path.lstrip("/"))
        if post is None:
            return None
        template = "substack_post.html.tmpl" if path.startswith("/substack/") else "blog_post.html.tmpl"
        html = (FEEDS / template).read_text(encoding="utf-8")
        return html.format(base=self.base, path=path.lstrip("/"), **post).encode("utf-8")


def _make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None, length: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            with site.lock:
                site.hits[path] += 1
                hits = site.hits[path]
                site.user_agents.append(self.headers.get("User-Agent", ""))
            pages = {
                "/medium/@maya.lindqvist/why-your-vector-index-forgets-things-3f9c2a1b7d4e": "medium_story.html",
                "/substack/p/evaluate-retrieval-before-answers": "substack_post.html",
                "/linkedin/posts/maya-lindqvist_dead-letter-queues-activity-7301234567890123456-AbCd": "linkedin_post.html",
                "/linkedin/pulse/feature-stores-time-storage-maya-lindqvist-x1y2z": "linkedin_article.html",
                "/blog/backpressure-is-a-feature": "generic_article.html",
                "/blog/malformed": "malformed.html",
            }
            if path == "/robots.txt":
                return self._send(200, ROBOTS.encode(), "text/plain")
            if path in site.routes:
                status, body, ctype = site.routes[path]
                return self._send(status, body.replace(b"{base}", site.base.encode()), ctype)
            if path in XML_DOCUMENTS:
                name, ctype = XML_DOCUMENTS[path]
                return self._send(200, site.page(f"feeds/{name}"), ctype)
            if path in BOT_CHECKED:
                return self._send(403, site.page("feeds/medium_bot_check.html"),
                                  headers={"cf-mitigated": "challenge", "Cache-Control": "no-store"})
            if path in ALWAYS_DOWN:
                return self._send(ALWAYS_DOWN[path], b"<h1>Service Unavailable</h1>")
            post = site.post(path)
            if post is not None:
                return self._send(200, post)
            if path in pages:
                return self._send(200, site.page(pages[path]))
            if path == "/blog/flaky":  # 500 then 200 (odd hits fail, so every crawl sees the pair)
                if hits % 2 == 1:
                    return self._send(500, b"<h1>Internal Server Error</h1>")
                return self._send(200, site.page("generic_article.html").replace(b"/blog/backpressure-is-a-feature", b"/blog/flaky"))
            if path == "/blog/down":
                return self._send(503, b"<h1>Service Unavailable</h1>")
            if path == "/blog/busy":  # 429 with a short Retry-After, then 200
                if hits % 2 == 1:
                    return self._send(429, b"slow down", headers={"Retry-After": "1"})
                return self._send(200, site.page("generic_article.html").replace(b"/blog/backpressure-is-a-feature", b"/blog/busy"))
            if path == "/blog/throttled":
                return self._send(429, b"slow down", headers={"Retry-After": "3600"})
            if path == "/blog/slow":
                time.sleep(1.5)
                return self._send(200, site.page("generic_article.html"))
            if path.startswith("/hop/"):
                n = int(path.rsplit("/", 1)[1])
                return self._send(302, b"", headers={"Location": f"/hop/{n + 1}"})
            if path == "/go/backpressure":  # a short redirect chain that ends on a real article
                return self._send(301, b"", headers={"Location": "/go/backpressure-2"})
            if path == "/go/backpressure-2":
                return self._send(307, b"", headers={"Location": site.url("/blog/backpressure-is-a-feature?utm_source=x")})
            if path == "/files/report.pdf":
                return self._send(200, b"%PDF-1.7\n" + b"0" * 500, "application/pdf")
            if path == "/blog/huge":
                return self._send(200, b"<html><body>" + b"<p>lorem ipsum</p>" * 20_000 + b"</body></html>")
            if path == "/blog/huge-stream":  # no Content-Length: the limit must hold while streaming
                return self._send(200, b"<html><body>" + b"<p>lorem ipsum</p>" * 20_000 + b"</body></html>", length=False)
            if path == "/linkedin/posts/members-only":
                return self._send(302, b"", headers={"Location": "/linkedin/authwall?trk=public_post"})
            if path == "/linkedin/authwall":
                return self._send(200, b"<html><body><h1>Join LinkedIn</h1><form><input name=email></form></body></html>")
            if path.startswith("/private/"):
                return self._send(200, site.page("generic_article.html"))
            return self._send(404, b"<h1>Not Found</h1>")

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # the crawler hangs up on oversize/slow pages
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    state = Site()
    server = QuietServer(("127.0.0.1", 0), _make_handler(state))
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="etl-test-site", daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture()
def crawl_config(site: Site) -> CrawlConfig:
    """Fast, bounded settings aimed at the local site (loopback allowed, near-zero backoff)."""
    netloc = site.base.split("://", 1)[1]
    return configured(
        "crawl",
        user_agent="LLMTwinBot-test/0.1 (+https://example.invalid/bot)",
        connect_timeout_s=1.0,
        read_timeout_s=0.5,
        total_timeout_s=5.0,
        max_body_bytes=100_000,
        max_redirects=3,
        allow_private_addresses=True,
        retries={"max_attempts": 2, "backoff_base_s": 0.05, "backoff_max_s": 0.1, "retry_after_max_s": 5},
        rate_limit={"min_interval_s": 0.0, "per_domain": {}},
        crawlers={
            f"{netloc}/medium": "medium",
            f"{netloc}/substack": "substack",
            f"{netloc}/linkedin": "linkedin",
            "medium.com": "medium",
            "github.com": "github",
        },
    )


@pytest.fixture()
def warehouse(connections: Connections) -> Iterator[Warehouse]:
    """A warehouse on the shared nx-27017 server, in a database of its own."""
    wh = Warehouse(connections.replace(mongo_database=f"etl_{uuid.uuid4().hex[:10]}"))
    yield wh
    wh.client.drop_database(wh.db.name)
    wh.close()
