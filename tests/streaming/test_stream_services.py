"""The CDC + streaming chain on the real local services (nx-27017, RabbitMQ, Tansu, Qdrant local mode)."""

from __future__ import annotations

import pika
import pytest

from llm_twin.cdc.reconcile import check_sync
from llm_twin.cdc.watcher import drain_changes
from llm_twin.domain.documents import DataType, Post
from llm_twin.domain.features import FeatureChange, cleaned_collection, embedded_collection, point_id
from llm_twin.embedding import Embedder
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.features.backfill import backfill
from llm_twin.streaming.app import run_stream
from tests.streaming.conftest import article, assert_in_sync, dead_letters, post, repository, warehouse

pytestmark = pytest.mark.services


def _stream(settings):
    drain_changes(settings.connections, settings.cdc)
    return run_stream(settings.with_stream(bounded=True))


def test_inserts_updates_deletes_reach_qdrant_and_backfill_matches(stream_settings, tmp_path):
    db = warehouse(stream_settings)
    long_article, short_post, repo = article(1, sentences=60), post(1), repository(1)
    db.articles.insert_one(long_article.to_mongo())  # before the watcher's first run: reaches Qdrant by snapshot
    drain_changes(stream_settings.connections, stream_settings.cdc)
    db.posts.insert_one(short_post.to_mongo())
    db.repositories.insert_one(repo.to_mongo())
    gone = post(2)
    db.posts.insert_one(gone.to_mongo())

    report = _stream(stream_settings)
    assert report.write.documents == {"articles": 1, "posts": 2, "code": 1}
    assert assert_in_sync(stream_settings) == {"articles": 1, "posts": 2, "code": 1}
    with FeatureStore(stream_settings.connections, 384) as store:
        long_chunks = store.count(embedded_collection(DataType.ARTICLE))
        hit = store.search(DataType.REPOSITORY, store_vector(stream_settings, "def answer_1"), limit=1)[0]
        assert hit.payload["document_id"] == repo.id and hit.id == point_id(repo.id, 0)
    assert long_chunks >= 3

    # update: shorten the article (stale chunks must go), replace a post, delete another
    shorter = long_article.model_copy(update={"content": {"title": "T1", "text": "Now one sentence."}, "content_hash": ""})
    shorter = type(long_article).model_validate(shorter.model_dump(exclude={"content_hash"}))
    db.articles.update_one({"_id": long_article.id}, {"$set": {"content": shorter.content, "content_hash": shorter.content_hash}})
    replaced = short_post.model_copy(update={"content": {"text": "Rewritten post about Qdrant."}})
    replaced = type(short_post).model_validate(replaced.model_dump(exclude={"content_hash"}))
    db.posts.replace_one({"_id": short_post.id}, replaced.to_mongo())
    db.posts.delete_one({"_id": gone.id})

    report = _stream(stream_settings)
    assert report.write.deleted == {"posts": 1}
    assert assert_in_sync(stream_settings) == {"articles": 1, "posts": 1, "code": 1}
    with FeatureStore(stream_settings.connections, 384) as store:
        assert store.count(embedded_collection(DataType.ARTICLE)) == 1
        post_points = store.payloads(embedded_collection(DataType.POST))
        assert [p["text"] for p in post_points.values()] == ["Rewritten post about Qdrant."]
        streamed = {c: store.payloads(c) for t in DataType for c in (cleaned_collection(t), embedded_collection(t))}

    # the batch backfill writes the same point ids and payloads into a fresh store
    fresh = stream_settings.connections.replace(qdrant_path=str(tmp_path / "backfill"))
    result = backfill(fresh, stream_settings.embedding, stream_settings.features, progress=False)
    assert result.write.documents == {"articles": 1, "posts": 1, "code": 1} and not result.failed
    with FeatureStore(fresh, 384) as store:
        assert {c: store.payloads(c) for c in streamed} == streamed


LONG_WORDS = (
    "understanding relationships organization administration international communication environmental "
    "infrastructure responsibility representatives characteristics telecommunications implementation "
    "establishment entertainment transportation manufacturing architecture constitutional investigation "
    "philosophical independence consideration contemporary championships neighborhood approximately"
)


def store_vector(settings, text: str) -> list[float]:
    from llm_twin.embedding import get_embedder

    return get_embedder(settings.embedding).encode([text])[0].tolist()


def test_poison_messages_are_dead_lettered_and_the_stream_goes_on(stream_settings):
    from llm_twin.cdc.broker import ConfirmedPublisher

    cdc = stream_settings.cdc
    db = warehouse(stream_settings)
    empty = post(7).model_copy(update={"content": {"text": "🚀 https://t.co/x"}})
    good = post(8)
    with ConfirmedPublisher(stream_settings.connections, cdc) as publisher:
        publisher.publish(b"{not json", "m1")
    db.posts.insert_one({"_id": "p-bad", "platform": "x"})  # fails the Post model when the stream reads it
    db.posts.insert_one(empty.to_mongo())  # no text after cleaning: applied as a delete, not dead-lettered
    db.posts.insert_one(good.to_mongo())

    report = _stream(stream_settings)
    assert report.dead_lettered == 1  # the invalid document; the non-JSON message died in the Source
    parked = dead_letters(stream_settings)
    reasons = sorted(h["x-error"] for _, h in parked)
    assert len(parked) == 2, reasons
    assert any("invalid change message" in r for r in reasons)
    assert any("ValidationError" in r for r in reasons)
    assert report.write.deleted.get("posts", 0) >= 1  # the empty post
    with FeatureStore(stream_settings.connections, 384) as store:
        assert store.cleaned_hashes(DataType.POST) == {good.id: good.content_hash}

    # the post that becomes empty loses its points; documents with nothing to index are not drift
    emptied = Post.model_validate({**good.model_dump(exclude={"content_hash"}), "content": {"text": "🚀 https://x.co/y"}})
    db.posts.update_one({"_id": good.id}, {"$set": {"content": emptied.content, "content_hash": emptied.content_hash}})
    report = _stream(stream_settings)
    assert report.write.deleted == {"posts": 1} and report.dead_lettered == 0
    assert assert_in_sync(stream_settings) == {"articles": 0, "posts": 0, "code": 0}
    sync = check_sync(stream_settings.connections, 384, list(stream_settings.cdc.collections), stream_settings.features.code)
    assert sync.in_sync, sync.drift
    reasons = dict(sync.unindexable["posts"])
    assert reasons.pop("p-bad").startswith("ValidationError")
    assert reasons == {empty.id: "no text after cleaning", good.id: "no text after cleaning"}
    # reconciliation re-publishes nothing for them, so nothing reaches the dead-letter queue again
    report = run_stream(stream_settings.with_stream(bounded=True, reconcile=True))
    assert report.reconciled == {t: {"missing": 0, "stale": 0, "orphans": 0} for t in ("articles", "posts", "code")}
    assert report.dead_lettered == 0 and dead_letters(stream_settings) == []


def test_a_slow_writer_never_replaces_a_newer_version_nor_deletes_a_document_created_meanwhile(stream_settings):
    """The backfill's race: it reads v1, embeds for seconds, meanwhile the stream stores v2 (and a document
    the backfill saw as gone is created and indexed). Its write is re-checked against the warehouse."""
    from llm_twin.embedding import get_embedder
    from llm_twin.features.processing import FeatureBuilder
    from llm_twin.features.writer import FeatureWriter

    db = warehouse(stream_settings)
    builder = FeatureBuilder(stream_settings.features, stream_settings.embedding)
    real = get_embedder(stream_settings.embedding)
    v1, created = post(30), post(31)
    db.posts.insert_one(v1.to_mongo())
    v2 = Post.model_validate({**v1.model_dump(exclude={"content_hash"}), "content": {"text": "Version two of the post."}})

    with FeatureStore(stream_settings.connections, 384) as store:
        stream_writer = FeatureWriter(store, real, db)

        def concurrent_stream_write() -> None:  # what the stream app does while the slow writer embeds
            db.posts.replace_one({"_id": v1.id}, v2.to_mongo())
            db.posts.insert_one(created.to_mongo())
            done = stream_writer.apply([FeatureChange(DataType.POST, d.id, builder.build(d)) for d in (v2, created)])
            assert done.documents == {"posts": 2}

        slow_writer = FeatureWriter(store, WritesWhileEncoding(real, concurrent_stream_write), db)
        stale = [FeatureChange(DataType.POST, v1.id, builder.build(v1)), FeatureChange(DataType.POST, created.id)]
        report = slow_writer.apply(stale)
        assert report.superseded == 2 and report.documents == {} and report.deleted == {}
        assert store.cleaned_hashes(DataType.POST) == {v1.id: v2.content_hash, created.id: created.content_hash}
        texts = sorted(p["text"] for p in store.payloads(embedded_collection(DataType.POST)).values())
        assert texts == sorted(c.text for d in (v2, created) for c in builder.build(d).chunks)
        assert "Version two of the post." in texts
    assert assert_in_sync(stream_settings)["posts"] == 2


class WritesWhileEncoding(Embedder):
    """The real embedder, running `during` once before its first batch (a deterministic interleaving)."""

    def __init__(self, real: Embedder, during) -> None:  # shares the loaded model
        self.__dict__.update(real.__dict__)
        self._during = during

    def encode(self, texts):
        if self._during is not None:
            during, self._during = self._during, None
            during()
        return super().encode(texts)


@pytest.mark.slow
def test_documents_over_kafkas_message_limit_flow_end_to_end(stream_settings):
    """Messages are references: document size is bounded by the warehouse, not by Kafka's ~1 MB producer limit
    (a 2 MB article used to stall CDC). The 5 MB article is written in long words the embedding tokenizer
    keeps whole (14 bytes a token), so 2 cores embed its 1,857 chunks in a few minutes; the message size does
    not depend on the document (`test_messages_are_small_references_whatever_the_document_size`)."""
    db = warehouse(stream_settings)
    words = LONG_WORDS.split()
    sentences = (" ".join(words[(i + j) % len(words)] for j in range(14)).capitalize() + "." for i in range(26_000))
    text = " ".join(sentences)
    big = article(90).model_copy(update={"content": {"title": "Big", "text": text}})
    big = type(big).model_validate(big.model_dump(exclude={"content_hash"}))
    repo = repository(91).model_copy(
        update={"content": {f"src/m{i}.py": f"def f{i}(x):\n    return x + {i}\n" * 400 for i in range(60)}}
    )
    repo = type(repo).model_validate(repo.model_dump(exclude={"content_hash"}))
    assert len(big.content["text"].encode()) > 5_000_000 and sum(map(len, repo.content.values())) > 700_000
    db.articles.insert_one(big.to_mongo())
    db.repositories.insert_one(repo.to_mongo())
    report = _stream(stream_settings)
    assert report.dead_lettered == 0
    assert report.write.documents == {"articles": 1, "code": 1}
    assert assert_in_sync(stream_settings) == {"articles": 1, "posts": 0, "code": 1}


def test_queue_messages_are_persistent_on_durable_queues(stream_settings):
    from llm_twin.cdc.broker import ConfirmedPublisher

    cdc = stream_settings.cdc
    with ConfirmedPublisher(stream_settings.connections, cdc) as publisher:
        publisher.publish(b"{}", "x")
        assert publisher.queue_depth() == 1
    connection = pika.BlockingConnection(pika.URLParameters(stream_settings.connections.rabbitmq_url.get_secret_value()))
    channel = connection.channel()
    _method, props, _ = channel.basic_get(cdc.queue, auto_ack=True)
    assert props.delivery_mode == 2 and props.content_type == "application/json"
    channel.queue_delete(cdc.queue)
    channel.queue_delete(cdc.dead_letter_queue)
    connection.close()


def test_a_broker_cancelled_consumer_reconnects(stream_settings):
    """Deleting the queue sends Basic.Cancel to the Source: it consumes again instead of ending silently."""
    import threading

    seen: set[str] = set()
    ready = threading.Event()
    cond = threading.Condition()
    holder: dict = {}

    def on_written(report, _at) -> None:
        with cond:
            seen.update(report.applied_ids)
            cond.notify_all()

    def wait_for(doc_id: str, timeout: float) -> bool:
        with cond:
            return cond.wait_for(lambda: doc_id in seen, timeout)

    def on_ready(app) -> None:
        holder["app"] = app
        ready.set()

    db = warehouse(stream_settings)
    first, second = post(1), post(2)
    failure: list[BaseException] = []

    def drive() -> None:  # the Quix app needs the main thread (signal handlers): the test drives from here
        try:
            assert ready.wait(60)
            db.posts.insert_one(first.to_mongo())
            drain_changes(stream_settings.connections, stream_settings.cdc)
            assert wait_for(first.id, 120)
            connection = pika.BlockingConnection(
                pika.URLParameters(stream_settings.connections.rabbitmq_url.get_secret_value()))
            connection.channel().queue_delete(stream_settings.cdc.queue)  # the broker cancels the Source's consumer
            connection.close()
            db.posts.insert_one(second.to_mongo())
            drain_changes(stream_settings.connections, stream_settings.cdc)  # re-declares the queue
            assert wait_for(second.id, 60), "the Source did not consume again after Basic.Cancel"
        except BaseException as exc:  # noqa: BLE001 - re-raised once the app stopped
            failure.append(exc)
        finally:
            if "app" in holder:
                holder["app"].stop()

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    run_stream(stream_settings, on_written=on_written, on_ready=on_ready)
    thread.join(30)
    if failure:
        raise failure[0]
    assert assert_in_sync(stream_settings)["posts"] == 2
