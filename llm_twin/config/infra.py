"""`conf/infra/<name>.yaml`: where the warehouse, queue, stream broker and feature store are.

Values that may carry a secret or differ per machine are written as `env:NAME` (or `env:NAME|default`)
references; `llm_twin.connections` resolves them when a connection is made, so no secret is ever in a
YAML file, in the composed config or in the pipeline parameters ZenML records.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llm_twin.config.base import Schema


class InfraConfig(Schema):
    mode: Literal["local", "cloud"]
    mongo_uri: str
    mongo_port: int | None = Field(description="local mode: the port the embedded server listens on")
    mongo_database: str
    rabbitmq_url: str
    kafka_bootstrap: str
    kafka_port: int | None = Field(description="local mode: the port the embedded broker listens on")
    qdrant_path: str | None = Field(description="local mode: storage folder (one process at a time)")
    qdrant_url: str | None = Field(description="server mode: the shared live store")
    qdrant_api_key: str | None
    timeout_s: float = Field(gt=0)
