"""Reading untrusted XML (feeds and sitemaps) safely, and telling a feed or sitemap from a page by its body.

Every feed or sitemap body is parsed by defusedxml first: a document that declares entities (the
"billion laughs" bomb, external entities such as `<!ENTITY x SYSTEM "file:///etc/passwd">`) is refused
as `unsafe_xml`, and one that is not well-formed is refused as `bad_xml` with the parser's line and
column, so nothing is ever read from a broken or hostile document. An external DTD reference (RSS 0.91's
`<!DOCTYPE rss PUBLIC ...>`) is allowed: it is never fetched. The size of the body is bounded before it
gets here (the fetcher's `max_body_bytes`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only the Element type and ParseError: parsing is defusedxml's

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from llm_twin.crawlers.errors import CollectError
from llm_twin.web import mask_url

FEED_ROOTS = frozenset({"rss", "feed", "RDF"})  # RSS 0.9x/2.0, Atom, RSS 1.0 (rdf:RDF)
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_PROLOG = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)*<([A-Za-z_][\w:.-]*)",
    re.DOTALL | re.IGNORECASE,
)
SNIFF_BYTES = 8192


def local_name(tag: str) -> str:
    """`{namespace}name` or `prefix:name` → `name`."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def sniff_root(body: bytes) -> str | None:
    """The local name of the root element of an XML/HTML body (after its prolog), or None if it has none."""
    match = _PROLOG.match(body[:SNIFF_BYTES])
    return local_name(match.group(1).decode("ascii", "replace")) if match else None


def is_feed_or_sitemap(body: bytes) -> bool:
    return sniff_root(body) in FEED_ROOTS | SITEMAP_ROOTS


def parse_xml(body: bytes, url: str) -> ET.Element:
    """The root element of a well-formed XML document without entity declarations; `CollectError` otherwise."""
    shown = mask_url(url)
    try:
        return SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CollectError("unsafe_xml", f"{shown} declares XML entities ({exc}); entity declarations are refused "
                                         "(XML bombs, external entities), nothing was read from it") from exc
    except ET.ParseError as exc:
        raise CollectError("bad_xml", f"{shown} is not well-formed XML ({exc}); nothing was read from it") from exc
