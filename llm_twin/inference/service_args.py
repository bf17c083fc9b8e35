"""The twin service's BentoML arguments (`bentoml.use_arguments`): what to serve and where the key lives.

Set at build time (`pipeline=deploy` pins the exact model tags it just saved; they are stored in the
bento, which is why `bentoml serve llm_twin:latest` serves the last deployed twin), or with
`--arg name=value` when serving the source folder in development:
    cd bentos && bentoml serve . --arg bundle_dir=$PWD/../.twin/bundles/<version>   (an absolute path)

Secrets never go through arguments (they would be stored in the bento): the API key's value is read
from the environment variable named by `api_key_env`, per request.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llm_twin.inference.access import DEFAULT_KEY_ENV


class ServiceArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bundle_dir: str | None = Field(
        default=None, description="serve this bundle folder (<dir>/model, <dir>/index) instead of the model store")
    gguf_model: str = Field(default="llm_twin_gguf:latest", description="BentoML model: the served model")
    index_model: str = Field(default="llm_twin_index:latest", description="BentoML model: the index snapshot")
    api_key_env: str = Field(default=DEFAULT_KEY_ENV, description="environment variable holding the API key")

    @field_validator("bundle_dir")
    @classmethod
    def _absolute_bundle_dir(cls, value: str | None) -> str | None:
        if value and not Path(value).expanduser().is_absolute():
            raise ValueError(f"bundle_dir must be an absolute path (the workers run in another folder), got {value!r}")
        return str(Path(value).expanduser()) if value else None

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(f"api_key_env must be an environment variable name, got {value!r}")
        return value
