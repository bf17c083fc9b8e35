"""Fault tests: crashes of the watcher and the stream app, a RabbitMQ restart and a Kafka broker restart lose and
duplicate nothing."""

from __future__ import annotations

import ast
import random
import subprocess
import threading
import time

import pytest

from tests.streaming.conftest import Child, article, assert_in_sync, post, repository, warehouse

pytestmark = [pytest.mark.services, pytest.mark.slow]

WATCH, APP = "llm_twin.cdc", "llm_twin.streaming"


def _writer(settings, n: int, stop_after: threading.Event, seed: int = 7, pace_s: float = 0.05) -> threading.Thread:
    """Insert n documents of every type, update and delete some of them, at a steady pace."""
    rng = random.Random(seed)

    def work() -> None:
        db = warehouse(settings)
        live: list[tuple[str, str]] = []
        for i in range(n):
            kind = ("articles", "posts", "repositories")[i % 3]
            doc = {"articles": article, "posts": post, "repositories": repository}[kind](i)
            db[kind].insert_one(doc.to_mongo())
            live.append((kind, doc.id))
            roll = rng.random()
            if roll < 0.15 and live:
                kind2, doc_id = live.pop(rng.randrange(len(live)))
                db[kind2].delete_one({"_id": doc_id})
            elif roll < 0.35 and live:
                kind2, doc_id = rng.choice(live)
                if kind2 == "posts":
                    new = post(10_000 + i)
                    db.posts.update_one({"_id": doc_id}, {"$set": {"content": new.content, "content_hash": new.content_hash}})
            time.sleep(pace_s)
        stop_after.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def _drain(overrides, tmp_path) -> None:
    """Bounded runs pick up whatever the killed processes left (no reconciliation involved)."""
    assert Child(WATCH, overrides, tmp_path / "watch.log", "cdc.bounded=true").wait(120) == 0
    assert Child(APP, overrides, tmp_path / "app.log", "stream.bounded=true").wait(240) == 0


def test_killing_watcher_and_app_repeatedly_loses_and_duplicates_nothing(stream_settings, tmp_path):
    overrides = stream_settings.overrides
    done = threading.Event()
    writer = _writer(stream_settings, 300, done, pace_s=0.15)  # ~50 s of writes
    rng = random.Random(3)
    kills = 0
    while not done.is_set() or kills < 3:  # SIGKILL both (the app with its Source subprocess) at random points
        app = Child(APP, overrides, tmp_path / "app.log")
        watcher = Child(WATCH, overrides, tmp_path / "watch.log")
        time.sleep(rng.uniform(3, 8))
        watcher.kill()
        watcher = Child(WATCH, overrides, tmp_path / "watch.log")
        time.sleep(rng.uniform(12, 20))  # the app needs ~10 s to load the model and join the group
        watcher.kill()
        app.kill()
        kills += 1
    writer.join(30)
    batches_before_drain = (tmp_path / "app.log").read_text().count("sink batch")
    assert batches_before_drain >= 2, "the killed apps never wrote: the test did not exercise a live stream"
    _drain(overrides, tmp_path)
    counts = assert_in_sync(stream_settings)
    assert sum(counts.values()) > 200


def test_rabbitmq_restart_mid_stream_is_survived(stream_settings, tmp_path):
    overrides = stream_settings.overrides
    watcher = Child(WATCH, overrides, tmp_path / "watch.log")
    app = Child(APP, overrides, tmp_path / "app.log")
    done = threading.Event()
    writer = _writer(stream_settings, 120, done, seed=11)
    try:
        time.sleep(4)
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=60)
        time.sleep(3)
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
        writer.join(60)
        assert done.is_set()
        time.sleep(15)  # the long-running processes reconnect and catch up
        assert watcher.proc.poll() is None and app.proc.poll() is None, "a process died instead of reconnecting"
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], capture_output=True, timeout=120, check=False)
        watcher.kill(signal_term())
        app.kill(signal_term())
    _drain(overrides, tmp_path)
    assert sum(assert_in_sync(stream_settings).values()) > 80


def test_kafka_broker_restart_mid_stream_is_survived_and_the_app_restores_sync(stream_settings, local_services, tmp_path):
    """The local broker keeps topics in memory: a restart loses the changes in flight (already acked from
    RabbitMQ) and the consumer group's offsets. The long-running app outlives it (back off, reconcile, new
    app) and brings Qdrant back in sync by itself; a bounded `pipeline=stream` run then finds no drift."""
    from llm_twin.infra.processes import read_pid, terminate

    overrides = [*stream_settings.overrides, "stream.restart_backoff_s=1"]
    watcher = Child(WATCH, overrides, tmp_path / "watch.log")
    app = Child(APP, overrides, tmp_path / "app.log")
    done = threading.Event()
    writer = _writer(stream_settings, 300, done, seed=5, pace_s=0.15)  # ~45 s of writes
    app_log = tmp_path / "app.log"
    try:
        deadline = time.time() + 90  # the app has loaded its model and written its first batches
        while "sink batch" not in app_log.read_text() and time.time() < deadline:
            time.sleep(0.5)
        assert not done.is_set(), "the writes ended before the restart: nothing was in flight"
        pid = read_pid(local_services.run_dir / "kafka.pid")
        assert pid is not None, "the test session's broker is not the project's own"
        terminate(pid)
        time.sleep(2)
        local_services.start(["kafka"])  # same port, empty memory
        writer.join(60)
        assert done.is_set()
        deadline = time.time() + 180  # the running app alone catches up: restarted, then quiet for 15 s
        while time.time() < deadline:
            assert app.proc.poll() is None, f"the app died after the broker restart:\n{app_log.read_text()[-3000:]}"
            if "restarting in" in app_log.read_text() and time.time() - app_log.stat().st_mtime > 15:
                break
            time.sleep(2)
        watcher.kill(signal_term())
        app.kill(signal_term())  # Qdrant's local mode is one process at a time: stop the app to look
    finally:
        if read_pid(local_services.run_dir / "kafka.pid") is None:
            local_services.start(["kafka"])
        watcher.kill(signal_term())
        app.kill(signal_term())
    text = app_log.read_text()
    assert "sink batch" in text, "the app never wrote before the restart"
    assert "restarting in" in text and "reconciliation:" in text, "the app did not go through a restart"
    assert sum(assert_in_sync(stream_settings).values()) > 200  # what the long-running app left: in sync
    log = tmp_path / "reconcile.log"
    assert Child(APP, overrides, log, "stream.bounded=true", "stream.reconcile=true").wait(300) == 0
    line = next(x for x in log.read_text().splitlines() if "reconciliation:" in x)
    repaired = ast.literal_eval(line.split("reconciliation:", 1)[1].strip())
    assert all(n == 0 for counts in repaired.values() for n in counts.values()), repaired  # nothing left to repair
    assert sum(assert_in_sync(stream_settings).values()) > 200


def signal_term() -> int:
    import signal

    return signal.SIGTERM
