"""Generation hygiene: what an answer may not contain, detected and removed the same way everywhere.

Two faults a small twin makes when it is given retrieved context:
- it invents links (a URL that is in no retrieved source);
- it copies the context's scaffolding (numbered source headers such as "[6] (linkedin; https://...)",
  the context header line itself).

Evaluation measures both (`invented_link_rate`, `marker_leak_rate`) and the served twin removes both
(`clean_answer`, and `HygieneFilter` for token streams), so what is measured offline is what the guard
guarantees online. Sources travel as data (`context[]` of a response), never as text the model writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"'`)\]]+", re.IGNORECASE)
_TRAILING = ".,;:!?"  # sentence punctuation after a URL is not part of it
PLATFORMS = ("linkedin", "medium", "substack", "github", "blog", "x", "twitter", "web", "page", "url")
# Scaffolding a model copies from a numbered context: "[6]" citations and "(platform; link)" source lines.
# A citation stands on its own ("as I wrote [2]"); `x[0]` or `rows[1]` in code is indexing, not a marker.
_CITATION = re.compile(r"(?<![\w\])'\"])\[\s*[1-9]\d{0,2}\s*\]")
_SOURCE_LINE = re.compile(r"\(\s*(?:" + "|".join(PLATFORMS) + r")\b[^()\n]{0,200}?;[^()\n]{0,300}\)", re.IGNORECASE)
_SOURCE_LABEL = re.compile(r"^\s*(?:sources?|context|references?)\s*:\s*$", re.IGNORECASE | re.MULTILINE)


def _strip_url(url: str) -> str:
    return url.rstrip(_TRAILING)


def find_urls(text: str) -> list[str]:
    """Every URL-like span (http(s):// or www.), without trailing sentence punctuation."""
    return [_strip_url(m.group()) for m in URL_RE.finditer(text)]


def normalise_url(url: str) -> str:
    """Compare links as a reader would: no scheme, no `www.`, no trailing slash, case-insensitive host."""
    url = _strip_url(url.strip())
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    host, _, rest = url.partition("/")
    return (host.lower() + ("/" + rest if rest else "")).rstrip("/")


def invented_urls(text: str, allowed: Iterable[str]) -> list[str]:
    """URLs in `text` that are in no allowed source (a prefix of an allowed link is not invented)."""
    known = {normalise_url(a) for a in allowed if a}
    out = []
    for url in find_urls(text):
        norm = normalise_url(url)
        if not norm:
            continue
        if norm in known or any(k.startswith(norm + "/") for k in known):
            continue
        out.append(url)
    return out


def has_invented_link(text: str, allowed: Iterable[str]) -> bool:
    return bool(invented_urls(text, allowed))


def marker_leaks(text: str, context_header: str | None = None) -> list[str]:
    """Copied context scaffolding: numbered citations, "(platform; link)" source lines, the header."""
    found = [m.group() for m in _CITATION.finditer(text)]
    found += [m.group() for m in _SOURCE_LINE.finditer(text)]
    found += [m.group().strip() for m in _SOURCE_LABEL.finditer(text)]
    if context_header and context_header.strip().lower() in text.lower():
        found.append(context_header.strip())
    return found


def has_marker_leak(text: str, context_header: str | None = None) -> bool:
    return bool(marker_leaks(text, context_header))


@dataclass
class Cleaned:
    text: str
    removed_links: list[str]
    removed_markers: list[str]


def _tidy(text: str) -> str:
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)  # brackets emptied by a removal
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text)


def clean_answer(text: str, allowed: Iterable[str], context_header: str | None = None) -> Cleaned:
    """The answer without invented links and copied scaffolding; allowed links are kept as written."""
    allowed = list(allowed)
    removed_markers: list[str] = []

    def drop_marker(m: re.Match[str]) -> str:
        removed_markers.append(m.group())
        return ""

    out = _SOURCE_LINE.sub(drop_marker, text)
    out = _CITATION.sub(drop_marker, out)
    out = _SOURCE_LABEL.sub(drop_marker, out)
    if context_header and context_header.strip():
        pattern = re.compile(re.escape(context_header.strip()), re.IGNORECASE)
        out = pattern.sub(drop_marker, out)
    bad = set(invented_urls(out, allowed))
    removed_links: list[str] = []

    def drop_url(m: re.Match[str]) -> str:
        url = _strip_url(m.group())
        if url in bad:
            removed_links.append(url)
            return m.group()[len(url):]  # keep the sentence punctuation that followed
        return m.group()

    out = URL_RE.sub(drop_url, out)
    if removed_links or removed_markers:
        out = _tidy(out).strip()
    return Cleaned(text=out, removed_links=removed_links, removed_markers=removed_markers)


class HygieneFilter:
    """`clean_answer` over a token stream: text deltas in, cleaned deltas out, same final text.

    Text is handed on up to a point where nothing open could still become a link or a marker: the word
    being written (it may grow into a URL), and from an unclosed "[" or "(" on the current line (it may
    be a citation or a source line) until it closes, at most `max_hold` characters. Each settled piece is
    cleaned on its own; pieces end at whitespace outside brackets, so no link or marker straddles two.
    """

    def __init__(self, allowed: Iterable[str], context_header: str | None = None, max_hold: int = 400) -> None:
        self.allowed = list(allowed)
        self.header = context_header
        self.max_hold = max_hold
        self._pending = ""
        self._out: list[str] = []
        self.removed_links: list[str] = []
        self.removed_markers: list[str] = []

    def _settle_point(self, text: str) -> int:
        ws = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))
        if ws < 0:
            return 0
        cut = ws + 1
        line_start = text.rfind("\n", 0, cut) + 1
        line = text[line_start:cut]
        opened = max(line.rfind("["), line.rfind("("))
        unclosed = opened >= 0 and line.rfind("]") < opened and line.rfind(")") < opened
        if unclosed and len(text) - (line_start + opened) <= self.max_hold:
            cut = line_start + opened
        if self.header:  # the header may be written across several words
            low = text[:cut].lower()
            head = self.header.strip().lower()
            for k in range(min(len(head), len(low)), 0, -1):
                if low.endswith(head[:k]) and (cut - k == 0 or not low[cut - k - 1].isalnum()):
                    if k < len(head):
                        cut -= k
                    break
        return cut

    def _emit(self, piece: str) -> str:
        if not piece:
            return ""
        cleaned = clean_answer(piece, self.allowed, self.header)
        self.removed_links += cleaned.removed_links
        self.removed_markers += cleaned.removed_markers
        text = cleaned.text if (cleaned.removed_links or cleaned.removed_markers) else piece
        if (cleaned.removed_links or cleaned.removed_markers) and piece[-1:].isspace() and not text[-1:].isspace():
            text += piece[-1]
        self._out.append(text)
        return text

    def feed(self, delta: str) -> str:
        self._pending += delta
        cut = self._settle_point(self._pending)
        piece, self._pending = self._pending[:cut], self._pending[cut:]
        return self._emit(piece)

    def finish(self) -> str:
        piece, self._pending = self._pending, ""
        return self._emit(piece)

    @property
    def text(self) -> str:
        return "".join(self._out)
