"""A whole collection run: good and bad links side by side, exports, a repository, re-runs, and failures
that write nothing."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from llm_twin.collection import ItemStatus, NothingCollectedError, collect_author
from llm_twin.config import AuthorConfig, load_group
from tests.configs import author as author_config
from tests.configs import configured

GOOD = {
    "/medium/@maya.lindqvist/why-your-vector-index-forgets-things-3f9c2a1b7d4e": ("medium", "articles"),
    "/substack/p/evaluate-retrieval-before-answers": ("substack", "articles"),
    "/linkedin/posts/maya-lindqvist_dead-letter-queues-activity-7301234567890123456-AbCd": ("linkedin", "posts"),
    "/blog/backpressure-is-a-feature": ("web", "articles"),
    "/blog/flaky": ("web", "articles"),
}
BAD = {
    "/blog/malformed": "no_content",
    "/blog/missing": "http_404",
    "/blog/throttled": "rate_limited",
    "/blog/slow": "timeout",
    "/hop/1": "too_many_redirects",
    "/files/report.pdf": "content_type",
    "/blog/huge-stream": "too_large",
    "/private/notes": "robots_disallowed",
}


@pytest.fixture()
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "rrf.md").write_text("---\ntitle: RRF\ncanonical_url: https://maya.dev/rrf\n---\nUse ranks, not scores.\n")
    return folder


def test_mixed_run_reports_each_failure_and_stores_the_rest(site, crawl_config, warehouse, notes, twin_home, tmp_path):
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "pkg" / "metrics.py").write_text("def recall(a, b):\n    return len(set(a) & set(b)) / len(b)\n")
    author = author_config(
        full_name="Maya Lindqvist",
        links=[site.url(p) for p in [*GOOD, *BAD]],
        exports=[{"kind": "markdown", "path": str(notes)}, {"kind": "medium", "path": str(tmp_path / "missing.zip")}],
        repositories=[{"path": str(code), "link": "https://github.com/maya-lindqvist/metrics"}],
    )
    report = collect_author(author, crawl_config, warehouse, progress=False)
    by_source = {item.source: item for item in report.items}
    for path, (platform, collection) in GOOD.items():
        item = by_source[site.url(path)]
        assert item.status is ItemStatus.NEW, item
        assert (item.platform, item.data_type) == (platform, collection)
    for path, reason in BAD.items():
        item = by_source[site.url(path)]
        assert item.status is ItemStatus.FAILED and item.reason == reason and item.error, item
        for collection in ("articles", "posts"):  # a failed link wrote nothing, not even partially
            assert warehouse.collection(collection).count_documents({"link": site.url(path)}) == 0
    missing = next(i for i in report.items if i.origin == "export:medium")
    assert missing.status is ItemStatus.FAILED and missing.reason == "not_found"
    repo = next(i for i in report.items if i.origin == "repository")
    assert repo.status is ItemStatus.NEW and repo.platform == "github"

    assert report.counts() == {"new": 7, "updated": 0, "unchanged": 0, "failed": 9}
    assert warehouse.counts(report.author_id) == {"articles": 5, "posts": 1, "repositories": 1}
    table = report.summary_table()
    assert "linkedin/posts" in table and "failed: 9" in table and "[robots_disallowed]" in table
    meta = report.metadata()
    assert meta["documents_per_platform"]["web/articles"] == 2 and meta["failure_reasons"]["timeout"] == 1

    # A re-run adds nothing: every stored document is unchanged, the failures fail again.
    again = collect_author(author, crawl_config, warehouse, progress=False)
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 7, "failed": 9}
    assert warehouse.counts(report.author_id) == {"articles": 5, "posts": 1, "repositories": 1}

    # A changed source updates in place.
    (notes / "rrf.md").write_text("---\ntitle: RRF\ncanonical_url: https://maya.dev/rrf\n---\nRanks beat scores.\n")
    old_id = warehouse.get_by_link("articles", "https://maya.dev/rrf").id
    third = collect_author(author, crawl_config, warehouse, progress=False)
    assert third.counts()["updated"] == 1 and third.counts()["new"] == 0
    assert warehouse.get_by_link("articles", "https://maya.dev/rrf").id == old_id
    assert warehouse.counts(report.author_id)["articles"] == 5


def test_nothing_collected_fails_and_writes_nothing(site, crawl_config, warehouse):
    author = author_config(full_name="Maya Lindqvist", links=[site.url("/blog/missing"), site.url("/files/report.pdf")])
    with pytest.raises(NothingCollectedError) as err:
        collect_author(author, crawl_config, warehouse, progress=False)
    assert "http_404" in str(err.value) and "content_type" in str(err.value)
    assert warehouse.counts() == {"articles": 0, "posts": 0, "repositories": 0}


def test_unknown_domain_falls_back_to_generic(site, crawl_config, warehouse):
    config = crawl_config.model_copy(update={"crawlers": {}})  # no dedicated crawler for anything
    author = author_config(full_name="Maya Lindqvist", links=[site.url("/blog/backpressure-is-a-feature")])
    report = collect_author(author, config, warehouse, progress=False)
    assert report.items[0].crawler == "generic" and report.items[0].status is ItemStatus.NEW


def test_sample_author_offline(warehouse, twin_home):
    """The bundled sample author: 30 posts, 15 articles, 2 repositories; a second run adds nothing."""
    author = load_group("author", ["author=sample"], schema=AuthorConfig)
    crawl = configured("crawl")
    first = collect_author(author, crawl, warehouse, progress=False)
    assert first.counts() == {"new": 47, "updated": 0, "unchanged": 0, "failed": 0}, first.summary_table()
    assert warehouse.counts() == {"articles": 15, "posts": 30, "repositories": 2}
    assert {k: sum(v.values()) for k, v in first.per_platform().items()} == {
        "blog/articles": 4, "github/repositories": 2, "linkedin/articles": 2, "linkedin/posts": 30,
        "medium/articles": 5, "substack/articles": 4}
    second = collect_author(author, crawl, warehouse, progress=False)
    assert second.counts() == {"new": 0, "updated": 0, "unchanged": 47, "failed": 0}
    assert warehouse.counts() == {"articles": 15, "posts": 30, "repositories": 2}
    for post in warehouse.find("posts"):
        assert 80 <= len(post.content["text"].split()) <= 230, post.link
    for doc in warehouse.find("articles"):
        assert 400 <= len(doc.content["text"].split()) <= 900, doc.link
        assert doc.published_at is not None and doc.content["title"]
    assert shutil.which("git")


def test_skipped_rows_are_reported_and_the_rest_is_imported(warehouse, tmp_path):
    """One oversized CSV cell: that row is skipped (named in the report and the summary), the others stored."""
    from llm_twin.collection import CollectionReport, collect_part

    root = tmp_path / "linkedin"
    root.mkdir()
    with open(root / "Shares.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility"])
        for n, text in enumerate(["A post about queues.", "y" * 300_000, "A post about retries."], start=1):
            writer.writerow([f"2025-04-0{n} 10:00:00", f"https://www.linkedin.com/feed/update/urn:li:share:{n}", text,
                             "", "", "PUBLIC"])
    author_cfg = author_config(full_name="Maya Lindqvist", exports=[{"kind": "linkedin", "path": str(root)}])
    user = warehouse.get_or_create_user(author_cfg.full_name)
    part = collect_part("exports", author_cfg, user, configured("crawl"), warehouse, progress=False)
    assert part.counts() == {"new": 2, "updated": 0, "unchanged": 0, "failed": 0}
    assert len(part.skipped) == 1 and part.skipped[0].source.endswith("Shares.csv:3")
    # as the etl pipeline's steps do: each part crosses a step boundary as JSON, then the parts are merged
    merged = CollectionReport.model_validate(part.model_dump(mode="json")).merge(
        CollectionReport(author=user.full_name, author_id=user.id))
    summary = merged.metadata()["skipped"]
    assert summary["count"] == 1 and summary["reasons"] == {"bad_row": 1}
    assert "Shares.csv row 3" in summary["examples"][0] and "300000 characters" in summary["examples"][0]
    table = merged.summary_table()
    assert "skipped (unparseable input, the rest of each export was imported): 1" in table
    assert "[bad_row]" in table and "failed: 0" in table
    assert warehouse.counts(user.id)["posts"] == 2
