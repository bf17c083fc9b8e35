"""The Quix Streams feature app: RabbitMQ Source → Kafka topic → decode/clean/chunk → Qdrant sink.

Run by the `stream` pipeline (bounded) and by `python -m llm_twin.streaming` (long-running).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database
from quixstreams import Application

from llm_twin.cdc.broker import ConfirmedPublisher
from llm_twin.cdc.reconcile import reconcile
from llm_twin.config.cdc import CdcConfig
from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.features import FeaturesConfig
from llm_twin.config.stream import StreamConfig
from llm_twin.connections import Connections
from llm_twin.embedding import get_embedder
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.features.processing import FeatureBuilder
from llm_twin.features.writer import FeatureWriter, WriteReport
from llm_twin.paths import state_dir
from llm_twin.streaming.sink import QdrantFeatureSink
from llm_twin.streaming.source import RabbitMQSource
from llm_twin.streaming.stages import Stages

log = logging.getLogger(__name__)


@dataclass
class StreamReport:
    write: WriteReport = field(default_factory=WriteReport)
    dead_lettered: int = 0
    reconciled: dict[str, dict[str, int]] = field(default_factory=dict)
    duration_s: float = 0.0

    def as_metadata(self) -> dict[str, Any]:
        return {
            **self.write.as_metadata(),
            "dead_lettered": self.dead_lettered,
            "reconciled": self.reconciled,
            "duration_s": round(self.duration_s, 2),
        }


class DeadLetterHandler:
    """Quix `on_processing_error`: park the poison message with its reason, let the stream go on."""

    def __init__(self, publisher: ConfirmedPublisher) -> None:
        self.publisher = publisher
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, exc: BaseException, row: Any, logger: logging.Logger) -> bool:
        value = getattr(row, "value", None)
        body = value if isinstance(value, bytes) else json.dumps(value, default=str).encode("utf-8")
        message_id = value.get("event_id", "") if isinstance(value, dict) else ""
        reason = f"{type(exc).__name__}: {exc}".splitlines()
        with self._lock:
            self.publisher.dead_letter(body, " ".join(reason)[:1000], message_id=str(message_id))
            self.count += 1
        return True


@dataclass(frozen=True)
class StreamSetup:
    """What the stream app is built from: the connections and the four config groups it reads."""

    connections: Connections
    embedding: EmbeddingConfig
    features: FeaturesConfig
    cdc: CdcConfig
    stream: StreamConfig

    @classmethod
    def of(cls, cfg: Any) -> StreamSetup:
        """From a composed config (DictConfig) or a mapping with the `infra`, `embedding`, `features`,
        `cdc` and `stream` groups."""
        return cls(
            connections=Connections.of(cfg["infra"]),
            embedding=EmbeddingConfig.of(cfg["embedding"]),
            features=FeaturesConfig.of(cfg["features"]),
            cdc=CdcConfig.of(cfg["cdc"]),
            stream=StreamConfig.of(cfg["stream"]),
        )


def build_app(
    setup: StreamSetup,
    store: FeatureStore,
    warehouse: Database,
    on_written: Callable[[WriteReport, float], None] | None = None,
) -> tuple[Application, QdrantFeatureSink, DeadLetterHandler]:
    """`warehouse` resolves the references (the caller owns its client and closes it)."""
    conns, stream, cdc = setup.connections, setup.stream, setup.cdc
    dead_letters = DeadLetterHandler(ConfirmedPublisher(conns, cdc))
    app = conns.quix_application(
        consumer_group=stream.consumer_group,
        auto_offset_reset=stream.auto_offset_reset,
        commit_interval=stream.commit_interval_s,
        consumer_poll_timeout=stream.consumer_poll_timeout_s,
        commit_every=stream.commit_every,
        consumer_extra_config=dict(stream.consumer_extra),
        state_dir=state_dir("quix"),
        use_changelog_topics=False,
        loglevel=stream.loglevel,
        on_processing_error=dead_letters,
    )
    topic = app.topic(stream.topic, key_deserializer="str", value_deserializer="json")
    source = RabbitMQSource(
        name=f"rabbitmq-{cdc.queue}",
        connections=conns,
        cdc=cdc,
        batch=stream.source_batch,
        prefetch=stream.source_prefetch,
        idle_flush_s=stream.source_idle_flush_s,
        flush_timeout_s=stream.produce_flush_timeout_s,
    )
    app.add_source(source, topic=topic)

    stages = Stages(FeatureBuilder(setup.features, setup.embedding), warehouse)
    writer = FeatureWriter(store, lambda: get_embedder(setup.embedding), warehouse)  # version-checked writes
    sink = QdrantFeatureSink(writer, skip_unchanged=stream.skip_unchanged, on_written=on_written)
    sdf = app.dataframe(topic)
    sdf = sdf.apply(stages.decode)  # JSON → ChangeMessage (a reference)
    sdf = sdf.apply(stages.load)  # the document's current state from the warehouse (gone = delete)
    sdf = sdf.apply(stages.clean)  # per data type cleaning
    sdf = sdf.apply(stages.chunk)  # token-aware chunks → FeatureChange
    sdf.sink(sink)  # batched embedding + idempotent Qdrant writes
    return app, sink, dead_letters


def run_stream(
    setup: StreamSetup,
    on_written: Callable[[WriteReport, float], None] | None = None,
    on_ready: Callable[[Application], None] | None = None,
) -> StreamReport:
    """Run the app until stopped (long-running) or until idle (`stream.bounded`); it owns the Qdrant store
    meanwhile. With `stream.reconcile` the drift between warehouse and Qdrant is re-published first."""
    started = time.perf_counter()
    report = StreamReport()
    conns, cdc = setup.connections, setup.cdc
    store = FeatureStore(conns, setup.embedding.dimension)
    client = conns.mongo_client()  # one warehouse client: reconciliation, then the references
    try:
        warehouse = client[conns.mongo_database]
        store.ensure_collections()
        if setup.stream.reconcile:
            with ConfirmedPublisher(conns, cdc) as publisher:
                report.reconciled = reconcile(warehouse, store, publisher, cdc.collections, setup.features.code)
            log.info("reconciliation: %s", report.reconciled)
        app, sink, dead_letters = build_app(setup, store, warehouse, on_written)
        if on_ready is not None:
            on_ready(app)
        app.run(timeout=setup.stream.idle_timeout_s if setup.stream.bounded else 0.0, collect=False)
        report.write = sink.report
        report.dead_lettered = dead_letters.count
        dead_letters.publisher.close()
    finally:
        client.close()
        store.close()
    report.duration_s = time.perf_counter() - started
    return report
