"""The project's one outbound HTTP path: an SSRF-safe fetcher (address policy checked and pinned on every
hop, hand-followed redirects, connect/read/total deadlines, size and content-type limits) and tenacity
retries. Used by the crawlers (pages and robots.txt) and by URL grounding in the served twin; the git
crawler uses the same address policy for `git clone`."""

from llm_twin.web.addresses import AddressPolicy, Resolver, classify, resolve_checked
from llm_twin.web.errors import FetchError
from llm_twin.web.fetch import Fetcher, FetchLimits, Response, decode_body
from llm_twin.web.retry import RetrySettings, call_with_retries, parse_retry_after
from llm_twin.web.urls import Target, mask_secrets, mask_url, parse_target

__all__ = [
    "AddressPolicy", "FetchError", "FetchLimits", "Fetcher", "Resolver", "Response", "RetrySettings", "Target",
    "call_with_retries", "classify", "decode_body", "mask_secrets", "mask_url", "parse_retry_after", "parse_target",
    "resolve_checked",
]
