"""The base of every config schema.

Schemas validate what Hydra composed from `conf/`; the YAML files are the only source of defaults, so a
schema field has a type and constraints but no default value: a key missing from a YAML file is an error
naming the key, never a silent fallback that disagrees with the file.
"""

from __future__ import annotations

from typing import Any, Self

from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    """Strict: unknown keys fail (a typo in a YAML file is reported, not ignored)."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def of(cls, node: Any) -> Self:
        """Validate a config node: a DictConfig (resolved), a plain dict (ZenML step params) or a model."""
        if isinstance(node, cls):
            return node
        if isinstance(node, BaseModel):
            node = node.model_dump()
        if isinstance(node, DictConfig):
            node = OmegaConf.to_container(node, resolve=True)
        return cls.model_validate(node)
