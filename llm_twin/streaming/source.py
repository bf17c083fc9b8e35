"""Quix Streams Source that moves RabbitMQ messages into a Kafka topic without losing any.

Order of operations per batch: consume (manual ack) → validate → produce to Kafka → flush the producer
(every message delivered) → ack RabbitMQ (multiple, up to the batch's last tag). A crash anywhere before
the ack makes RabbitMQ redeliver the batch (duplicates downstream are idempotent); nothing is acked
before Kafka has it. A message that is not a valid `ChangeMessage` is published to the dead-letter queue
with the reason and acked, and the stream goes on. Connection losses (a RabbitMQ restart) are retried
with backoff.

Quix runs each Source in a spawned subprocess: this module must stay importable and light (no torch).
"""

from __future__ import annotations

import logging
import time

from pydantic import ValidationError
from quixstreams.models.topics import Topic
from quixstreams.sources import Source

from llm_twin.cdc.broker import RETRYABLE, ConfirmedPublisher, backoff, declare_topology
from llm_twin.config.cdc import CdcConfig
from llm_twin.connections import Connections
from llm_twin.domain.messages import ChangeMessage

log = logging.getLogger(__name__)


class RabbitMQSource(Source):
    def __init__(
        self,
        name: str,
        connections: Connections,
        cdc: CdcConfig,
        batch: int = 200,
        prefetch: int = 400,
        idle_flush_s: float = 0.05,
        flush_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(name=name, shutdown_timeout=max(10.0, flush_timeout_s + 2))
        self.connections = connections
        self.cdc = cdc
        self.batch = batch
        self.prefetch = max(prefetch, batch)
        self.idle_flush_s = idle_flush_s
        self.flush_timeout_s = flush_timeout_s
        self.forwarded = 0
        self.dead_lettered = 0
        self.cancellations = 0

    def default_topic(self) -> Topic:
        return Topic(name=self.name, key_serializer="str", value_serializer="bytes", value_deserializer="json")

    def run(self) -> None:
        """Consume until stopped; a lost connection (a RabbitMQ restart) is reopened with backoff, and a
        consumer the broker cancelled (Basic.Cancel: queue deleted, node failover) consumes again instead
        of ending the Source silently (the queue is re-declared on the way)."""
        while self.running:
            backoff(self.cdc, RETRYABLE, "RabbitMQ consumer", sleep=self._sleep, forever=True)(self._consume)
            if self.running:
                self.cancellations += 1
                log.warning("RabbitMQ cancelled the consumer of %s; consuming again", self.cdc.queue)
                self._sleep(self.cdc.retry_initial_s)

    def _sleep(self, seconds: float) -> None:
        """Backoff that ends early when the app stops the Source."""
        deadline = time.monotonic() + seconds
        while self.running and time.monotonic() < deadline:
            time.sleep(0.1)

    def _consume(self) -> None:
        if not self.running:
            return
        connection = self.connections.rabbitmq_connection()
        dead_letters = ConfirmedPublisher(self.connections, self.cdc)
        try:
            channel = connection.channel()
            declare_topology(channel, self.cdc)
            channel.basic_qos(prefetch_count=self.prefetch)
            pending_tag: int | None = None
            pending = 0
            for method, _props, body in channel.consume(self.cdc.queue, inactivity_timeout=self.idle_flush_s):
                if method is not None:
                    try:
                        message = ChangeMessage.from_bytes(body)
                    except (ValidationError, ValueError) as exc:
                        reason = f"invalid change message: {exc}"
                        dead_letters.dead_letter(body, reason.splitlines()[0] + " " + str(exc)[:500])
                        self.dead_lettered += 1
                    else:
                        self.produce(value=body, key=message.document_id)
                    pending_tag, pending = method.delivery_tag, pending + 1
                if pending and (method is None or pending >= self.batch or not self.running):
                    self.flush(self.flush_timeout_s)  # raises if Kafka did not take every message
                    channel.basic_ack(delivery_tag=pending_tag, multiple=True)
                    self.forwarded += pending
                    pending_tag, pending = None, 0
                if not self.running:
                    break
            channel.cancel()
        finally:
            dead_letters.close()
            try:
                if connection.is_open:
                    connection.close()
            except Exception as exc:  # noqa: BLE001 - unacked messages are requeued by the broker anyway
                log.debug("closing the RabbitMQ connection failed: %s", exc)
