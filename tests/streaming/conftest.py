"""Helpers of the streaming tests: per-test settings with unique names, documents, sync assertions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pika
import pytest

from llm_twin.cdc.reconcile import find_drift
from llm_twin.config import compose
from llm_twin.connections import Connections
from llm_twin.domain.documents import Article, Post, Repository
from llm_twin.domain.features import cleaned_collection, embedded_collection
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.paths import PROJECT_ROOT
from llm_twin.streaming.app import StreamSetup

AUTHOR = {"author_id": "u1", "author_full_name": "Jane Doe"}


@dataclass(frozen=True)
class StreamTest(StreamSetup):
    """A stream setup with unique names, and the Hydra overrides that give a child process the same one."""

    overrides: list[str] = field(default_factory=list)

    def with_stream(self, **changes: object) -> StreamTest:
        return _setup(self.overrides + [f"stream.{k}={str(v).lower() if isinstance(v, bool) else v}"
                                        for k, v in changes.items()])


def _setup(overrides: list[str]) -> StreamTest:
    base = StreamSetup.of(compose(overrides))
    return StreamTest(base.connections, base.embedding, base.features, base.cdc, base.stream, overrides)


@pytest.fixture
def stream_settings(connections: Connections, tmp_path: Path) -> StreamTest:
    suffix = uuid.uuid4().hex[:8]
    infra = connections.configured
    overrides = [
        f"infra.mongo_port={infra.mongo_port}", f"infra.kafka_port={infra.kafka_port}",
        f"infra.mongo_database=twin_stream_{suffix}", f"infra.qdrant_path={tmp_path / 'qdrant'}",
        "cdc.idle_s=0.5", "cdc.retry_initial_s=0.2", "cdc.retry_max_s=2.0", "stream.idle_timeout_s=4.0",
        *[f"cdc.{k}={v}" for k, v in _named(suffix).items()],
        f"stream.topic=llm_twin.changes.{suffix}", f"stream.consumer_group=llm_twin-features.{suffix}",
    ]
    return _setup(overrides)


def _named(suffix: str) -> dict[str, str]:
    return {"exchange": f"llm_twin.changes.{suffix}", "queue": f"llm_twin.features.{suffix}",
            "dead_letter_exchange": f"llm_twin.changes.dlx.{suffix}",
            "dead_letter_queue": f"llm_twin.features.dead.{suffix}", "watcher_name": f"features.{suffix}"}


def warehouse(settings: StreamSetup):
    client = settings.connections.mongo_client()
    return client[settings.connections.mongo_database]


def article(i: int, sentences: int = 3) -> Article:
    text = " ".join(f"Article {i} sentence {j} explains feature pipelines and vector search." for j in range(sentences))
    return Article(platform="medium", link=f"https://blog.example/{i}", content={"title": f"T{i}", "text": text}, **AUTHOR)


def post(i: int) -> Post:
    return Post(platform="linkedin", link=f"https://linkedin.example/{i}", content={"text": f"Post {i} on #MLOps and RAG."}, **AUTHOR)


def repository(i: int) -> Repository:
    return Repository(
        platform="github", link=f"https://github.example/r{i}", name=f"r{i}", **AUTHOR,
        content={"main.py": f"def answer_{i}():\n    return {i}\n"},
    )


def assert_in_sync(settings: StreamSetup) -> dict[str, int]:
    """Qdrant matches the warehouse exactly: same documents and hashes, complete chunks, no extra point."""
    db = warehouse(settings)
    with FeatureStore(settings.connections, settings.embedding.dimension) as store:
        drift = find_drift(db, store, list(settings.cdc.collections), settings.features.code)
        assert all(d.in_sync for d in drift.values()), {t.value: d.counts() for t, d in drift.items()}
        counts = {}
        for data_type in drift:
            chunks = store.payloads(embedded_collection(data_type))
            per_doc: dict[str, set[int]] = {}
            for payload in chunks.values():
                per_doc.setdefault(payload["document_id"], set()).add(payload["chunk_index"])
                assert payload["chunk_count"] > payload["chunk_index"]
            for payload in chunks.values():  # every chunk 0..n-1 present once, nothing beyond
                assert per_doc[payload["document_id"]] == set(range(payload["chunk_count"]))
            counts[data_type.feature_name] = store.count(cleaned_collection(data_type))
    return counts


def dead_letters(settings: StreamSetup) -> list[tuple[bytes, dict]]:
    connection = pika.BlockingConnection(pika.URLParameters(settings.connections.rabbitmq_url.get_secret_value()))
    channel = connection.channel()
    out = []
    while True:
        method, props, body = channel.basic_get(settings.cdc.dead_letter_queue, auto_ack=True)
        if method is None:
            break
        out.append((body, props.headers or {}))
    connection.close()
    return out


class Child:
    """A watcher or stream app in its own process group, so a kill takes the Quix Source with it."""

    def __init__(self, module: str, overrides: list[str], log: Path, *args: str) -> None:
        self.log = open(log, "ab")  # noqa: SIM115 - closed by kill() / wait()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *overrides, *args],
            cwd=PROJECT_ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=os.environ.copy(),
        )

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30) -> int:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(10)
        finally:
            self.log.close()

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()
