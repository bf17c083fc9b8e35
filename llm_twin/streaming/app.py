"""The Quix Streams feature app: RabbitMQ Source → Kafka topic → decode/clean/chunk → Qdrant sink.

Long-running:  python -m llm_twin.streaming.app [--infra local] [overrides...]
Bounded:       python -m llm_twin.streaming.app --bounded   (drain until idle for `stream.idle_timeout_s`)
Add `--reconcile` to re-publish whatever differs between the warehouse and Qdrant before consuming.

The entry point stays under `if __name__ == "__main__":` because Quix spawns the Source in a subprocess
that re-imports modules.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quixstreams import Application

from llm_twin.cdc.broker import ConfirmedPublisher
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.features.embedding import get_embedder
from llm_twin.features.processing import FeatureBuilder
from llm_twin.features.writer import FeatureWriter, WriteReport
from llm_twin.paths import state_dir
from llm_twin.streaming.settings import StreamSettings, add_settings_args, settings_from_args
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


def build_app(
    settings: StreamSettings,
    store: FeatureStore,
    on_written: Callable[[WriteReport, float], None] | None = None,
) -> tuple[Application, QdrantFeatureSink, DeadLetterHandler]:
    conns, stream, cdc = settings.connections, settings.features.stream, settings.features.cdc
    rabbit_url = conns.rabbitmq_url.get_secret_value()
    dead_letters = DeadLetterHandler(ConfirmedPublisher(rabbit_url, cdc, conns.timeout_s))
    app = Application(
        broker_address=conns.kafka_bootstrap,
        consumer_group=stream.consumer_group,
        auto_offset_reset=stream.auto_offset_reset,  # type: ignore[arg-type]
        commit_interval=stream.commit_interval_s,
        commit_every=stream.commit_every,
        consumer_extra_config=dict(stream.consumer_extra),
        state_dir=state_dir("quix"),
        use_changelog_topics=False,
        loglevel=stream.loglevel,  # type: ignore[arg-type]
        on_processing_error=dead_letters,
        request_timeout=conns.timeout_s,
    )
    topic = app.topic(stream.topic, key_deserializer="str", value_deserializer="json")
    source = RabbitMQSource(
        name=f"rabbitmq-{cdc.queue}",
        rabbitmq_url=rabbit_url,
        cdc=cdc,
        timeout_s=conns.timeout_s,
        batch=stream.source_batch,
        prefetch=stream.source_prefetch,
        idle_flush_s=stream.source_idle_flush_s,
        flush_timeout_s=stream.produce_flush_timeout_s,
    )
    app.add_source(source, topic=topic)

    stages = Stages(FeatureBuilder(settings.features, settings.embedding))
    writer = FeatureWriter(store, lambda: get_embedder(settings.embedding))
    sink = QdrantFeatureSink(writer, skip_unchanged=stream.skip_unchanged, on_written=on_written)
    sdf = app.dataframe(topic)
    sdf = sdf.apply(stages.decode)  # JSON → ChangeMessage (+ parsed warehouse document)
    sdf = sdf.apply(stages.clean)  # per data type cleaning
    sdf = sdf.apply(stages.chunk)  # token-aware chunks → FeatureChange
    sdf.sink(sink)  # batched embedding + idempotent Qdrant writes
    return app, sink, dead_letters


def run_stream(
    settings: StreamSettings,
    bounded: bool = True,
    reconcile_first: bool = False,
    on_written: Callable[[WriteReport, float], None] | None = None,
    on_ready: Callable[[Application], None] | None = None,
) -> StreamReport:
    """Run the app until stopped (long-running) or until idle (bounded); owns the Qdrant store meanwhile."""
    import pymongo

    from llm_twin.cdc.reconcile import reconcile

    started = time.perf_counter()
    report = StreamReport()
    store = FeatureStore(settings.connections, settings.embedding.dimension)
    try:
        store.ensure_collections()
        if reconcile_first:
            conns, cdc = settings.connections, settings.features.cdc
            with pymongo.MongoClient(conns.mongo_uri, serverSelectionTimeoutMS=int(conns.timeout_s * 1000)) as client:
                with ConfirmedPublisher(conns.rabbitmq_url.get_secret_value(), cdc, conns.timeout_s) as publisher:
                    report.reconciled = reconcile(client[conns.mongo_database], store, publisher, cdc.collections)
            log.info("reconciliation: %s", report.reconciled)
        app, sink, dead_letters = build_app(settings, store, on_written)
        if on_ready is not None:
            on_ready(app)
        app.run(timeout=settings.features.stream.idle_timeout_s if bounded else 0.0, collect=False)
        report.write = sink.report
        report.dead_lettered = dead_letters.count
        dead_letters.publisher.close()
    finally:
        store.close()
    report.duration_s = time.perf_counter() - started
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_settings_args(parser)
    parser.add_argument("--bounded", action="store_true", help="stop after stream.idle_timeout_s without messages")
    parser.add_argument("--reconcile", action="store_true", help="re-publish warehouse/Qdrant differences first")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    settings = settings_from_args(args)
    report = run_stream(settings, bounded=args.bounded, reconcile_first=args.reconcile)
    print(json.dumps(report.as_metadata()))


if __name__ == "__main__":
    main()
