"""Crawl settings (the `crawl` Hydra group), validated once at the boundary.

Everything that makes crawling polite and bounded lives here rather than in code: timeouts, retries,
rate limits, size limits, the user agent, and which crawler handles which domain. Adding a domain to a
crawler is a YAML change.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_CRAWLERS: dict[str, str] = {
    "medium.com": "medium",
    "substack.com": "substack",
    "linkedin.com": "linkedin",
    "github.com": "github",
}


class RetryConfig(BaseModel):
    """Bounded retries for transient failures (timeouts, connection errors, 429, 5xx)."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_base_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    retry_after_max_s: float = Field(default=60.0, ge=0)  # a longer Retry-After fails the link instead
    retry_statuses: list[int] = Field(default_factory=lambda: [429, 500, 502, 503, 504])


class RateLimitConfig(BaseModel):
    """Minimum seconds between two requests to the same host (robots.txt Crawl-delay may raise it)."""

    model_config = ConfigDict(extra="forbid")

    min_interval_s: float = Field(default=1.0, ge=0)
    per_domain: dict[str, float] = Field(default_factory=dict)

    def interval_for(self, host: str) -> float:
        for domain, interval in self.per_domain.items():
            if host == domain or host.endswith("." + domain):
                return interval
        return self.min_interval_s


class GitConfig(BaseModel):
    """Limits of the repository crawler: shallow clone, then a file walk that keeps only source text."""

    model_config = ConfigDict(extra="forbid")

    clone_timeout_s: float = Field(default=120.0, gt=0)
    max_file_bytes: int = Field(default=200_000, gt=0)
    max_total_bytes: int = Field(default=8_000_000, gt=0)  # stays well below MongoDB's 16 MB document
    max_files: int = Field(default=2_000, gt=0)
    skip_dirs: list[str] = Field(
        default_factory=lambda: [
            ".git", ".github", "node_modules", "vendor", "vendored", "third_party", "third-party", "dist",
            "build", "target", "out", "__pycache__", ".venv", "venv", "env", ".tox", ".nox", ".mypy_cache",
            ".pytest_cache", ".ruff_cache", "site-packages", ".idea", ".vscode", "coverage", ".next",
            "generated", "_generated", "gen", ".eggs",
        ]
    )
    skip_files: list[str] = Field(
        default_factory=lambda: [
            "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "uv.lock",
            "Cargo.lock", "composer.lock", "Gemfile.lock", "go.sum", "pdm.lock", "bun.lockb", ".DS_Store",
        ]
    )
    skip_extensions: list[str] = Field(
        default_factory=lambda: [
            ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".svg", ".webp", ".pdf", ".zip", ".gz", ".tgz",
            ".bz2", ".xz", ".7z", ".tar", ".jar", ".war", ".whl", ".egg", ".so", ".dll", ".dylib", ".exe",
            ".bin", ".o", ".a", ".pyc", ".pyo", ".class", ".pt", ".pth", ".onnx", ".safetensors", ".gguf",
            ".parquet", ".arrow", ".feather", ".h5", ".hdf5", ".pkl", ".pickle", ".npy", ".npz", ".db",
            ".sqlite", ".lock", ".min.js", ".min.css", ".map", ".woff", ".woff2", ".ttf", ".eot", ".mp3",
            ".mp4", ".wav", ".mov", ".ipynb",
        ]
    )
    # Like git's `url.<base>.insteadOf`: clone URL prefix -> replacement (mirrors, local copies, tests).
    url_rewrites: dict[str, str] = Field(default_factory=dict)
    # Clone protocols: https (host checked and pinned like any fetch), http (opt-in), file (only under the
    # project's repos folder, where local code folders are published). ssh/git:// are never used.
    protocols: list[Literal["https", "http", "file"]] = Field(default_factory=lambda: ["https", "file"])


class CrawlConfig(BaseModel):
    """The composed `crawl` config node."""

    model_config = ConfigDict(extra="forbid")

    user_agent: str = "LLMTwinBot/0.1 (+https://github.com/llm-twin/llm-twin; personal content collection)"
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=15.0, gt=0)
    total_timeout_s: float = Field(default=60.0, gt=0)  # whole download of one response, slow drips included
    max_body_bytes: int = Field(default=5_000_000, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    allowed_content_types: list[str] = Field(default_factory=lambda: ["text/html", "application/xhtml+xml"])
    respect_robots: bool = True
    robots_max_bytes: int = Field(default=500_000, gt=0)
    allow_private_addresses: bool = False  # loopback / private networks are refused unless allowed
    allowed_networks: list[str] = Field(default_factory=list)  # CIDRs allowed without allowing all private ones
    min_text_chars: int = Field(default=200, ge=0)  # below this an article page counts as "no content"
    retries: RetryConfig = Field(default_factory=RetryConfig)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    crawlers: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CRAWLERS))
    default_crawler: str = "generic"
    git: GitConfig = Field(default_factory=GitConfig)

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, networks: list[str]) -> list[str]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"allowed_networks: {network!r} is not an IP network (e.g. 10.1.0.0/16)") from exc
        return networks

    @classmethod
    def from_config(cls, node: Any) -> CrawlConfig:
        """Build from the `crawl` config node (DictConfig or dict); `None` gives the defaults."""
        if node is None:
            return cls()
        from llm_twin.config import to_plain

        data = to_plain(node)
        return cls.model_validate(data)
