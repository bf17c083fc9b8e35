"""Settings of the CDC watcher and its RabbitMQ topology (`features.cdc` in conf/features/*.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CdcConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collections: list[str] = Field(default_factory=lambda: ["articles", "posts", "repositories"])
    exchange: str = "llm_twin.changes"
    queue: str = "llm_twin.features"
    routing_key: str = "features"
    dead_letter_exchange: str = "llm_twin.changes.dlx"
    dead_letter_queue: str = "llm_twin.features.dead"
    state_collection: str = "cdc_state"  # warehouse collection holding confirmed resume tokens
    watcher_name: str = "features"
    fresh_start: str = Field(default="snapshot", pattern="^(snapshot|now)$")  # no token yet: publish existing docs?
    max_batch: int = Field(default=200, gt=0)  # events published before a token is saved
    poll_interval_s: float = Field(default=0.05, gt=0)
    idle_s: float = Field(default=1.0, gt=0)  # bounded mode: stop after this long without events
    retry_initial_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=15.0, gt=0)
    retry_attempts: int = Field(default=0, ge=0)  # 0 = keep retrying (long-running); >0 = bounded

    def with_names(self, suffix: str) -> "CdcConfig":
        """Same settings with unique exchange/queue/state names (tests, parallel demos)."""
        return self.model_copy(
            update={
                "exchange": f"{self.exchange}.{suffix}",
                "queue": f"{self.queue}.{suffix}",
                "dead_letter_exchange": f"{self.dead_letter_exchange}.{suffix}",
                "dead_letter_queue": f"{self.dead_letter_queue}.{suffix}",
                "watcher_name": f"{self.watcher_name}.{suffix}",
            }
        )
