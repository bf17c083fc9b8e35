"""`conf/cdc/<name>.yaml`: warehouse change streams → RabbitMQ (watcher, topology, resume tokens)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llm_twin.config.base import Schema


class CdcConfig(Schema):
    collections: list[Literal["articles", "posts", "repositories"]] = Field(min_length=1)
    exchange: str
    queue: str
    routing_key: str
    dead_letter_exchange: str
    dead_letter_queue: str
    state_collection: str = Field(description="warehouse collection holding confirmed resume tokens")
    watcher_name: str
    fresh_start: Literal["snapshot", "now"] = Field(description="no saved token: publish existing documents?")
    max_batch: int = Field(gt=0, description="events published before a resume token is saved")
    poll_interval_s: float = Field(gt=0)
    idle_s: float = Field(gt=0, description="bounded mode: stop after this long without events")
    retry_initial_s: float = Field(gt=0)
    retry_max_s: float = Field(gt=0)
    retry_attempts: int = Field(ge=0, description="0 = keep retrying (long-running); >0 = bounded")
    snapshot: bool = Field(description="publish every existing document before streaming (entry point)")
    bounded: bool = Field(description="stop once idle for idle_s (entry point); the pipeline sets it")

    def with_names(self, suffix: str) -> CdcConfig:
        """Same settings with unique exchange/queue/state names (tests, side-by-side demos)."""
        return self.model_copy(
            update={
                "exchange": f"{self.exchange}.{suffix}",
                "queue": f"{self.queue}.{suffix}",
                "dead_letter_exchange": f"{self.dead_letter_exchange}.{suffix}",
                "dead_letter_queue": f"{self.dead_letter_queue}.{suffix}",
                "watcher_name": f"{self.watcher_name}.{suffix}",
            }
        )
