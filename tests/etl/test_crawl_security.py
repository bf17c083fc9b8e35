"""The crawler under the fetcher's policy: robots.txt goes through the same checked fetch (a redirect to a
private address is not followed), page redirects are checked per hop, and a name that rebinds between
fetches never reaches the internal address."""

from __future__ import annotations

import pytest

from llm_twin.config import CrawlConfig
from llm_twin.crawlers import CollectError
from llm_twin.crawlers.http import HttpClient
from tests.configs import configured
from tests.web.conftest import INTERNAL, PUBLIC, page, redirect

ARTICLE = b"<html><body><article><h1>T</h1><p>" + b"words " * 80 + b"</p></article></body></html>"


@pytest.fixture()
def config() -> CrawlConfig:
    """Loopback is refused except 127.0.0.2, which stands for a public address here."""
    return configured("crawl", connect_timeout_s=1, read_timeout_s=1, total_timeout_s=5,
                      allowed_networks=[f"{PUBLIC}/32"],
                      retries={"max_attempts": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.02},
                      rate_limit={"min_interval_s": 0})


def test_robots_redirect_to_a_private_address_is_not_followed(twin_servers, config):
    public, internal = twin_servers
    public.routes["/robots.txt"] = redirect(internal.url("/robots.txt"))
    public.routes["/article"] = page(ARTICLE)
    internal.routes["/robots.txt"] = page(b"User-agent: *\nAllow: /\n", "text/plain")
    with pytest.raises(CollectError) as err:
        HttpClient(config).get(public.url("/article"))
    assert err.value.reason == "robots_unreachable"  # RFC 9309: unreachable robots.txt means disallow
    assert "private_address" in err.value.message and "127.0.0.1" in err.value.message
    assert internal.total_hits == 0 and public.hits["/article"] == 0


def test_robots_redirect_to_an_allowed_address_is_followed(servers, config):
    site = servers(PUBLIC)
    site.routes["/robots.txt"] = redirect("/rules.txt", 301)
    site.routes["/rules.txt"] = page(b"User-agent: *\nDisallow: /blocked\n", "text/plain")
    site.routes["/article"] = page(ARTICLE)
    client = HttpClient(config)
    assert client.get(site.url("/article")).body == ARTICLE
    with pytest.raises(CollectError) as err:
        client.get(site.url("/blocked"))
    assert err.value.reason == "robots_disallowed" and site.hits["/blocked"] == 0


def test_robots_404_allows_and_robots_5xx_disallows(servers, config):
    site = servers(PUBLIC)
    site.routes["/article"] = page(ARTICLE)
    assert HttpClient(config).get(site.url("/article")).status == 200  # no robots.txt: 404, everything allowed
    site.routes["/robots.txt"] = lambda h: h.send_error(500)
    with pytest.raises(CollectError) as err:
        HttpClient(config).get(site.url("/article"))
    assert err.value.reason == "robots_unreachable" and "gave up after 2 attempts" in err.value.message


def test_page_redirect_to_a_private_address_is_refused(twin_servers, config):
    public, internal = twin_servers
    public.routes["/robots.txt"] = page(b"", "text/plain")
    public.routes["/go"] = redirect(internal.url("/secret"))
    with pytest.raises(CollectError) as err:
        HttpClient(config).get(public.url("/go"))
    assert err.value.reason == "private_address" and "crawl.allow_private_addresses" in err.value.message
    assert internal.total_hits == 0


def test_rebinding_between_robots_and_page_never_reaches_the_internal_address(twin_servers, dns, config):
    """The page's lookup answers the public address, the robots.txt lookup then 127.0.0.1: each fetch checks
    its own answer, so the robots.txt fetch is refused (and with it the page, per RFC 9309)."""
    public, internal = twin_servers
    public.routes["/robots.txt"] = page(b"User-agent: *\nAllow: /\n", "text/plain")
    public.routes["/article"] = page(ARTICLE)
    dns.set("blog.test", [PUBLIC], [INTERNAL])
    with pytest.raises(CollectError) as err:
        HttpClient(config).get(f"http://blog.test:{public.port}/article")
    assert err.value.reason == "robots_unreachable" and "blog.test resolves to 127.0.0.1" in err.value.message
    assert internal.total_hits == 0 and public.total_hits == 0
    dns.set("blog.test", [PUBLIC], [PUBLIC], [INTERNAL])  # page and robots.txt public, a retry would rebind
    client = HttpClient(config)
    assert client.get(f"http://blog.test:{public.port}/article").body == ARTICLE
    with pytest.raises(CollectError) as err:
        client.get(f"http://blog.test:{public.port}/article")
    assert err.value.reason == "private_address" and internal.total_hits == 0


def test_allow_private_addresses_opens_loopback_but_never_metadata(twin_servers):
    _, internal = twin_servers
    internal.routes["/robots.txt"] = page(b"", "text/plain")
    internal.routes["/article"] = page(ARTICLE)
    open_config = configured("crawl", allow_private_addresses=True, respect_robots=True,
                             rate_limit={"min_interval_s": 0})
    assert HttpClient(open_config).get(internal.url("/article")).body == ARTICLE
    with pytest.raises(CollectError) as err:
        HttpClient(open_config).get("http://169.254.169.254/latest/meta-data/")
    assert err.value.reason == "private_address" and "always refused" in err.value.message
