"""Each importer on a fixture export (built here, in the platforms' formats), from a folder and a zip."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest

from llm_twin.crawlers import CollectError
from llm_twin.domain.documents import Article, Post, User
from llm_twin.importers import ExportSpec, importer_for

AUTHOR = User(first_name="Maya", last_name="Lindqvist")

MEDIUM_POST = """<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Backfills Without Tears</title></head><body><article class="h-entry">
<header><h1 class="p-name">Backfills Without Tears</h1></header>
<section data-field="subtitle" class="p-summary">One code path, two schedules.</section>
<section data-field="body" class="e-content"><section name="a1b2" class="section section--body section--first">
<div class="section-content"><div class="section-inner sectionLayout--insetColumn">
<h3 name="1" class="graf graf--h3 graf--leading graf--title">Backfills Without Tears</h3>
<h4 name="2" class="graf graf--h4 graf--subtitle">One code path, two schedules.</h4>
<p name="3" class="graf graf--p">A backfill that shares no code with the stream is a second system.</p>
<h3 name="4" class="graf graf--h3">Share the functions</h3>
<pre name="5" class="graf graf--pre">chunks = chunk(clean(doc))<br>vectors = embed(chunks)</pre>
</div></div></section></section>
<footer><p>By <a href="https://medium.com/@maya" class="p-author h-card">Maya Lindqvist</a> on
<a href="https://medium.com/p/0a1b"><time class="dt-published" datetime="2025-05-20T08:00:00.000Z">May 20, 2025</time></a>.</p>
<p><a href="https://medium.com/@maya/backfills-without-tears-0a1b" class="p-canonical">Canonical link</a></p></footer>
</article></body></html>"""


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())
    return target


def records(kind: str, path: Path, **options):
    return list(importer_for(ExportSpec(kind=kind, path=str(path), **options), Path("/")).records(AUTHOR))


@pytest.fixture()
def medium_export(tmp_path: Path) -> Path:
    posts = tmp_path / "medium" / "posts"
    posts.mkdir(parents=True)
    (posts / "2025-05-20_Backfills-Without-Tears-0a1b.html").write_text(MEDIUM_POST)
    (posts / "draft_Unfinished-thoughts-9z.html").write_text(MEDIUM_POST.replace("Backfills", "Draft"))
    (posts / "2025-01-01_Broken-1c.html").write_text("<html><body><p>no body section</p></body></html>")
    (tmp_path / "medium" / "profile").mkdir()
    (tmp_path / "medium" / "profile" / "profile.html").write_text("<html><body>profile</body></html>")
    return zip_folder(tmp_path / "medium", tmp_path / "medium-export.zip", prefix="medium-export-abc/")


def test_medium_export_zip(medium_export: Path):
    recs = records("medium", medium_export)
    assert len(recs) == 2  # the draft is skipped
    good = next(r for r in recs if r.document)
    bad = next(r for r in recs if r.error)
    doc = good.document
    assert isinstance(doc, Article) and doc.platform == "medium"
    assert doc.link == "https://medium.com/@maya/backfills-without-tears-0a1b"
    assert doc.content["title"] == "Backfills Without Tears"
    assert doc.content["subtitle"] == "One code path, two schedules."
    assert doc.content["text"].startswith("A backfill that shares no code")  # title/subtitle not repeated
    assert "## Share the functions" in doc.content["text"]
    assert "```\nchunks = chunk(clean(doc))\nvectors = embed(chunks)\n```" in doc.content["text"]
    assert doc.published_at.isoformat().startswith("2025-05-20")
    assert bad.error.reason == "parse" and "Broken" in bad.source
    assert len(records("medium", medium_export, include_drafts=True)) == 3


def test_substack_export(tmp_path: Path):
    root = tmp_path / "substack"
    (root / "posts").mkdir(parents=True)
    rows = [
        {"post_id": "101.hybrid-search", "post_date": "2025-05-08T07:00:00.000Z", "is_published": "true",
         "type": "newsletter", "title": "Hybrid Search", "subtitle": "When BM25 still wins"},
        {"post_id": "102.draft-idea", "post_date": "", "is_published": "false", "type": "newsletter",
         "title": "Draft", "subtitle": ""},
        {"post_id": "103.lost-file", "post_date": "2025-06-01T07:00:00.000Z", "is_published": "true",
         "type": "newsletter", "title": "Lost", "subtitle": ""},
    ]
    with open(root / "posts.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (root / "posts" / "101.hybrid-search.html").write_text(
        "<p>Keyword search is forty years old.</p><h2 class='header-anchor-post'>Fusion</h2>"
        "<pre><code>fused = rrf([bm25, dense])</code></pre>")
    (root / "posts" / "102.draft-idea.html").write_text("<p>draft</p>")
    recs = records("substack", root, base_url="https://maya.substack.com/")
    assert [r.source.rsplit("/", 1)[-1] for r in recs] == ["101.hybrid-search.html", "103.lost-file.html"]
    doc = recs[0].document
    assert doc.link == "https://maya.substack.com/p/hybrid-search" and doc.platform == "substack"
    assert doc.content == {"title": "Hybrid Search", "subtitle": "When BM25 still wins",
                           "text": "Keyword search is forty years old.\n\n## Fusion\n\n```\nfused = rrf([bm25, dense])\n```"}
    assert recs[1].error.reason == "missing_file"
    # without base_url the export's own id is the link
    assert records("substack", root)[0].document.link == "substack-export://101.hybrid-search"


def test_linkedin_export(tmp_path: Path):
    root = tmp_path / "linkedin"
    (root / "Articles" / "Articles").mkdir(parents=True)
    with open(root / "Shares.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility"])
        writer.writerow(["2025-04-08 07:45:10", "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A1",
                         'Dead-letter queues are not a trash can.\n\nRule of thumb: "look weekly".', "", "", "PUBLIC"])
        writer.writerow(["2025-04-09 10:00:00", "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A2", "",
                         "https://example.com/reshared", "", "PUBLIC"])
        writer.writerow(["2025-04-10 10:00:00", "", "A post without a link", "", "", "PUBLIC"])
    (root / "Articles" / "Articles" / "Feature-stores.html").write_text(
        '<html><head><title>Feature stores</title></head><body><img src="x.jpg" alt=""/>'
        '<h1><a href="https://www.linkedin.com/pulse/feature-stores-maya">Feature stores are about time</a></h1>'
        '<p class="created">Created on 2025-02-20 10:00</p><p class="published">Published on 2025-02-20 10:05</p>'
        "<div><p>Storage is the easy part.</p><h2>As-of joins</h2><p>Time is the hard part.</p></div></body></html>")
    recs = records("linkedin", zip_folder(root, tmp_path / "Basic_LinkedInDataExport.zip"))
    posts = [r.document for r in recs if isinstance(r.document, Post)]
    articles = [r.document for r in recs if isinstance(r.document, Article)]
    errors = [r.error for r in recs if r.error]
    assert len(posts) == 1 and len(articles) == 1 and len(errors) == 1  # the reshare without text is skipped
    assert posts[0].content["text"] == 'Dead-letter queues are not a trash can.\n\nRule of thumb: "look weekly".'
    assert posts[0].link == "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A1"
    assert posts[0].published_at.isoformat() == "2025-04-08T07:45:10+00:00"
    assert articles[0].content == {"title": "Feature stores are about time", "subtitle": "",
                                   "text": "Storage is the easy part.\n\n## As-of joins\n\nTime is the hard part."}
    assert articles[0].link == "https://www.linkedin.com/pulse/feature-stores-maya"
    assert "ShareLink" in errors[0].message


def test_markdown_folder(tmp_path: Path):
    root = tmp_path / "notes"
    (root / "posts").mkdir(parents=True)
    (root / "rrf.md").write_text("---\ntitle: Reciprocal rank fusion\nsubtitle: Ranks, not scores\n"
                                 "date: 2025-05-08\ncanonical_url: https://maya.dev/rrf?utm_source=x\n---\n\n"
                                 "Use ranks.\n\n```python\nscore = 1 / (60 + rank)\n```\n")
    (root / "posts" / "short.md").write_text("---\ntype: post\n---\nBoring infrastructure is a feature.\n")
    (root / "untitled.md").write_text("# Heading as title\n\nBody text here.\n")
    (root / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    (root / "image.png").write_bytes(b"\x89PNG")
    recs = {r.source: r for r in records("markdown", root, platform="blog")}
    assert set(recs) == {"broken.md", "posts/short.md", "rrf.md", "untitled.md"}
    rrf = recs["rrf.md"].document
    assert rrf.platform == "blog" and rrf.link == "https://maya.dev/rrf"
    assert rrf.content["subtitle"] == "Ranks, not scores" and "```python" in rrf.content["text"]
    assert rrf.published_at.isoformat().startswith("2025-05-08")
    assert isinstance(recs["posts/short.md"].document, Post)
    untitled = recs["untitled.md"].document
    assert untitled.content["title"] == "Heading as title" and untitled.content["text"] == "Body text here."
    assert untitled.link == (root / "untitled.md").resolve().as_uri()
    assert recs["broken.md"].error.reason == "parse"


def test_missing_or_wrong_export(tmp_path: Path):
    with pytest.raises(CollectError) as err:
        records("medium", tmp_path / "nope.zip")
    assert err.value.reason == "not_found"
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(CollectError) as err:
        records("substack", tmp_path / "bad.zip")
    assert err.value.reason == "bad_export"
    (tmp_path / "empty").mkdir()
    with pytest.raises(CollectError, match="posts.csv"):
        records("substack", tmp_path / "empty")
