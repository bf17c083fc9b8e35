"""Custom Quix BatchingSink writing the feature store through `FeatureWriter`.

Quix calls `write` once per checkpoint with every change processed since the last one, which is where
embedding happens: one batched `encode` for all chunks of the checkpoint (batch size 1 would run at a
fraction of the model's throughput). Writes are idempotent (deterministic point ids), deletes remove a
document's points, a shortened document loses its stale chunks. If `write` raises, the checkpoint is not
committed and Kafka redelivers the batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from quixstreams.sinks import BatchingSink, SinkBatch

from llm_twin.features.writer import FeatureWriter, WriteReport

log = logging.getLogger(__name__)


class QdrantFeatureSink(BatchingSink):
    def __init__(
        self,
        writer: FeatureWriter,
        skip_unchanged: bool = True,
        on_written: Callable[[WriteReport, float], None] | None = None,
    ) -> None:
        super().__init__()
        self.writer = writer
        self.skip_unchanged = skip_unchanged
        self.on_written = on_written
        self.report = WriteReport()
        self.batches = 0

    def setup(self) -> None:
        self.writer.store.ensure_collections()
        _ = self.writer.embedder  # load the model once, before the first batch

    def write(self, batch: SinkBatch) -> None:
        changes = [item.value for item in batch]
        report = self.writer.apply(changes, skip_unchanged=self.skip_unchanged)
        self.report.merge(report)
        self.batches += 1
        log.info("sink batch %d: %d changes, %s", self.batches, len(changes), report.as_metadata())
        if self.on_written is not None:
            self.on_written(report, time.time())
