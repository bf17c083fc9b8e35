"""`conf/crawl/<name>.yaml`: how links are crawled: polite, bounded and identified."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator

from llm_twin.config.base import Schema


def check_networks(networks: list[str]) -> list[str]:
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ValueError(f"allowed_networks: {network!r} is not an IP network (e.g. 10.1.0.0/16)") from exc
    return networks


class RetryConfig(Schema):
    """Bounded retries for transient failures (timeouts, connection errors, the listed statuses)."""

    max_attempts: int = Field(ge=1, le=10)
    backoff_base_s: float = Field(ge=0)
    backoff_max_s: float = Field(ge=0)
    retry_after_max_s: float = Field(ge=0, description="a longer Retry-After fails the link instead")
    retry_statuses: list[int]


class RateLimitConfig(Schema):
    """Minimum seconds between two requests to the same host (robots.txt Crawl-delay may raise it)."""

    min_interval_s: float = Field(ge=0)
    per_domain: dict[str, float]

    def interval_for(self, host: str) -> float:
        for domain, interval in self.per_domain.items():
            if host == domain or host.endswith("." + domain):
                return interval
        return self.min_interval_s


class GitConfig(Schema):
    """Limits of the repository crawler: shallow clone, then a walk that keeps only source text."""

    clone_timeout_s: float = Field(gt=0)
    max_file_bytes: int = Field(gt=0)
    max_total_bytes: int = Field(gt=0, description="keeps a repository document below MongoDB's 16 MB")
    max_files: int = Field(gt=0)
    skip_dirs: list[str]
    skip_files: list[str]
    skip_extensions: list[str]
    url_rewrites: dict[str, str] = Field(description="like git's url.<base>.insteadOf")
    protocols: list[Literal["https", "http", "file"]] = Field(
        description="https: host checked and pinned; http: opt-in; file: only under the repos folder"
    )


class ExportLimitsConfig(Schema):
    """Bounds of reading one platform export (a zip or a folder): a hostile archive cannot fill memory."""

    max_member_bytes: int = Field(gt=0, description="real (decompressed) size of one file")
    max_members: int = Field(gt=0, description="entries in a zip")
    max_ratio: float = Field(gt=1, description="decompressed / compressed size of a zip member")
    ratio_grace_bytes: int = Field(ge=0, description="small members may compress better than max_ratio")


def check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
    return patterns


class DiscoveryConfig(Schema):
    """Author links that expand to the author's posts: RSS / Atom feeds, sitemaps (and sitemap indexes),
    Substack publications and Medium profiles. Each entry is crawled like a link; when its page cannot be
    fetched, the feed's own full content (content:encoded, Atom content) is used."""

    enabled: bool
    max_entries: int = Field(ge=1, description="entries taken from one discovered source; the rest are "
                                               "reported as over the limit")
    max_sitemaps: int = Field(ge=1, description="child sitemaps read from one sitemap index")
    feed_content: Literal["fallback", "prefer", "never"] = Field(
        description="fallback: the feed's content when the page cannot be fetched; prefer: the feed's content "
                    "without fetching the page; never: pages only")
    content_types: list[str] = Field(description="media types a feed or sitemap may be served as")
    feed_url_patterns: list[str] = Field(description="regexes on the lower-cased path?query of a feed link")
    sitemap_url_patterns: list[str] = Field(description="regexes on the lower-cased path?query of a sitemap link")
    sitemap_exclude_patterns: list[str] = Field(description="sitemap URLs that are not posts (tags, categories...)")

    @field_validator("feed_url_patterns", "sitemap_url_patterns", "sitemap_exclude_patterns")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        return check_patterns(patterns)


class CrawlConfig(Schema):
    user_agent: str = Field(min_length=1)
    connect_timeout_s: float = Field(gt=0)
    read_timeout_s: float = Field(gt=0)
    total_timeout_s: float = Field(gt=0, description="whole download of one response, slow drips included")
    max_body_bytes: int = Field(gt=0)
    max_redirects: int = Field(ge=0)
    allowed_content_types: list[str]
    respect_robots: bool
    robots_max_bytes: int = Field(gt=0)
    allow_private_addresses: bool
    allowed_networks: list[str] = Field(description="CIDRs allowed without allowing every private network")
    min_text_chars: int = Field(ge=0)
    retries: RetryConfig
    rate_limit: RateLimitConfig
    crawlers: dict[str, str] = Field(description="domain[:port][/path-prefix] -> crawler name")
    default_crawler: str
    git: GitConfig
    exports: ExportLimitsConfig
    discovery: DiscoveryConfig

    @field_validator("allowed_networks")
    @classmethod
    def _ip_networks(cls, networks: list[str]) -> list[str]:
        return check_networks(networks)
