"""Connection settings for the warehouse, queue, stream broker and feature store.

They come from the composed Hydra `infra` group (which reads URIs and secrets from the environment /
`.env` on `infra=cloud`), so code never hard-codes an address and no secret lives in committed YAML.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from llm_twin.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from qdrant_client import QdrantClient


class Connections(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mode: Literal["local", "cloud"] = "local"
    mongo_uri: str = "mongodb://127.0.0.1:27017"
    mongo_database: str = "llm_twin"
    rabbitmq_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/%2F")
    kafka_bootstrap: str = "127.0.0.1:9092"
    qdrant_path: Path | None = None  # local mode: storage folder (exclusive lock, one process at a time)
    qdrant_url: str | None = None  # server mode: shared live store
    qdrant_api_key: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("mongo_uri", "mongo_database", "rabbitmq_url", "kafka_bootstrap", "qdrant_url",
                     "qdrant_api_key", mode="before")
    @classmethod
    def _from_environment(cls, value: Any) -> Any:
        """`env:NAME` or `env:NAME|default`: read at connection time, never stored in config or run params."""
        if not isinstance(value, str) or not value.startswith("env:"):
            return value
        name, has_default, default = value[4:].partition("|")
        resolved = os.environ.get(name)
        if resolved is None and not has_default:
            raise ValueError(f"environment variable {name} is not set: export it or put it in .env (infra=cloud)")
        return resolved if resolved is not None else (default or None)

    @field_validator("qdrant_path")
    @classmethod
    def _absolute_path(cls, value: Path | None) -> Path | None:
        """Relative storage paths are relative to the project, not to the current directory."""
        return value if value is None or value.is_absolute() else (PROJECT_ROOT / value).resolve()

    @classmethod
    def from_config(cls, infra: Any) -> "Connections":
        """Build from the `infra` config node (a DictConfig or a plain dict)."""
        from llm_twin.config import to_plain

        data = to_plain(infra)
        data = {k: v for k, v in data.items() if v not in (None, "")}
        connections = cls.model_validate(data)
        if connections.mode == "cloud" and not (connections.qdrant_url or connections.qdrant_path):
            raise ValueError("infra=cloud needs QDRANT_URL (or infra.qdrant_path for a local Qdrant folder)")
        return connections

    def qdrant_client(self) -> "QdrantClient":
        """A client on the live server (`qdrant_url`) or on a local folder (created if missing).

        The one place a feature-store client is built from connection settings. Local mode takes an
        exclusive lock on the folder: one process (and one open client) at a time; close it when done.
        """
        from qdrant_client import QdrantClient

        if self.qdrant_url:
            key = self.qdrant_api_key.get_secret_value() if self.qdrant_api_key else None
            return QdrantClient(url=self.qdrant_url, api_key=key, timeout=int(self.timeout_s))
        if self.qdrant_path is None:
            raise ValueError("no feature store configured: set infra.qdrant_path (local) or infra.qdrant_url (server)")
        Path(self.qdrant_path).mkdir(parents=True, exist_ok=True)
        return QdrantClient(path=str(self.qdrant_path))
