"""Crawlers against the local site: realistic platform pages parse into the right documents, and each
bad input yields an error naming its cause."""

from __future__ import annotations

import time

import pytest

from llm_twin.config import CrawlConfig
from llm_twin.crawlers import CollectError, CrawlerRegistry
from llm_twin.crawlers.http import HttpClient, RateLimiter, parse_retry_after
from llm_twin.domain.documents import Article, DataType, Post, User
from tests.configs import configured

AUTHOR = User(first_name="Maya", last_name="Lindqvist")


def crawl(config: CrawlConfig, url: str):
    registry = CrawlerRegistry(config)
    try:
        return registry.get(url).crawl(url, AUTHOR)
    finally:
        registry.close()


def test_medium_story(site, crawl_config):
    url = site.url("/medium/@maya.lindqvist/why-your-vector-index-forgets-things-3f9c2a1b7d4e")
    doc = crawl(crawl_config, url)
    assert isinstance(doc, Article) and doc.platform == "medium"
    assert doc.content["title"] == "Why Your Vector Index Forgets Things"
    assert doc.content["subtitle"] == "HNSW recall is a budget, not a constant."
    text = doc.content["text"]
    assert "## The ef_search budget" in text
    assert "```python\nfrom qdrant_client import models\n\nparams = models.SearchParams(hnsw_ef=256)\n```" in text
    assert "- Measure recall against brute force every week." in text
    assert "> An index is a promise" in text
    assert "Why Your Vector Index" not in text  # title not repeated in the body
    assert "Sign in" not in text and "Recall against index size" not in text
    assert doc.published_at is not None and doc.published_at.year == 2025 and doc.published_at.month == 3
    assert doc.link == url  # canonical URL


def test_substack_post(site, crawl_config):
    doc = crawl(crawl_config, site.url("/substack/p/evaluate-retrieval-before-answers?utm_source=feed"))
    assert doc.platform == "substack" and doc.data_type is DataType.ARTICLE
    assert doc.content["title"] == "Evaluate Retrieval Before You Evaluate Answers"
    assert doc.content["subtitle"].startswith("A RAG system is two systems")
    assert "## Recall@k first" in doc.content["text"]
    assert "def recall_at_k(retrieved, relevant, k=5):\n    hits = len(set(retrieved[:k]) & set(relevant))" in doc.content["text"]
    assert "Subscribe" not in doc.content["text"]
    assert doc.published_at.isoformat().startswith("2025-05-02")
    assert doc.link == site.url("/substack/p/evaluate-retrieval-before-answers")  # tracking params dropped


def test_linkedin_post_and_article(site, crawl_config):
    post = crawl(crawl_config, site.url(
        "/linkedin/posts/maya-lindqvist_dead-letter-queues-activity-7301234567890123456-AbCd"))
    assert isinstance(post, Post) and post.platform == "linkedin"
    assert post.content["text"].startswith("Dead-letter queues are not a trash can.\n\nEvery message")
    assert post.published_at.isoformat().startswith("2025-04-08")

    article = crawl(crawl_config, site.url("/linkedin/pulse/feature-stores-time-storage-maya-lindqvist-x1y2z"))
    assert isinstance(article, Article) and article.platform == "linkedin"
    assert article.content["title"] == "Feature stores are about time, not storage"
    assert "## Point-in-time joins" in article.content["text"]
    assert "```\nSELECT l.user_id" in article.content["text"]
    assert "ML platform engineer" not in article.content["text"]


def test_linkedin_authwall_names_the_export(site, crawl_config):
    with pytest.raises(CollectError) as err:
        crawl(crawl_config, site.url("/linkedin/posts/members-only"))
    assert err.value.reason == "login_required" and "data export" in err.value.message


def test_generic_article_and_redirect_chain(site, crawl_config):
    doc = crawl(crawl_config, site.url("/go/backpressure"))  # 301 → 307 → article
    assert doc.platform == "web"
    assert doc.link == site.url("/blog/backpressure-is-a-feature")
    assert doc.content["title"] == "Backpressure Is a Feature"
    assert doc.content["subtitle"] == "What a slow consumer is trying to tell you."
    text = doc.content["text"]
    assert text.startswith(("Posted on 30 November 2024", "When a Kafka consumer"))
    assert "## Where the lag comes from" in text and "### What to do first" in text
    assert '```python\nconsumer = Consumer({\n    "bootstrap.servers"' in text
    assert "1. Measure processing time per message." in text
    for noise in ("Popular", "Something else entirely", "Subscribe", "analytics", "© 2024"):
        assert noise not in text
    assert doc.published_at.isoformat() == "2024-11-30T09:00:00+01:00"


def test_user_agent_is_sent(site, crawl_config):
    crawl(crawl_config, site.url("/blog/backpressure-is-a-feature"))
    assert site.user_agents[-1] == crawl_config.user_agent


def test_500_then_200_is_retried(site, crawl_config):
    before = site.hits["/blog/flaky"]
    doc = crawl(crawl_config, site.url("/blog/flaky"))
    assert doc.link.endswith("/blog/flaky") and site.hits["/blog/flaky"] == before + 2


def test_429_honours_retry_after(site, crawl_config):
    started = time.monotonic()
    doc = crawl(crawl_config, site.url("/blog/busy"))
    assert doc.link.endswith("/blog/busy")
    assert time.monotonic() - started >= 0.95  # waited the Retry-After second, not the 0.05 s backoff


@pytest.mark.parametrize(
    ("path", "reason", "words"),
    [
        ("/blog/malformed", "no_content", "malformed"),
        ("/blog/missing", "http_404", "404"),
        ("/blog/down", "http_503", "gave up after 2 attempts"),
        ("/blog/throttled", "rate_limited", "Retry-After 3600"),
        ("/blog/slow", "timeout", "0.5 s"),
        ("/hop/1", "too_many_redirects", "longer than 3"),
        ("/files/report.pdf", "content_type", "application/pdf"),
        ("/blog/huge", "too_large", "100000 byte limit"),
        ("/blog/huge-stream", "too_large", "100000 byte limit"),
        ("/private/notes", "robots_disallowed", "/private/notes"),
    ],
)
def test_bad_inputs_name_their_cause(site, crawl_config, path, reason, words):
    with pytest.raises(CollectError) as err:
        crawl(crawl_config, site.url(path))
    assert err.value.reason == reason
    assert words in str(err.value)


def test_private_addresses_refused_by_default(site):
    with pytest.raises(CollectError) as err:
        crawl(configured("crawl"), site.url("/blog/backpressure-is-a-feature"))
    assert err.value.reason == "private_address" and "allow_private_addresses" in err.value.message


def test_domain_map_and_fallback():
    registry = CrawlerRegistry(configured("crawl", crawlers={"medium.com": "medium", "towardsdatascience.com": "medium",
                                                     "example.com/blog": "substack"}))
    assert registry.name_for("https://maya.medium.com/x") == "medium"
    assert registry.name_for("https://towardsdatascience.com/x") == "medium"
    assert registry.name_for("https://example.com/blog/x") == "substack"
    assert registry.name_for("https://example.com/about") == "generic"
    assert registry.name_for("https://unknown.org/post") == "generic"
    with pytest.raises(ValueError, match="unknown crawler"):
        CrawlerRegistry(configured("crawl", crawlers={"x.com": "nope"}))


def test_rate_limiter_spaces_requests_per_host():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(lambda host: 2.0 if host == "slow.example" else 0.5, clock=lambda: now[0], sleep=sleep)
    limiter.wait("slow.example")
    limiter.wait("slow.example")
    limiter.wait("other.example")  # other hosts are not held up
    limiter.wait("other.example")
    assert slept == [2.0, 0.5]


def test_retry_after_parsing():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == pytest.approx(60.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_robots_for_other_agents(site, crawl_config):
    client = HttpClient(crawl_config.model_copy(update={"user_agent": "BadBot/1.0"}))
    with pytest.raises(CollectError) as err:
        client.get(site.url("/blog/backpressure-is-a-feature"))
    assert err.value.reason == "robots_disallowed"
