"""Config for tests: the YAML defaults with some fields changed (the schemas have no defaults of their own).

`configured("crawl", retries={"max_attempts": 2}, allow_private_addresses=True)` validates the composed
`crawl` group with those fields merged in (nested models take dicts), so a test states only what it
changes and still gets every other value from conf/.
"""

from __future__ import annotations

from typing import Any

from llm_twin.config import load_group
from llm_twin.config.base import Schema


def _merge(base: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in updates.items():
        if isinstance(value, Schema):
            value = value.model_dump()
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def configured(group: str, **updates: Any) -> Any:
    """The group's default config (composed from conf/) with `updates` merged in, validated."""
    base = load_group(group)
    return type(base).model_validate(_merge(base.model_dump(), updates))


def author(full_name: str = "Maya Lindqvist", **fields: Any) -> Any:
    """An author config with only what the test names (no links, exports or repositories otherwise)."""
    from llm_twin.config import AuthorConfig

    return AuthorConfig.model_validate({"links": [], "exports": [], "repositories": [], "full_name": full_name, **fields})
