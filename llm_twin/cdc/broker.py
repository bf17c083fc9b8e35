"""RabbitMQ with pika: topology, a confirmed publisher that reconnects with backoff, and dead-lettering.

Every message is persistent on a durable queue and published with confirms (`basic_publish` returns only
once the broker has taken responsibility for it), which is what allows the watcher to save its resume
token right after. The main queue dead-letters rejected messages to a durable dead-letter queue; poison
messages are published there directly with the reason in the `x-error` header.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Self, TypeVar

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_never,
    wait_exponential_jitter,
)

from llm_twin.config.cdc import CdcConfig
from llm_twin.connections import Connections

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.AMQPChannelError,
    pika.exceptions.NackError,
    pika.exceptions.UnroutableError,
    ConnectionError,
    OSError,
)


class BrokerUnavailable(RuntimeError):
    """RabbitMQ could not be reached within the configured retries."""


def backoff(cfg: CdcConfig, retry_on: tuple[type[BaseException], ...], what: str,
            sleep: Callable[[float], Any] | None = None, forever: bool = False) -> Retrying:
    """Exponential backoff with jitter from `cdc.retry_*`; `retry_attempts: 0` (or `forever`) never gives up
    (long-running processes). `sleep` lets a stoppable loop wake up early."""
    stop = stop_never if forever or cfg.retry_attempts == 0 else stop_after_attempt(cfg.retry_attempts + 1)
    retrying = Retrying(
        stop=stop,
        wait=wait_exponential_jitter(initial=cfg.retry_initial_s, max=cfg.retry_max_s, jitter=cfg.retry_initial_s),
        retry=retry_if_exception_type(retry_on),
        before_sleep=lambda state: log.warning(
            "%s failed (%s); retrying", what, state.outcome.exception() if state.outcome else "?"
        ),
    )
    return retrying if sleep is None else retrying.copy(sleep=sleep)


def retry(action: Callable[[], T], cfg: CdcConfig, what: str, on_error: Callable[[], None] | None = None) -> T:
    """Run `action`, retrying RabbitMQ failures with backoff; raise BrokerUnavailable when out of tries."""

    def attempt() -> T:
        try:
            return action()
        except RETRYABLE:
            if on_error:
                on_error()
            raise

    try:
        return backoff(cfg, RETRYABLE, what)(attempt)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise BrokerUnavailable(f"{what} failed after {cfg.retry_attempts} retries: {last}") from last


def declare_topology(channel: BlockingChannel, cfg: CdcConfig) -> None:
    """Durable exchanges and queues (idempotent); the main queue dead-letters to the DLQ."""
    channel.exchange_declare(cfg.dead_letter_exchange, exchange_type="direct", durable=True)
    channel.queue_declare(cfg.dead_letter_queue, durable=True)
    channel.queue_bind(cfg.dead_letter_queue, cfg.dead_letter_exchange, routing_key=cfg.routing_key)
    channel.exchange_declare(cfg.exchange, exchange_type="direct", durable=True)
    channel.queue_declare(
        cfg.queue,
        durable=True,
        arguments={"x-dead-letter-exchange": cfg.dead_letter_exchange, "x-dead-letter-routing-key": cfg.routing_key},
    )
    channel.queue_bind(cfg.queue, cfg.exchange, routing_key=cfg.routing_key)


class ConfirmedPublisher:
    """Publishes persistent messages and returns only after the broker confirmed them."""

    def __init__(self, connections: Connections, cfg: CdcConfig) -> None:
        self.connections = connections
        self.cfg = cfg
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _open(self) -> BlockingChannel:
        if self._channel is None or not self._channel.is_open:
            self.close()
            self._connection = self.connections.rabbitmq_connection()
            channel = self._connection.channel()
            channel.confirm_delivery()
            declare_topology(channel, self.cfg)
            self._channel = channel
        return self._channel

    def close(self) -> None:
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()
        except Exception as exc:  # noqa: BLE001 - closing a broken connection may fail; it is dropped anyway
            log.debug("closing the RabbitMQ connection failed: %s", exc)
        self._connection = None
        self._channel = None

    def publish(
        self,
        body: bytes,
        message_id: str,
        headers: dict[str, Any] | None = None,
        dead_letter: bool = False,
    ) -> None:
        exchange = self.cfg.dead_letter_exchange if dead_letter else self.cfg.exchange
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type="application/json",
            message_id=message_id,
            headers=headers or {},
        )

        def send() -> None:
            self._open().basic_publish(exchange, self.cfg.routing_key, body, properties=properties, mandatory=True)

        retry(send, self.cfg, f"publish to {exchange}", on_error=self.close)

    def dead_letter(self, body: bytes, reason: str, message_id: str = "") -> None:
        """Park a poison message with the reason it could not be processed."""
        log.error("dead-lettering message %s: %s", message_id or "?", reason)
        self.publish(body, message_id or "", headers={"x-error": reason[:1000]}, dead_letter=True)

    def queue_depth(self, dead_letter: bool = False) -> int:
        """Messages ready in the main queue (or the DLQ); unacknowledged ones are not counted."""
        name = self.cfg.dead_letter_queue if dead_letter else self.cfg.queue
        return retry(
            lambda: self._open().queue_declare(name, passive=True).method.message_count,
            self.cfg,
            f"inspect {name}",
            on_error=self.close,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
