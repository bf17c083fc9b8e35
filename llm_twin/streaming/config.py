"""Settings of the Quix Streams app (`features.stream` in conf/features/*.yaml)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StreamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = "llm_twin.changes"
    consumer_group: str = "llm_twin-features"
    auto_offset_reset: str = Field(default="earliest", pattern="^(earliest|latest)$")
    commit_interval_s: float = Field(default=0.5, gt=0)  # sink flush (embed + write) cadence
    commit_every: int = Field(default=256, ge=0)  # also flush after this many messages (bounds a batch)
    source_batch: int = Field(default=200, gt=0)  # RabbitMQ messages produced before flush + ack
    source_prefetch: int = Field(default=400, gt=0)
    source_idle_flush_s: float = Field(default=0.05, gt=0)
    produce_flush_timeout_s: float = Field(default=10.0, gt=0)
    idle_timeout_s: float = Field(default=8.0, gt=0)  # bounded mode: stop after this long without messages
    skip_unchanged: bool = True  # redelivered, unchanged documents are not embedded again
    loglevel: str = "WARNING"
    consumer_extra: dict[str, Any] = Field(
        default_factory=lambda: {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
    )

    def with_names(self, suffix: str) -> "StreamConfig":
        return self.model_copy(
            update={"topic": f"{self.topic}.{suffix}", "consumer_group": f"{self.consumer_group}.{suffix}"}
        )
