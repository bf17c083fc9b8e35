"""Each importer on a fixture export (built here, in the platforms' formats), from a folder and a zip."""

from __future__ import annotations

import csv
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from llm_twin.config import ExportSpec
from llm_twin.crawlers import CollectError
from llm_twin.domain.documents import Article, Post, User
from llm_twin.importers import ExportArchive, importer_for
from tests.configs import configured

LIMITS = configured("crawl").exports


def export_limits(**changes):
    """The configured export limits with some fields changed."""
    return LIMITS.model_copy(update=changes)


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
    spec = ExportSpec(kind=kind, path=str(path), **options)
    return list(importer_for(spec, Path("/"), LIMITS).records(AUTHOR))


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


# ---- bounded archives and bad rows ----------------------------------------------------------------------------
def _understate_size(path: Path, member: str, declared: int) -> None:
    """Rewrite a member's uncompressed size in both zip headers (local and central directory)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    name = member.encode()
    local = info.header_offset
    assert data[local:local + 4] == b"PK\x03\x04"
    data[local + 22:local + 26] = declared.to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")  # central directory entries: name at offset 46
    while data[central + 46:central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 24:central + 28] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def _medium_zip(tmp_path: Path, extra: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    target = tmp_path / "medium.zip"
    with zipfile.ZipFile(target, "w", compression=compression) as archive:
        archive.writestr("posts/2025-05-20_Backfills-0a1b.html", MEDIUM_POST)
        for name, data in extra.items():
            archive.writestr(name, data)
    return target


def _peak_memory(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_highly_compressible_member_is_refused_by_ratio(tmp_path: Path):
    export = _medium_zip(tmp_path, {"posts/2025-01-01_Bomb-9f.html": b"<p>" + b"a" * 15_000_000 + b"</p>"})
    recs, peak = _peak_memory(lambda: records("medium", export))
    good = [r for r in recs if r.document]
    bomb = next(r for r in recs if r.error)
    assert len(good) == 1  # the rest of the export is imported
    assert bomb.error.reason == "zip_bomb" and "Bomb-9f" in bomb.source and "100x" in bomb.error.message
    assert peak < 5_000_000, peak


def test_member_whose_header_understates_its_size_is_refused_without_reading_it_all(tmp_path: Path):
    """50 MB of zeros compress to ~50 KB; the header says 2 KB, so size and ratio checks on the header pass.
    The reader stops at the real data's first chunk and reports the mismatch; memory stays small."""
    member = "posts/2025-01-02_Liar-7e.html"
    export = _medium_zip(tmp_path, {member: b"\0" * 50_000_000})
    _understate_size(export, member, 2_000)
    assert export.stat().st_size < 200_000
    recs, peak = _peak_memory(lambda: records("medium", export))
    liar = next(r for r in recs if r.error)
    assert liar.error.reason == "bad_member" and "declared size 2000 bytes" in liar.error.message
    assert len([r for r in recs if r.document]) == 1
    assert peak < 5_000_000, peak


def test_real_size_limit_member_count_and_methods(tmp_path: Path):
    export = _medium_zip(tmp_path, {f"posts/2025-01-{i:02d}_Post-{i}.html": MEDIUM_POST.encode() for i in range(1, 12)})
    with pytest.raises(CollectError, match="over the 10 limit"):
        ExportArchive(export, export_limits(max_members=10))
    small = export_limits(max_member_bytes=1_000, ratio_grace_bytes=0, max_ratio=1e9)
    with ExportArchive(export, small) as archive, pytest.raises(CollectError) as err:
        archive.read("posts/2025-05-20_Backfills-0a1b.html")
    assert err.value.reason == "too_large"
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "big.md").write_bytes(b"x" * 5_000)
    with ExportArchive(folder, small) as archive, pytest.raises(CollectError) as err:
        archive.read("big.md")
    assert err.value.reason == "too_large"
    (tmp_path / "bz").mkdir()
    bz = _medium_zip(tmp_path / "bz", {}, zipfile.ZIP_BZIP2)
    with ExportArchive(bz, LIMITS) as archive, pytest.raises(CollectError) as err:
        archive.read("posts/2025-05-20_Backfills-0a1b.html")
    assert err.value.reason == "bad_member" and "compression method" in err.value.message


def _linkedin_export(root: Path, rows: list[list[str]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "Shares.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility"])
        writer.writerows(rows)
    return root


def share(n: int, text: str) -> list[str]:
    return [f"2025-04-{n:02d}10:00:00", f"https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A{n}", text, "", "",
            "PUBLIC"]


def test_oversized_csv_cell_skips_that_row_and_imports_the_rest(tmp_path: Path):
    export = _linkedin_export(tmp_path / "linkedin", [
        share(1, "First post about queues.\nWith a second line."),
        share(2, "x" * 200_000),  # over csv.field_size_limit (131072): used to abort the whole file
        share(3, "Third post, after the huge one."),
    ])
    with open(export / "Shares.csv", "a", newline="") as f:
        f.write('2025-04-04 10:00:00,https://www.linkedin.com/x,"text",,,PUBLIC,surplus,fields\n')  # malformed
        csv.writer(f).writerow(share(5, "Fifth post."))
    recs = records("linkedin", zip_folder(export, tmp_path / "linkedin.zip"))
    posts = [r.document.content["text"] for r in recs if r.document]
    skipped = [r for r in recs if r.skipped]
    assert posts == ["First post about queues.\nWith a second line.", "Third post, after the huge one.", "Fifth post."]
    assert [r.source for r in skipped] == ["Shares.csv:3", "Shares.csv:5"]
    assert all(r.error.reason == "bad_row" for r in skipped)
    assert "Shares.csv row 3" in skipped[0].error.message and "'ShareCommentary' has 200000 characters" in (
        skipped[0].error.message)
    assert "has 8 fields, the header has 6" in skipped[1].error.message


def test_substack_bad_row_is_skipped(tmp_path: Path):
    root = tmp_path / "substack"
    (root / "posts").mkdir(parents=True)
    with open(root / "posts.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["post_id", "post_date", "is_published", "type", "title", "subtitle"])
        writer.writerow(["1.one", "2025-05-08", "true", "newsletter", "One", ""])
        writer.writerow(["2.two", "2025-05-09", "true", "newsletter", "T" * 140_000, ""])
        writer.writerow(["3.three", "2025-05-10", "true", "newsletter", "Three", ""])
    for slug in ("1.one", "2.two", "3.three"):
        (root / "posts" / f"{slug}.html").write_text(f"<p>{slug} body</p>")
    recs = records("substack", root)
    assert [r.document.content["title"] for r in recs if r.document] == ["One", "Three"]
    assert [(r.source, r.error.reason) for r in recs if r.skipped] == [("posts.csv:3", "bad_row")]
