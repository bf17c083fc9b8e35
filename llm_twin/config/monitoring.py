"""`conf/monitoring/<name>.yaml`: prompt monitoring of the served twin."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llm_twin.config.base import Schema


class MonitoringConfig(Schema):
    enabled: bool
    sinks: list[Literal["warehouse", "comet", "memory"]]
    collection: str
    comet_project: str
    comet_offline_dir: str | None
    max_queue: int = Field(ge=1)
    store_prompt: bool
