"""Custom Quix BatchingSink writing the feature store through `FeatureWriter`.

Quix calls `write` once per checkpoint with every change processed since the last one, which is where
embedding happens: one batched `encode` for all chunks of the checkpoint (batch size 1 would run at a
fraction of the model's throughput). Writes are idempotent (deterministic point ids), deletes remove a
document's points, a shortened document loses its stale chunks. If `write` raises, the checkpoint is not
committed and Kafka redelivers the batch; transient Qdrant errors (no answer, 5xx, 429) are retried
with exponential backoff for up to `retry_for_s` first, so a Qdrant restart does not end the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from quixstreams.sinks import BatchingSink, SinkBatch
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential_jitter

from llm_twin.features.writer import FeatureWriter, WriteReport

log = logging.getLogger(__name__)


def is_transient(exc: BaseException) -> bool:
    """Qdrant errors worth retrying: no answer, a timeout, or a 5xx / 429 from the server."""
    if isinstance(exc, UnexpectedResponse):
        code = exc.status_code or 0
        return code >= 500 or code == 429
    return isinstance(exc, ResponseHandlingException | ConnectionError | TimeoutError)


class QdrantFeatureSink(BatchingSink):
    def __init__(
        self,
        writer: FeatureWriter,
        skip_unchanged: bool = True,
        on_written: Callable[[WriteReport, float], None] | None = None,
        retry_for_s: float = 300.0,
    ) -> None:
        super().__init__()
        self.writer = writer
        self.skip_unchanged = skip_unchanged
        self.on_written = on_written
        self.report = WriteReport()
        self.batches = 0
        self.retry_for_s = retry_for_s

    def setup(self) -> None:
        self.writer.store.ensure_collections()
        _ = self.writer.embedder  # load the model once, before the first batch

    def write(self, batch: SinkBatch) -> None:
        changes = [item.value for item in batch]
        retrying = Retrying(  # a transient Qdrant error backs off instead of killing the long-running app
            retry=retry_if_exception(is_transient),
            wait=wait_exponential_jitter(initial=0.5, max=15.0),
            stop=stop_after_delay(self.retry_for_s),
            reraise=True,
            before_sleep=lambda state: log.warning(
                "Qdrant write failed (%s); retrying", state.outcome.exception() if state.outcome else "?"
            ),
        )
        report = retrying(self.writer.apply, changes, skip_unchanged=self.skip_unchanged)
        self.report.merge(report)
        self.batches += 1
        log.info("sink batch %d: %d changes, %s", self.batches, len(changes), report.as_metadata())
        if self.on_written is not None:
            self.on_written(report, time.time())
