"""Round trips through each local service, used by the `smoke` pipeline and `make run` on a new clone.

Each check does real work against the real service (a change-stream event, a confirmed AMQP publish, a
Kafka produce/consume through Quix Streams, a vector upsert and query in Qdrant) and reports how long it
took, so a failing service shows up as a failing step with its cause.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import BaseModel

from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.connections import Connections


class CheckResult(BaseModel):
    service: str
    ok: bool
    seconds: float
    detail: dict[str, Any]


def _timed(service: str, start: float, **detail: Any) -> CheckResult:
    return CheckResult(service=service, ok=True, seconds=round(time.perf_counter() - start, 3), detail=detail)


def check_warehouse(connections: Connections) -> CheckResult:
    """Insert a document and see it arrive on the collection's change stream."""
    start = time.perf_counter()
    with connections.mongo_client() as client:
        collection = client[connections.mongo_database]["smoke_checks"]
        marker = str(uuid.uuid4())
        with collection.watch(full_document="updateLookup") as stream:
            collection.insert_one({"_id": marker, "checked_at": time.time()})
            deadline = time.monotonic() + connections.timeout_s
            event = None
            while event is None and time.monotonic() < deadline:
                event = stream.try_next()
                if event is not None and event["documentKey"]["_id"] != marker:
                    event = None
            if event is None:
                raise RuntimeError(f"no change-stream event for the smoke document within {connections.timeout_s} s")
        found = collection.find_one({"_id": marker})
        collection.delete_one({"_id": marker})
    return _timed("mongo", start, operation=event["operationType"], found=found is not None)


def check_queue(connections: Connections) -> CheckResult:
    """Publish a persistent message with publisher confirms to a temporary queue and read it back."""
    import pika

    start = time.perf_counter()
    connection = connections.rabbitmq_connection()
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
        body = uuid.uuid4().hex.encode()
        channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2), mandatory=True)
        _, _, received = channel.basic_get(queue, auto_ack=True)
        if received != body:
            raise RuntimeError("RabbitMQ returned a different message than the one published")
    finally:
        connection.close()
    return _timed("rabbitmq", start, queue=queue, confirmed=True)


def check_stream_broker(connections: Connections) -> CheckResult:
    """Produce a message to a fresh topic and consume it back with Quix Streams."""
    start = time.perf_counter()
    run_id = uuid.uuid4().hex[:12]
    app = connections.quix_application(
        consumer_group=f"llm-twin-smoke-{run_id}",
        auto_offset_reset="earliest",
        consumer_extra_config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 500},
    )
    topic = app.topic(f"llm-twin-smoke-{run_id}", value_serializer="json", value_deserializer="json")
    payload = {"run_id": run_id}
    with app.get_producer() as producer:
        message = topic.serialize(key=run_id, value=payload)
        producer.produce(topic=topic.name, key=message.key, value=message.value)
    deadline = time.monotonic() + max(30.0, connections.timeout_s)
    with app.get_consumer() as consumer:
        consumer.subscribe([topic.name])
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                value = topic.deserialize(msg).value
                if value == payload:
                    return _timed("kafka", start, topic=topic.name)
    raise RuntimeError(f"the message produced to {topic.name} was not consumed back within the deadline")


def check_feature_store(connections: Connections, embedding: EmbeddingConfig) -> CheckResult:
    """Embed two sentences, upsert them into a Qdrant collection and find the nearer one."""
    from qdrant_client import models

    start = time.perf_counter()
    from llm_twin.embedding import get_embedder

    embedder = get_embedder(embedding)
    texts = ["Qdrant stores vectors for retrieval.", "Bread rises when yeast ferments sugar."]
    vectors = embedder.encode(texts)
    client = connections.qdrant_client()
    try:
        name = "smoke_check"
        if client.collection_exists(name):
            client.delete_collection(name)
        client.create_collection(name, vectors_config=models.VectorParams(size=len(vectors[0]), distance=models.Distance.COSINE))
        client.upsert(name, points=[models.PointStruct(id=i, vector=list(map(float, v)), payload={"text": t}) for i, (t, v) in enumerate(zip(texts, vectors))])
        hits = client.query_points(name, query=list(map(float, embedder.encode(["vector database"])[0])), limit=1).points
        client.delete_collection(name)
    finally:
        client.close()
    if not hits or hits[0].id != 0:
        raise RuntimeError("Qdrant returned the wrong nearest neighbour for the smoke query")
    return _timed("qdrant", start, top_score=round(hits[0].score, 4), embedding_model=embedding.model_id)
