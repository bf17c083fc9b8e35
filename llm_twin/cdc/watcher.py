"""The CDC watcher: one change stream per warehouse collection → confirmed RabbitMQ messages.

nx-27017 (the local warehouse) answers database- and client-level `watch()` with nothing, so each
collection gets its own stream, polled round-robin with `try_next` in one thread (pika connections are
not thread-safe). For every batch: publish each change with confirms, then save the batch's last resume
token. A collection without a saved token starts with a snapshot (every existing document published)
taken after its stream was opened, so nothing written during the snapshot is missed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pymongo.errors
from pymongo.change_stream import CollectionChangeStream
from tenacity import RetryError

from llm_twin.cdc.broker import ConfirmedPublisher, backoff
from llm_twin.cdc.tokens import ResumeTokenStore
from llm_twin.config.cdc import CdcConfig
from llm_twin.connections import Connections
from llm_twin.domain.messages import ChangeMessage, Operation

log = logging.getLogger(__name__)

_OPERATIONS = {op.value: op for op in Operation}
# MongoDB's ChangeStreamHistoryLost and ChangeStreamFatalError: the saved token can never be resumed
# from, so retrying it (what a transient error gets) would loop forever.
HISTORY_LOST_CODES = frozenset({286, 280})


@dataclass
class WatchStats:
    published: dict[str, int] = field(default_factory=dict)
    snapshot: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    reconnects: int = 0
    history_lost: dict[str, int] = field(default_factory=dict)  # resume token gone → snapshot instead

    def total(self) -> int:
        return sum(self.published.values()) + sum(self.snapshot.values())


def event_to_message(collection: str, event: dict[str, Any]) -> ChangeMessage | None:
    """A change-stream event as a queue message; None for events with nothing to apply."""
    op = _OPERATIONS.get(event.get("operationType", ""))
    if op is None:
        return None
    stamp = event.get("wallTime") or event.get("clusterTime")
    return ChangeMessage.reference(  # a reference: the stream reads the current document when processing
        op, collection, event["documentKey"]["_id"], timestamp=stamp if isinstance(stamp, datetime) else None
    )


class ChangeWatcher:
    def __init__(
        self,
        connections: Connections,
        cfg: CdcConfig,
        publisher: ConfirmedPublisher | None = None,
    ) -> None:
        self.connections = connections
        self.cfg = cfg
        self.client = connections.mongo_client()
        self.db = self.client[connections.mongo_database]
        self.publisher = publisher or ConfirmedPublisher(connections, cfg)
        self.tokens = ResumeTokenStore(self.db, cfg.state_collection, cfg.watcher_name)
        self.stats = WatchStats()
        self._stop = threading.Event()
        self._streams: dict[str, CollectionChangeStream] = {}

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._close_streams()
        self.publisher.close()
        self.client.close()

    # -- snapshot ---------------------------------------------------------------------------------------
    def snapshot(self, collection: str) -> int:
        """Publish every existing document of a collection (fresh feature store / fresh watcher)."""
        count = 0
        for raw in self.db[collection].find({}, {"_id": 1}).sort("_id", 1):
            message = ChangeMessage.reference(Operation.INSERT, collection, raw["_id"], origin="snapshot")
            self.publisher.publish(message.to_bytes(), message.event_id)
            count += 1
        self.stats.snapshot[collection] = self.stats.snapshot.get(collection, 0) + count
        log.info("snapshot of %s: %d documents published", collection, count)
        return count

    # -- streams ----------------------------------------------------------------------------------------
    def _open(self, collection: str, force_snapshot: bool = False) -> CollectionChangeStream:
        token = self.tokens.load(collection)
        kwargs: dict[str, Any] = {"max_await_time_ms": 50}  # references only: no document lookup
        history_lost = force_snapshot
        if token is not None:
            try:
                return self.db[collection].watch(resume_after=token, **kwargs)
            except pymongo.errors.OperationFailure as exc:
                if exc.code not in HISTORY_LOST_CODES:
                    raise
                history_lost = True
                self._history_lost(collection, exc)
        stream = self.db[collection].watch(**kwargs)
        if history_lost or self.cfg.fresh_start == "snapshot":
            self.snapshot(collection)
        if stream.resume_token is not None:  # start position captured before the snapshot
            self.tokens.save(collection, stream.resume_token)
        return stream

    def _poll(self, collection: str) -> int:
        stream = self._streams.get(collection)
        if stream is None:
            stream = self._streams[collection] = self._open(collection)
        published, last_token = 0, None
        while published < self.cfg.max_batch:
            try:
                event = stream.try_next()
            except pymongo.errors.OperationFailure as exc:  # fell off the history while open: start over
                if exc.code not in HISTORY_LOST_CODES:
                    raise
                self._streams.pop(collection).close()
                self.tokens.forget(collection)
                self._history_lost(collection, exc)
                self._streams[collection] = self._open(collection, force_snapshot=True)
                return 1
            if event is None:
                break
            last_token = event["_id"]
            message = event_to_message(collection, event)
            if message is None:
                self.stats.skipped += 1
                continue
            self.publisher.publish(message.to_bytes(), message.event_id)
            published += 1
        if last_token is not None:
            self.tokens.save(collection, last_token, published)  # only after every publish was confirmed
            self.stats.published[collection] = self.stats.published.get(collection, 0) + published
        return published if last_token is None else max(published, 1)

    def _history_lost(self, collection: str, exc: Exception) -> None:
        self.stats.history_lost[collection] = self.stats.history_lost.get(collection, 0) + 1
        log.warning(
            "the resume token of %s is no longer in the change stream history (%s); falling back to a snapshot "
            "of the collection (documents deleted meanwhile are removed by `stream.reconcile=true`)",
            collection, exc,
        )

    def poll_once(self) -> int:
        """One round over all collections; returns how many events were handled."""
        try:
            return sum(self._poll(collection) for collection in self.cfg.collections)
        except pymongo.errors.PyMongoError:
            self._close_streams()  # reopened from the saved tokens on the next round
            raise

    def _close_streams(self) -> None:
        for stream in self._streams.values():
            try:
                stream.close()
            except Exception as exc:  # noqa: BLE001 - the stream is being dropped anyway
                log.debug("closing a change stream failed: %s", exc)
        self._streams.clear()

    def run(self, bounded: bool = False) -> WatchStats:
        """Publish changes until stopped (or, bounded, until no change arrived for `idle_s`).

        A failing warehouse stream is reopened from the saved tokens with backoff (`cdc.retry_*`); the
        backoff starts over after every successful round.
        """
        last_activity = time.monotonic()
        while not self._stop.is_set():
            retrying = backoff(self.cfg, (pymongo.errors.PyMongoError,), "warehouse change stream", sleep=self._wait)
            try:
                handled = retrying(self._counted_poll)
            except RetryError as exc:
                raise exc.last_attempt.exception() or RuntimeError("warehouse change stream failed") from exc
            now = time.monotonic()
            if handled:
                last_activity = now
            elif bounded and now - last_activity >= self.cfg.idle_s:
                break
            else:
                self._stop.wait(self.cfg.poll_interval_s)
        return self.stats

    def _counted_poll(self) -> int:
        try:
            return self.poll_once()
        except pymongo.errors.PyMongoError:
            self.stats.reconnects += 1
            raise

    def _wait(self, seconds: float) -> None:
        self._stop.wait(seconds)


def drain_changes(connections: Connections, cfg: CdcConfig) -> WatchStats:
    """Bounded watcher run: publish every pending change (snapshot first if no token), then stop."""
    bounded_cfg = cfg.model_copy(update={"retry_attempts": cfg.retry_attempts or 5})  # a pipeline must end
    watcher = ChangeWatcher(connections, bounded_cfg)
    try:
        return watcher.run(bounded=True)
    finally:
        watcher.close()
