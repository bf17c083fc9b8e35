"""Benchmark: warehouse insert → searchable in Qdrant through the full streaming path.

    python bench/ingest.py [--quick] [--n 400] [--latency-docs 20] [--no-start] [overrides like infra.kafka_port=9093]

Writes N documents (articles, posts, repositories) to the warehouse while the CDC watcher (a child
process, as in production) and the Quix app (this process, so the sink can timestamp the moment each
document is searchable) run, then measures the latency of single inserts at a gentle pace after warm-up.
In the same run it encodes the very same chunks with the same model directly (`encode` ceiling) and
reports the ratio. Last line: a JSON object with the figures. Unique queue/topic/database names and a
temporary Qdrant folder keep it away from the project's data, and everything it wrote is removed at the
end (the bench database, its queues and exchanges, its Kafka topic, the Qdrant folder). `--quick` runs
the same path on a small burst (CI runs it, so a broken benchmark turns CI red).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np

from llm_twin.config import compose
from llm_twin.domain.documents import Article, Document, Post, Repository
from llm_twin.embedding import get_embedder
from llm_twin.features.processing import FeatureBuilder
from llm_twin.streaming.app import StreamSetup, run_stream

AUTHOR_ID, AUTHOR_NAME = "bench", "Bench Author"
WORDS = ["feature", "pipelines", "keep", "a", "vector", "store", "in", "sync", "with", "the", "warehouse", "while", "the", "model", "learns", "the", "voice", "of", "its", "author", "from", "posts", "articles", "and", "code", "retrieval", "grounds", "every", "answer", "in", "real", "content"]


def make_documents(n: int, seed: int = 0) -> list[Document]:
    rng = random.Random(seed)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 20))).capitalize() + "."

    docs: list[Document] = []
    for i in range(n):
        tag = uuid.uuid4().hex[:8]
        if i % 3 == 0:
            body = "\n\n".join(" ".join(sentence() for _ in range(5)) for _ in range(6))
            docs.append(Article(platform="medium", link=f"https://bench/a/{tag}", content={"title": f"A{i}", "text": body},
                                author_id=AUTHOR_ID, author_full_name=AUTHOR_NAME))
        elif i % 3 == 1:
            docs.append(Post(platform="linkedin", link=f"https://bench/p/{tag}",
                             content={"text": " ".join(sentence() for _ in range(4))},
                             author_id=AUTHOR_ID, author_full_name=AUTHOR_NAME))
        else:
            code = "\n".join(f"def step_{j}(x):\n    # {sentence()}\n    return x * {j}\n" for j in range(12))
            docs.append(Repository(platform="github", link=f"https://bench/r/{tag}", name=f"r{i}",
                                   content={"pipeline.py": code}, author_id=AUTHOR_ID, author_full_name=AUTHOR_NAME))
    return docs


def remove_what_was_written(settings: StreamSetup, workdir: Path) -> None:
    """Drop the bench database, queues, exchanges and topic, and the temporary Qdrant folder."""
    import shutil

    conns, cdc = settings.connections, settings.cdc
    with conns.mongo_client() as client:
        client.drop_database(conns.mongo_database)
    connection = conns.rabbitmq_connection()
    try:
        channel = connection.channel()
        for queue in (cdc.queue, cdc.dead_letter_queue):
            channel.queue_delete(queue)
        for exchange in (cdc.exchange, cdc.dead_letter_exchange):
            channel.exchange_delete(exchange)
    finally:
        connection.close()
    futures = conns.kafka_admin().delete_topics([settings.stream.topic], operation_timeout=10)
    for future in futures.values():
        try:
            future.result(timeout=15)
        except Exception as exc:  # noqa: BLE001 - a broker without the topic has nothing to remove
            logging.getLogger(__name__).warning("topic %s not deleted: %s", settings.stream.topic, exc)
    shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400,
                        help="burst size: large enough that the ~1 s fixed pipeline latency does not dominate throughput")
    parser.add_argument("--latency-docs", type=int, default=20)
    parser.add_argument("--warmup-docs", type=int, default=3)
    parser.add_argument("--no-start", action="store_true", help="services already run at the configured addresses")
    parser.add_argument("--quick", action="store_true", help="a small burst (40 documents, 4 latency samples)")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    if args.quick:
        args.n, args.latency_docs, args.warmup_docs = min(args.n, 40), min(args.latency_docs, 4), 2
    logging.basicConfig(level=logging.WARNING)

    suffix = uuid.uuid4().hex[:8]
    workdir = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    names = [f"cdc.{key}={value}.bench.{suffix}" for key, value in (
        ("exchange", "llm_twin.changes"), ("queue", "llm_twin.features"), ("dead_letter_exchange", "llm_twin.dlx"),
        ("dead_letter_queue", "llm_twin.features.dead"), ("watcher_name", "features"))]
    names += [f"stream.topic=llm_twin.changes.bench.{suffix}", f"stream.consumer_group=llm_twin-bench-{suffix}"]
    overrides = [*args.overrides, f"infra.mongo_database=bench_{suffix}", f"infra.qdrant_path={workdir / 'qdrant'}",
                 *names]
    settings = StreamSetup.of(compose(overrides))
    if not args.no_start:
        from llm_twin.infra.services import LocalServices
        from llm_twin.paths import twin_home

        LocalServices(settings.connections, twin_home()).start(["mongo", "rabbitmq", "kafka"])

    db = settings.connections.mongo_client()[settings.connections.mongo_database]
    builder = FeatureBuilder(settings.features, settings.embedding)
    warmup = make_documents(args.warmup_docs, seed=1)
    burst = make_documents(args.n, seed=2)
    paced = make_documents(args.latency_docs, seed=3)
    burst_chunks = [c.text for d in burst for c in builder.build(d).chunks]

    searchable: dict[str, float] = {}
    lock = threading.Condition()

    def on_written(report, at: float) -> None:
        with lock:
            for doc_id in report.applied_ids:
                searchable.setdefault(doc_id, at)
            lock.notify_all()

    def wait_for(ids: list[str], timeout: float) -> float:
        deadline = time.time() + timeout
        with lock:
            while not all(i in searchable for i in ids):
                if not lock.wait(max(0.0, deadline - time.time())):
                    missing = [i for i in ids if i not in searchable]
                    raise TimeoutError(f"{len(missing)} documents not searchable after {timeout}s")
            return max(searchable[i] for i in ids)

    results: dict[str, float] = {}
    app_ref: dict[str, object] = {}
    failure: list[BaseException] = []

    def drive() -> None:
        try:
            for doc in warmup:  # warm-up: model loaded, group joined, first batches through
                db[doc.data_type.value].insert_one(doc.to_mongo())
            wait_for([d.id for d in warmup], 180)
            started = time.time()
            for doc in burst:
                db[doc.data_type.value].insert_one(doc.to_mongo())
            done = wait_for([d.id for d in burst], 600)
            results["burst_s"] = done - started
            latencies = []
            for doc in paced:
                time.sleep(0.3)
                inserted = time.time()
                db[doc.data_type.value].insert_one(doc.to_mongo())
                latencies.append(wait_for([doc.id], 60) - inserted)
            results["p50"] = float(np.percentile(latencies, 50))
            results["p95"] = float(np.percentile(latencies, 95))
        except BaseException as exc:  # noqa: BLE001 - reported after the app stopped
            failure.append(exc)
        finally:
            app_ref["app"].stop()  # type: ignore[attr-defined]

    watch_log = open(workdir / "watch.log", "wb")  # noqa: SIM115 - the watcher writes to it until the end
    watcher = subprocess.Popen(
        [sys.executable, "-m", "llm_twin.cdc", *overrides],
        cwd=ROOT, stdout=watch_log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    driver = threading.Thread(target=drive, daemon=True)

    def on_ready(app) -> None:
        app_ref["app"] = app
        driver.start()

    try:
        report = run_stream(settings, on_written=on_written, on_ready=on_ready)
    finally:
        os.killpg(watcher.pid, signal.SIGTERM)
        watcher.wait(30)
        watch_log.close()
        driver.join(5)
        remove_what_was_written(settings, workdir)
    if failure:
        raise failure[0]

    embedder = get_embedder(settings.embedding)  # the same process-wide model the sink used
    embedder.encode(burst_chunks[:32])
    t = time.perf_counter()
    embedder.encode(burst_chunks)
    encode_cps = len(burst_chunks) / (time.perf_counter() - t)

    stream_cps = len(burst_chunks) / results["burst_s"]
    figures = {
        "documents": args.n,
        "chunks": len(burst_chunks),
        "documents_per_s": round(args.n / results["burst_s"], 2),
        "chunks_per_s": round(stream_cps, 2),
        "encode_chunks_per_s": round(encode_cps, 2),
        "throughput_ratio": round(stream_cps / encode_cps, 3),
        "latency_p50_s": round(results["p50"], 3),
        "latency_p95_s": round(results["p95"], 3),
        "latency_docs": args.latency_docs,
        "sink_embed_s": round(report.write.embed_s, 2),
        "sink_write_s": round(report.write.write_s, 2),  # store lookups, version re-check, Qdrant writes
        "cpus": os.cpu_count(),
    }
    print(f"documents/s            {figures['documents_per_s']}")
    print(f"chunks/s (stream)      {figures['chunks_per_s']}")
    print(f"chunks/s (raw encode)  {figures['encode_chunks_per_s']}")
    print(f"ratio                  {figures['throughput_ratio']}  (target >= 0.9)")
    print(f"latency p50 / p95      {figures['latency_p50_s']} s / {figures['latency_p95_s']} s  (target p95 <= 1 s)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
