"""URL grounding (`/generate` with a url) on the shared fetcher: refusals are `UrlRejected` (400), every other
failure a `UrlFetchFailed` (422), and the serving settings (conf/serving/default.yaml) drive the limits."""

from __future__ import annotations

import time

import pytest

from llm_twin.config.serving import UrlConfig
from llm_twin.inference.url_context import UrlFetchFailed, UrlRejected, check_url, fetch
from tests.configs import configured
from tests.web.conftest import INTERNAL, PUBLIC, page, redirect, send


def settings(**update) -> UrlConfig:
    """The shipped serving.url settings, with 127.0.0.2 standing for a public address."""
    return configured("serving", url={"allowed_networks": [f"{PUBLIC}/32"], **update}).url


def test_shipped_settings_have_a_total_deadline():
    shipped = configured("serving").url
    assert shipped.total_timeout_s == 20 and not shipped.allow_private and shipped.allowed_networks == []


def test_page_is_fetched_and_cut_at_max_bytes(servers):
    site = servers()
    site.routes["/article"] = page(b"<html><body><p>" + b"word " * 2000 + b"</p></body></html>")
    assert fetch(site.url("/article"), settings()).startswith("<html><body><p>word word")
    assert len(fetch(site.url("/article"), settings(max_bytes=1024))) == 1024


def test_refusals_are_url_rejected(twin_servers, dns):
    public, internal = twin_servers
    public.routes["/go"] = redirect(internal.url("/secret"))
    dns.set("rebind.test", [INTERNAL])
    for url in (internal.url("/secret"), public.url("/go"), f"http://rebind.test:{internal.port}/secret",
                "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
                "http://user:pw@example.test/"):
        with pytest.raises(UrlRejected):
            fetch(url, settings())
    assert internal.total_hits == 0
    with pytest.raises(UrlRejected, match="non-public address"):
        check_url(internal.url("/"))
    assert check_url(internal.url("/"), allow_private=True) == internal.url("/")
    with pytest.raises(UrlRejected, match="always refused"):
        check_url("http://169.254.169.254/", allow_private=True)


def test_failures_are_url_fetch_failed(servers):
    site = servers()
    site.routes["/bad-redirect"] = redirect("http://[::1")
    site.routes["/pdf"] = page(b"%PDF", "application/pdf")
    site.routes["/error"] = lambda h: send(h, 503, b"down")

    def drip(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        try:
            for _ in range(1000):
                handler.wfile.write(b"<p>x</p>")
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    site.routes["/drip"] = drip
    for path, words in [("/bad-redirect", "bad_redirect"), ("/pdf", "application/pdf"), ("/error", "HTTP 503")]:
        with pytest.raises(UrlFetchFailed, match=words):
            fetch(site.url(path), settings())
    started = time.monotonic()
    with pytest.raises(UrlFetchFailed, match="total deadline of 1 s"):
        fetch(site.url("/drip"), settings(timeout_s=1, total_timeout_s=1))
    assert time.monotonic() - started < 2


def test_bad_allowed_networks_setting_is_a_validation_error():
    with pytest.raises(ValueError, match="allowed_networks"):
        settings(allowed_networks=["10.0.0.0/33"])
