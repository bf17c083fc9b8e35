"""What a served twin needs at runtime, written next to the GGUF by the deploy step (`runtime.json`).

The config groups the service uses, validated by the same schemas as the pipelines (a bento is served
outside the project, without `conf/`, so it carries them whole). Secret-free: the infra part holds
`env:` references, resolved by `llm_twin.connections` where the service runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.infra import InfraConfig
from llm_twin.config.monitoring import MonitoringConfig
from llm_twin.config.retrieval import RetrievalConfig
from llm_twin.config.serving import ServingConfig

RUNTIME_FILE = "runtime.json"


class RuntimeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_version: str
    author: str | None
    retrieval: RetrievalConfig
    embedding: EmbeddingConfig
    serving: ServingConfig
    monitoring: MonitoringConfig
    infra: InfraConfig

    def write(self, folder: Path) -> Path:
        path = Path(folder) / RUNTIME_FILE
        path.write_text(json.dumps(self.model_dump(mode="json"), indent=2))
        return path

    @classmethod
    def read(cls, folder: Path) -> RuntimeConfig:
        return cls.model_validate(json.loads((Path(folder) / RUNTIME_FILE).read_text()))
