"""What a served twin needs at runtime, written next to the GGUF by the deploy step (`runtime.json`).

Everything here is declarative and secret-free: addresses that may carry credentials (Mongo URI, Qdrant
URL and keys, the API key, LLM endpoint keys) are read from the environment when the service starts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel

from llm_twin.inference.settings import ServingSettings
from llm_twin.monitoring.traces import MonitoringSettings
from llm_twin.rag.embedder import EmbeddingSettings
from llm_twin.rag.settings import RetrievalSettings

RUNTIME_FILE = "runtime.json"


class RuntimeConfig(BaseModel):
    model_version: str = "unversioned"
    author: str | None = None
    retrieval: RetrievalSettings = RetrievalSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    serving: ServingSettings = ServingSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    qdrant_url: str | None = None  # live store; None = the index snapshot packaged in the bento
    mongo_uri: str | None = None  # only written when it carries no credentials
    mongo_database: str = "llm_twin"
    timeout_s: float = 5.0

    def write(self, folder: Path) -> Path:
        data = self.model_dump(mode="json")
        if self.mongo_uri and "@" in self.mongo_uri:
            data["mongo_uri"] = None
        path = Path(folder) / RUNTIME_FILE
        path.write_text(json.dumps(data, indent=2))
        return path

    @classmethod
    def read(cls, folder: Path) -> "RuntimeConfig":
        cfg = cls.model_validate(json.loads((Path(folder) / RUNTIME_FILE).read_text()))
        return cfg.with_env()

    def with_env(self) -> "RuntimeConfig":
        """Environment overrides: secrets and live addresses are decided where the service runs."""
        update: dict = {}
        if os.environ.get("MONGODB_URI"):
            update["mongo_uri"] = os.environ["MONGODB_URI"]
        if os.environ.get("MONGODB_DATABASE"):
            update["mongo_database"] = os.environ["MONGODB_DATABASE"]
        if os.environ.get("QDRANT_URL"):
            update["qdrant_url"] = os.environ["QDRANT_URL"]
        return self.model_copy(update=update)
