"""`conf/stream/<name>.yaml`: the Quix Streams app (RabbitMQ Source → Kafka → clean/chunk/embed → Qdrant)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from llm_twin.config.base import Schema


class StreamConfig(Schema):
    topic: str
    consumer_group: str
    auto_offset_reset: Literal["earliest", "latest"]
    commit_interval_s: float = Field(gt=0, description="sink flush (embed + write) cadence")
    commit_every: int = Field(ge=0, description="also flush after this many messages")
    consumer_poll_timeout_s: float = Field(gt=0, description=(
        "longest wait for a message before the app checks its checkpoint timer: with Quix's 1 s default a lone "
        "change waited out the whole poll before its flush"))
    source_batch: int = Field(gt=0, description="RabbitMQ messages produced before flush + ack")
    source_prefetch: int = Field(gt=0)
    source_idle_flush_s: float = Field(gt=0)
    produce_flush_timeout_s: float = Field(gt=0)
    idle_timeout_s: float = Field(gt=0, description="bounded mode: stop after this long without messages")
    skip_unchanged: bool = Field(description="redelivered, unchanged documents are not embedded again")
    loglevel: str
    consumer_extra: dict[str, Any] = Field(description="librdkafka consumer settings")
    bounded: bool = Field(description="drain until idle, then stop (entry point); the pipeline sets it")
    reconcile: bool = Field(description="re-publish warehouse/Qdrant differences before consuming")
    supervise: bool = Field(description="long-running: run the app as a child process that is "
                            "started again, with a reconciliation, when it fails")
    max_restarts: int = Field(ge=0, description="long-running: broker/Source failures in a row "
                              "survived (back off, reconcile, start again) before the supervisor gives up")
    restart_backoff_s: float = Field(ge=0, description="first back-off; doubles per failure, at most 60 s")
    healthy_run_s: float = Field(gt=0, description="a run this long resets the failure count")

    def with_names(self, suffix: str) -> StreamConfig:
        return self.model_copy(
            update={"topic": f"{self.topic}.{suffix}", "consumer_group": f"{self.consumer_group}.{suffix}"}
        )
