"""Per data type cleaning: what the embedding model and the training set should see of a document.

Articles are Markdown (keep the prose and code, drop link targets, images and HTML), posts are social
text (drop URLs, emoji and hashtag marks), code keeps indentation but drops generated files. Cleaning is
deterministic: the same document always gives the same text, so redelivered changes and the batch
backfill produce identical payloads.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from dataclasses import dataclass, field

from llm_twin.config.features import CodeCleaningConfig
from llm_twin.domain.documents import Article, DataType, Document, Post, Repository


class EmptyDocumentError(ValueError):
    """Nothing embeddable is left after cleaning: the message is dead-lettered, not written."""


@dataclass(frozen=True)
class Section:
    """A unit chunks never cross (a whole article or post, one source file of a repository)."""

    text: str
    header: str = ""  # prepended to each chunk of the section (the file path for code)


@dataclass(frozen=True)
class CleanedDocument:
    title: str
    text: str  # the whole cleaned document, stored in `cleaned_<type>`
    sections: list[Section] = field(default_factory=list)


_URL = re.compile(r"https?://\S+|www\.\S+")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_HTML_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_HASHTAG = re.compile(r"(?<!\w)#(\w)")
_MENTION = re.compile(r"(?<!\w)@(\w)")


def _normalize(text: str) -> str:
    """NFKC, unified newlines, no control or symbol-only characters (emoji, pictographs)."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch
        for ch in text
        if ch in "\n\t" or not (unicodedata.category(ch).startswith("C") or unicodedata.category(ch) == "So")
    )


def _tidy_prose(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_markdown(text: str) -> str:
    text = _normalize(text)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _URL.sub("", text)
    return _tidy_prose(text)


def clean_social(text: str) -> str:
    text = _normalize(text)
    text = _URL.sub("", text)
    text = _HASHTAG.sub(r"\1", text)
    text = _MENTION.sub(r"\1", text)
    return _tidy_prose(text)


def clean_code(text: str) -> str:
    """Keep indentation (it is syntax); drop trailing spaces, tabs become 4 spaces, no blank-line runs."""
    text = _normalize(text).expandtabs(4)
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _clean_article(doc: Article) -> CleanedDocument:
    title = clean_social(str(doc.content.get("title", "")))
    parts = [clean_markdown(str(doc.content.get(key, ""))) for key in ("subtitle", "text")]
    extra = [clean_markdown(str(v)) for k, v in sorted(doc.content.items()) if k not in ("title", "subtitle", "text")]
    body = "\n\n".join(p for p in parts + extra if p)
    return CleanedDocument(title=title, text=body, sections=[Section(body)] if body else [])


def _clean_post(doc: Post) -> CleanedDocument:
    title = clean_social(str(doc.content.get("title", "")))
    parts = [clean_social(str(v)) for k, v in sorted(doc.content.items()) if k != "title"]
    body = "\n\n".join(p for p in parts if p)
    return CleanedDocument(title=title, text=body, sections=[Section(body)] if body else [])


def _clean_repository(doc: Repository, cfg: CodeCleaningConfig) -> CleanedDocument:
    sections: list[Section] = []
    for path in sorted(doc.content):
        name = path.rsplit("/", 1)[-1]
        if any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(path, g) for g in cfg.ignore_globs):
            continue
        code = clean_code(str(doc.content[path])[: cfg.max_file_chars])
        if code.strip():
            sections.append(Section(text=code, header=f"# file: {path}"))
    text = "\n\n".join(f"{s.header}\n{s.text}" for s in sections)
    return CleanedDocument(title=doc.name, text=text, sections=sections)


def clean_document(doc: Document, code_cfg: CodeCleaningConfig) -> CleanedDocument:
    """Clean a warehouse document with the rules of its data type."""
    if doc.data_type == DataType.ARTICLE:
        cleaned = _clean_article(doc)  # type: ignore[arg-type]
    elif doc.data_type == DataType.POST:
        cleaned = _clean_post(doc)  # type: ignore[arg-type]
    elif doc.data_type == DataType.REPOSITORY:
        cleaned = _clean_repository(doc, code_cfg)  # type: ignore[arg-type]
    else:  # pragma: no cover - DataType is closed
        raise ValueError(f"no cleaning rules for {doc.data_type}")
    if not cleaned.text.strip():
        raise EmptyDocumentError(f"document {doc.id} ({doc.data_type.value}) has no text left after cleaning")
    return cleaned
