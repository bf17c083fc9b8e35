"""Author discovery against the local site: one feed, sitemap, Substack publication or Medium profile link
collects every post it lists (from the page, or from the feed's content where the page cannot be
fetched), re-running changes nothing, and broken, hostile or private inputs fail with their cause."""

from __future__ import annotations

import pytest

from llm_twin.collection import CollectionReport, ItemStatus, collect_author
from llm_twin.config import CrawlConfig
from llm_twin.crawlers import CrawlerRegistry
from llm_twin.crawlers.discovery import Discoverer, Plan
from tests.configs import author as author_config
from tests.configs import configured
from tests.web.conftest import PUBLIC, page

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>
<link>{base}/</link>{items}</channel></rss>"""
TEXT = "A post that only exists in the feed, long enough to be an article body. " * 5


def item(title: str, link: str, content: bool = True) -> str:
    body = f"<content:encoded><![CDATA[<p>{TEXT}</p>]]></content:encoded>" if content else "<description>s</description>"
    return f"<item><title>{title}</title><link>{link}</link><pubDate>Sun, 12 Jan 2025 08:00:00 +0100</pubDate>{body}</item>"
ARTICLE = b"<html><body><article><h1>Post</h1><p>" + b"Words of the author's own post. " * 12 + b"</p></article></body></html>"


def run(site_config: CrawlConfig, warehouse, *links: str) -> CollectionReport:
    return collect_author(author_config(links=list(links)), site_config, warehouse, progress=False)


def source(report: CollectionReport, link: str):
    return next(s for s in report.sources if s.source == link)


def counts(row) -> dict[str, int]:
    return {k: getattr(row, k) for k in ("found", "crawled", "from_feed", "failed", "over_limit", "duplicates")}


def with_discovery(config: CrawlConfig, **changes) -> CrawlConfig:
    return config.model_copy(update={"discovery": config.discovery.model_copy(update=changes)})


# ---- which links expand, by URL -----------------------------------------------------------------------------
@pytest.mark.parametrize(("link", "kind", "documents"), [
    ("https://maya.substack.com", "substack", ("https://maya.substack.com/feed", "https://maya.substack.com/sitemap.xml")),
    ("https://maya.substack.com/archive", "substack", ("https://maya.substack.com/feed",
                                                       "https://maya.substack.com/sitemap.xml")),
    ("https://jane.dev/", "substack", ("https://jane.dev/feed", "https://jane.dev/sitemap.xml")),  # custom domain
    ("https://medium.com/@maya", "medium", ("https://medium.com/feed/@maya",)),
    ("https://medium.com/@maya/", "medium", ("https://medium.com/feed/@maya",)),
    ("https://maya.medium.com", "medium", ("https://maya.medium.com/feed",)),
    ("https://medium.com/feed/@maya", "feed", ("https://medium.com/feed/@maya",)),
    ("https://maya.dev/feed.xml", "feed", ("https://maya.dev/feed.xml",)),
    ("https://maya.dev/blog/rss", "feed", ("https://maya.dev/blog/rss",)),
    ("https://maya.dev/index.xml", "feed", ("https://maya.dev/index.xml",)),
    ("https://maya.dev/posts.atom", "feed", ("https://maya.dev/posts.atom",)),
    ("https://maya.dev/?feed=rss2", "feed", ("https://maya.dev/?feed=rss2",)),
    ("https://maya.dev/sitemap.xml", "sitemap", ("https://maya.dev/sitemap.xml",)),
    ("https://maya.dev/post-sitemap2.xml", "sitemap", ("https://maya.dev/post-sitemap2.xml",)),
])
def test_links_that_expand_by_url(link, kind, documents):
    config = configured("crawl", crawlers={**configured("crawl").crawlers, "jane.dev": "substack"})
    assert Discoverer(config, CrawlerRegistry(config)).plan(link) == Plan(
        kind, documents, post_prefix="/p/" if kind == "substack" else None)


@pytest.mark.parametrize("link", [
    "https://maya.substack.com/p/evaluate-retrieval", "https://substack.com/", "https://medium.com/",
    "https://medium.com/@maya/why-your-index-forgets-3f9c2a1b7d4e", "https://maya.dev/blog/backpressure",
    "https://github.com/maya/feed", "https://maya.dev/sitemap", "file:///tmp/feed.xml",
])
def test_links_that_do_not_expand(link):
    config = configured("crawl")
    assert Discoverer(config, CrawlerRegistry(config)).plan(link) is None
    off = configured("crawl", discovery={"enabled": False})
    assert Discoverer(off, CrawlerRegistry(off)).plan("https://maya.substack.com") is None


# ---- platforms ---------------------------------------------------------------------------------------------
def test_substack_publication_collects_feed_and_sitemap_posts(site, crawl_config, warehouse):
    publication = site.url("/substack")
    report = run(crawl_config, warehouse, publication)
    row = source(report, publication)
    assert row.kind == "substack" and row.read == [site.url("/substack/feed"), site.url("/substack/sitemap.xml")]
    # 3 posts in the feed + 1 older post only in the sitemap; home, archive and about are not posts
    assert counts(row) == {"found": 4, "crawled": 3, "from_feed": 1, "failed": 0, "over_limit": 0, "duplicates": 0}
    assert row.excluded == 3 and row.errors == []
    assert report.counts() == {"new": 4, "updated": 0, "unchanged": 0, "failed": 0}
    assert {i.platform for i in report.items} == {"substack"}
    assert {i.discovered_from for i in report.items} == {publication}

    # the post whose page is down (503) comes from the feed's content:encoded, Substack's widgets removed
    down = site.url("/substack/p/reranking-on-a-budget")
    item = next(i for i in report.items if i.link == down)
    assert item.from_feed and "http_503" in item.note
    doc = warehouse.get_by_link("articles", down)
    assert doc.content["title"] == "Reranking on a Budget"
    assert doc.content["subtitle"] == "A cross-encoder over twenty candidates beats a bigger index."
    assert "The trick is to rerank few candidates." in doc.content["text"]
    assert "Thanks for reading" not in doc.content["text"]
    assert doc.published_at.isoformat() == "2025-03-21T07:00:00+00:00"
    older = warehouse.get_by_link("articles", site.url("/substack/p/why-we-version-embeddings"))
    assert "## One collection per model" in older.content["text"]  # crawled from its page

    again = run(crawl_config, warehouse, publication)  # re-running changes nothing
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 4, "failed": 0}
    assert counts(source(again, publication)) == counts(row)
    assert warehouse.counts(report.author_id) == {"articles": 4, "posts": 0, "repositories": 0}


def test_medium_profile_falls_back_to_feed_content_behind_the_bot_check(site, crawl_config, warehouse):
    profile = site.url("/medium/@maya.lindqvist")
    blocked = "/medium/@maya.lindqvist/idempotent-consumers-in-practice-8a1b2c3d4e5f"
    before = site.hits[blocked]
    report = run(crawl_config, warehouse, profile)
    row = source(report, profile)
    assert row.kind == "medium" and row.read == [site.url("/medium/feed/@maya.lindqvist")]
    assert counts(row) == {"found": 3, "crawled": 1, "from_feed": 2, "failed": 0, "over_limit": 0, "duplicates": 0}
    assert site.hits[blocked] == before + 1  # a 403 is not retried

    doc = warehouse.get_by_link("articles", site.url(blocked))  # stored without Medium's ?source= parameter
    assert doc.platform == "medium"
    assert doc.content["title"] == "Idempotent Consumers in Practice"
    assert doc.content["subtitle"] == "Redelivery is a feature you have to design for."  # the feed's <h4>
    text = doc.content["text"]
    assert text.startswith("Every broker that promises at-least-once delivery")
    assert "### Keys, not flags" in text
    assert "```\nUPDATE balances SET amount = amount + :delta\nWHERE account = :account" in text
    assert "Idempotent Consumers in Practice" not in text and "stat?event" not in text
    assert doc.published_at.isoformat() == "2025-02-24T07:30:00+00:00"
    item = next(i for i in report.items if i.link == site.url(blocked))
    assert item.from_feed and "http_403" in item.note and item.crawler == "medium"
    page_doc = warehouse.get_by_link(
        "articles", site.url("/medium/@maya.lindqvist/why-your-vector-index-forgets-things-3f9c2a1b7d4e"))
    assert "## The ef_search budget" in page_doc.content["text"]  # the page that can be fetched is crawled

    again = run(crawl_config, warehouse, profile)
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 3, "failed": 0}


def test_feed_content_prefer_and_never(site, crawl_config, warehouse):
    profile = site.url("/medium/@maya.lindqvist")
    story = "/medium/@maya.lindqvist/why-your-vector-index-forgets-things-3f9c2a1b7d4e"
    before = site.hits[story]
    prefer = run(with_discovery(crawl_config, feed_content="prefer"), warehouse, profile)
    assert counts(source(prefer, profile))["from_feed"] == 3 and site.hits[story] == before  # no page fetched
    never = run(with_discovery(crawl_config, feed_content="never"), warehouse, profile)
    row = source(never, profile)
    assert (row.crawled, row.from_feed, row.failed) == (1, 0, 2)
    assert never.failure_reasons() == {"http_403": 2}


# ---- feeds and sitemaps -----------------------------------------------------------------------------------
def test_rss_and_atom_feeds(site, crawl_config, warehouse):
    rss, atom = site.url("/blog/feed.xml"), site.url("/notes/atom.xml")
    report = run(crawl_config, warehouse, rss, atom)
    assert source(report, rss).kind == "rss" and source(report, atom).kind == "atom"
    assert counts(source(report, rss)) == {"found": 3, "crawled": 3, "from_feed": 0, "failed": 0, "over_limit": 0,
                                           "duplicates": 0}
    assert counts(source(report, atom)) == {"found": 2, "crawled": 1, "from_feed": 1, "failed": 0, "over_limit": 0,
                                            "duplicates": 0}
    links = {i.link for i in report.items}
    assert site.url("/blog/posts/consumer-lag-is-a-symptom") in links  # a relative <link>, resolved
    assert site.url("/blog/backpressure-is-a-feature") in links  # utm_ parameters dropped
    quantization = warehouse.get_by_link("articles", site.url("/notes/vector-quantization-field-guide"))  # 502
    assert quantization.content["subtitle"] == "Scalar, product and binary quantization compared."
    assert quantization.content["text"].startswith("Scalar quantization maps each float to a byte")
    assert quantization.published_at.isoformat() == "2025-02-02T10:00:00+00:00"

    table = report.summary_table()
    assert "discovered sources: 2" in table
    assert any(line.strip().startswith(rss) and line.split()[1:] == ["rss", "3", "3", "0", "0", "0", "0"]
               for line in table.splitlines()), table
    meta = report.metadata()["discovered"]
    assert [(m["source"], m["kind"], m["found"], m["from_feed"]) for m in meta] == [(rss, "rss", 3, 0),
                                                                                    (atom, "atom", 2, 1)]
    # as the etl steps do: the report crosses a step boundary as JSON and is merged with the other parts
    merged = CollectionReport.model_validate(report.model_dump(mode="json")).merge(
        CollectionReport(author=report.author, author_id=report.author_id))
    assert merged.metadata()["discovered"] == meta and "discovered sources: 2" in merged.summary_table()


def test_sitemap_index(site, crawl_config, warehouse):
    index = site.url("/blog/sitemap.xml")
    report = run(crawl_config, warehouse, index)
    row = source(report, index)
    assert row.kind == "sitemap"
    assert counts(row) == {"found": 3, "crawled": 3, "from_feed": 0, "failed": 0, "over_limit": 0, "duplicates": 0}
    assert row.excluded == 4  # tag, category and pagination pages are not posts
    assert row.read == [index, site.url("/blog/sitemap-posts.xml"), site.url("/blog/sitemap-tags.xml")]
    assert len(row.errors) == 1 and "sitemap-broken.xml" in row.errors[0] and "bad_xml" in row.errors[0]
    assert [i.link for i in report.items] == [site.url(p) for p in (  # newest lastmod first
        "/blog/posts/consumer-lag-is-a-symptom", "/blog/backpressure-is-a-feature", "/blog/posts/exactly-once-is-a-contract")]
    assert "! " + row.errors[0] in report.summary_table()

    small = run(with_discovery(crawl_config, max_sitemaps=1), warehouse, index)
    assert "2 more sitemap(s) not read" in " ".join(source(small, index).errors)


def test_entries_over_the_limit_are_reported_not_crawled(site, crawl_config, warehouse):
    feed = site.url("/blog/feed.xml")
    last = "/blog/posts/exactly-once-is-a-contract"
    before = site.hits[last]
    report = run(with_discovery(crawl_config, max_entries=2), warehouse, feed)
    assert counts(source(report, feed)) == {"found": 3, "crawled": 2, "from_feed": 0, "failed": 0, "over_limit": 1,
                                            "duplicates": 0}
    assert site.hits[last] == before and len(report.items) == 2
    assert report.metadata()["discovered"][0]["over_limit"] == 1


def test_a_post_is_collected_once_per_run(site, crawl_config, warehouse):
    post, feed, sitemap = (site.url(p) for p in ("/blog/backpressure-is-a-feature", "/blog/feed.xml",
                                                 "/blog/sitemap.xml"))
    before = site.hits["/blog/backpressure-is-a-feature"]
    report = run(crawl_config, warehouse, feed, sitemap, post)  # plain links are crawled first
    assert site.hits["/blog/backpressure-is-a-feature"] == before + 1
    assert source(report, feed).duplicates == 1 and source(report, sitemap).duplicates == 3
    assert report.counts()["new"] == 3 and warehouse.counts(report.author_id)["articles"] == 3


def test_found_by_content_type_or_body_and_a_page_at_a_feed_url(site, crawl_config, warehouse):
    latest, digest = site.url("/blog/latest"), site.url("/blog/digest")  # application/rss+xml; RSS sent as text/html
    report = run(crawl_config, warehouse, latest)
    assert source(report, latest).kind == "rss" and source(report, latest).crawled == 3
    report = run(crawl_config, warehouse, digest)
    assert source(report, digest).kind == "rss" and source(report, digest).found == 3
    site.routes["/essays/rss"] = (200, ARTICLE, "text/html; charset=utf-8")  # a post that happens to end in /rss
    report = run(crawl_config, warehouse, site.url("/essays/rss"))
    assert report.sources == [] and report.items[0].status is ItemStatus.NEW and report.items[0].crawler == "generic"

    off = configured("crawl", **{**crawl_config.model_dump(), "discovery": {"enabled": False}})
    report = collect_author(author_config(links=[site.url("/blog/feed.xml"), site.url("/blog/digest"),
                                                 site.url("/essays/rss")]),
                            off, warehouse, progress=False, require_any=False)
    assert report.sources == [] and report.items[0].reason == "content_type"  # discovery off: a page or nothing


# ---- bad inputs -------------------------------------------------------------------------------------------
def test_malformed_and_hostile_xml_is_refused_and_writes_nothing(site, crawl_config, warehouse):
    truncated, bomb, entities = (site.url(p) for p in ("/bad/feed.xml", "/bad/bomb.xml", "/bad/sitemap.xml"))
    report = run(crawl_config, warehouse, truncated, bomb, entities, site.url("/blog/backpressure-is-a-feature"))
    by_source = {i.source: i for i in report.items}
    assert by_source[truncated].reason == "bad_xml" and "not well-formed" in by_source[truncated].error
    assert "line 12" in by_source[truncated].error or "line 15" in by_source[truncated].error
    assert by_source[bomb].reason == "unsafe_xml" and "lol" in by_source[bomb].error
    assert by_source[entities].reason == "unsafe_xml" and "nothing was read" in by_source[entities].error
    assert report.counts() == {"new": 1, "updated": 0, "unchanged": 0, "failed": 3}
    assert warehouse.counts(report.author_id)["articles"] == 1  # only the plain link
    for link in (truncated, bomb, entities):
        row = source(report, link)
        assert row.found == 0 and row.errors and "xml" in row.errors[0]
    assert "[unsafe_xml]" in report.summary_table()


def test_failing_sources_and_posts_name_their_cause(site, crawl_config, warehouse):
    items = (item("Nested", "{base}/blog/feed.xml")  # a post that is itself a feed
             + item("Diary", "{base}/private/diary")  # robots.txt disallows it: the page is never requested
             + item("Missing", "{base}/blog/posts/gone", content=False))  # 404, no content in the feed: failed
    site.routes["/mixed/feed"] = (200, RSS.format(base="{base}", items=items).encode(), "application/rss+xml")
    report = run(crawl_config, warehouse, site.url("/mixed/feed"), site.url("/substack/nothing-here/feed"))
    row = source(report, site.url("/mixed/feed"))
    assert (row.found, row.crawled, row.from_feed, row.failed) == (3, 0, 1, 2)
    reasons = {i.source.rsplit("/", 1)[-1]: i.reason for i in report.items if i.status is ItemStatus.FAILED}
    assert reasons == {"feed.xml": "nested_source", "gone": "http_404", "feed": "http_404"}
    assert site.hits["/private/diary"] == 0
    diary = next(i for i in report.items if i.source.endswith("/private/diary"))
    assert diary.from_feed and "robots_disallowed" in diary.note
    missing = source(report, site.url("/substack/nothing-here/feed"))
    assert missing.found == 0 and "http_404" in missing.errors[0]


def test_private_addresses_in_feeds_and_sitemaps_are_never_reached(twin_servers, warehouse):
    public, internal = twin_servers
    config = configured("crawl", connect_timeout_s=1, read_timeout_s=1, total_timeout_s=5,
                        allowed_networks=[f"{PUBLIC}/32"], rate_limit={"min_interval_s": 0},
                        retries={"max_attempts": 1})
    items = item("Internal", internal.url("/secret")) + item("Public", public.url("/post"))
    public.routes["/feed.xml"] = page(RSS.format(base=public.url(""), items=items).encode(), "application/rss+xml")
    public.routes["/post"] = page(ARTICLE)
    public.routes["/sitemap.xml"] = page(
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>'
        f'{internal.url("/sitemap.xml")}</loc></sitemap></sitemapindex>'.encode(), "application/xml")
    links = [public.url("/feed.xml"), public.url("/sitemap.xml"), internal.url("/feed.xml")]
    for feed_content in ("fallback", "prefer"):
        report = run(with_discovery(config, feed_content=feed_content), warehouse, *links)
        feed = source(report, links[0])
        assert (feed.found, feed.failed) == (2, 1) and feed.crawled + feed.from_feed == 1
        refused = next(i for i in report.items if i.source == internal.url("/secret"))
        assert refused.reason == "private_address" and not refused.from_feed  # not stored from the feed either
        sitemap = source(report, links[1])
        assert sitemap.found == 0 and "private_address" in sitemap.errors[0]
        assert "private_address" in source(report, links[2]).errors[0]
        assert internal.total_hits == 0
    assert warehouse.get_by_link("articles", internal.url("/secret")) is None


def test_feed_over_the_size_limit_is_refused(site, crawl_config, warehouse):
    huge = RSS.format(base="{base}", items=item("Post", "{base}/blog/posts/huge") * 400).encode()
    assert len(huge) > crawl_config.max_body_bytes
    site.routes["/huge/feed.xml"] = (200, huge, "application/rss+xml")
    report = run(crawl_config, warehouse, site.url("/huge/feed.xml"), site.url("/blog/backpressure-is-a-feature"))
    failed = next(i for i in report.items if i.status is ItemStatus.FAILED)
    assert failed.reason == "too_large" and "100000 byte limit" in failed.error


@pytest.mark.parametrize(("body", "root"), [
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- generated -->\n<?xml-stylesheet href="s.xsl"?><rss version="2.0">', "rss"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><feed xmlns="http://www.w3.org/2005/Atom">', "feed"),
    (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">', "RDF"),
    (b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', "sitemapindex"),
    (b"<!DOCTYPE html><html><body><p>rss</p>", "html"),
    (b"https://example.com/feed.xml", None),  # a URL is data here: feedparser is never handed one
])
def test_root_sniffing(body, root):
    from llm_twin.crawlers.errors import CollectError
    from llm_twin.crawlers.feeds import parse_feed
    from llm_twin.crawlers.xmlsafe import sniff_root

    assert sniff_root(body) == root
    if root is None:
        with pytest.raises(CollectError) as err:
            parse_feed(body, "https://example.com/feed.xml")
        assert err.value.reason == "bad_xml"
