"""Each embedded local service, started by the fixtures, used for real."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pika
import pymongo
import pytest

from llm_twin.config import EmbeddingConfig, InfraConfig, load_group
from llm_twin.connections import Connections
from llm_twin.infra import smoke
from llm_twin.infra.processes import free_port, pid_alive, read_pid
from llm_twin.infra.services import LocalServices, ServiceError

pytestmark = pytest.mark.services


def test_mongo_insert_find_and_change_stream(mongo_uri: str) -> None:
    with pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=5000) as client:
        collection = client[f"t_{uuid.uuid4().hex[:8]}"]["posts"]
        with collection.watch(full_document="updateLookup") as stream:
            collection.insert_one({"_id": "p1", "link": "https://x/1", "text": "hello"})
            collection.update_one({"_id": "p1"}, {"$set": {"text": "hello again"}})
            events = []
            deadline = time.monotonic() + 10
            while len(events) < 2 and time.monotonic() < deadline:
                event = stream.try_next()
                if event:
                    events.append(event)
        assert [e["operationType"] for e in events] == ["insert", "update"]
        assert events[1]["fullDocument"]["text"] == "hello again"
        assert collection.find_one({"_id": "p1"})["text"] == "hello again"


def test_pika_publish_consume(rabbitmq_url: str) -> None:
    queue = f"llm-twin-test-{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue, durable=True)
        channel.basic_publish("", queue, b'{"n": 1}', pika.BasicProperties(delivery_mode=2), mandatory=True)
        _, _, body = channel.basic_get(queue, auto_ack=True)
        channel.queue_delete(queue)
    finally:
        connection.close()
    assert body == b'{"n": 1}'


def test_quix_produce_consume(connections: Connections) -> None:
    result = smoke.check_stream_broker(connections)
    assert result.ok and result.detail["topic"].startswith("llm-twin-smoke-")


def test_qdrant_upsert_query(connections: Connections) -> None:
    result = smoke.check_feature_store(
        connections, load_group("embedding", schema=EmbeddingConfig)
    )
    assert result.ok and result.detail["top_score"] > 0.2


def test_warehouse_and_queue_smoke_checks(connections: Connections) -> None:
    assert smoke.check_warehouse(connections).detail == {"operation": "insert", "found": True}
    assert smoke.check_queue(connections).detail["confirmed"] is True


def _local(tmp_path: Path, *overrides: str) -> Connections:
    return Connections.of(load_group("infra", [f"infra.qdrant_path={tmp_path / 'qdrant'}", *overrides],
                                     schema=InfraConfig))


def test_services_start_from_nothing_fast_and_stop_cleanly(tmp_path: Path) -> None:
    connections = _local(tmp_path, f"infra.mongo_port={free_port()}", f"infra.kafka_port={free_port()}")
    services = LocalServices(connections, tmp_path)
    started = time.monotonic()
    services.start()
    elapsed = time.monotonic() - started
    try:
        assert elapsed < 30, f"services took {elapsed:.1f} s to become healthy"
        status = {s.name: s for s in services.status()}
        assert all(s.healthy for s in status.values()), status
        pids = [status["mongo"].pid, status["kafka"].pid]
        assert all(pids)
        services.start()  # idempotent: reuses the running services
        assert read_pid(tmp_path / "run" / "mongo.pid") == pids[0]
    finally:
        stopped = services.stop()
    assert {"mongo", "kafka"} <= set(stopped)
    assert not any(pid_alive(pid) for pid in pids if pid)
    assert not any(s.healthy for s in services.status() if s.name in ("mongo", "kafka"))


def test_port_taken_by_something_else_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        services = LocalServices(
            _local(tmp_path, f"infra.mongo_port={port}"),
            tmp_path, start_timeout_s=5,
        )
        with pytest.raises(ServiceError, match=f"port {port} is taken"):
            services.start(["mongo"])


def test_unknown_service_name_is_rejected(tmp_path: Path) -> None:
    services = LocalServices(_local(tmp_path), tmp_path)
    with pytest.raises(ServiceError, match="valid: mongo, kafka, rabbitmq, qdrant"):
        services.start(["redis"])


def test_cloud_mode_is_not_managed(tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="infra=cloud starts nothing"):
        LocalServices(_local(tmp_path, "infra.mode=cloud", "infra.qdrant_url=http://q:6333"), tmp_path)
