"""`conf/crawl/<name>.yaml`: how links are crawled: polite, bounded and identified."""

from __future__ import annotations

from pydantic import Field

from llm_twin.config.base import Schema


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
    min_text_chars: int = Field(ge=0)
    retries: RetryConfig
    rate_limit: RateLimitConfig
    crawlers: dict[str, str] = Field(description="domain[:port][/path-prefix] -> crawler name")
    default_crawler: str
    git: GitConfig
