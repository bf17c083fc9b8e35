"""EngineHolder on its own: a swap switches atomically, in-flight leases keep the old engine open until
they end, a failed load keeps the old engine, and concurrent requests never see a closed engine."""

from __future__ import annotations

import threading
import time

import pytest

from llm_twin.inference.holder import EngineHolder, ReloadFailed


class FakeEngine:
    def __init__(self, version: str) -> None:
        self.model_version = version
        self.closed = False

    def work(self) -> str:
        assert not self.closed, f"engine {self.model_version} used after close"
        time.sleep(0.002)
        assert not self.closed, f"engine {self.model_version} closed while in use"
        return self.model_version

    def close(self) -> None:
        self.closed = True


def test_swap_closes_old_engine_only_after_its_last_lease():
    old, new = FakeEngine("v1"), FakeEngine("v2")
    holder = EngineHolder(old)
    lease = holder.acquire()
    report = holder.swap(new)
    assert report.previous_version == "v1" and report.model_version == "v2" and report.in_flight_on_previous == 1
    assert holder.model_version == "v2"
    assert not old.closed, "a request in flight still runs on the old engine"
    assert lease.engine.work() == "v1"
    lease.release()
    assert old.closed
    lease.release()  # idempotent
    with holder.lease() as engine:
        assert engine is new


def test_failed_load_keeps_serving_the_old_engine():
    old = FakeEngine("v1")
    holder = EngineHolder(old)

    def broken() -> FakeEngine:
        raise FileNotFoundError("twin.gguf is missing")

    with pytest.raises(ReloadFailed, match="twin.gguf is missing") as info:
        holder.reload(broken)
    assert info.value.serving == "v1"
    assert holder.model_version == "v1" and not old.closed


def test_one_reload_at_a_time():
    holder = EngineHolder(FakeEngine("v1"))
    started, release = threading.Event(), threading.Event()

    def slow() -> FakeEngine:
        started.set()
        release.wait(10)
        return FakeEngine("v2")

    worker = threading.Thread(target=holder.reload, args=(slow,))
    worker.start()
    started.wait(10)
    with pytest.raises(ReloadFailed, match="in progress"):
        holder.reload(lambda: FakeEngine("v3"))
    release.set()
    worker.join(10)
    assert holder.model_version == "v2"


def test_concurrent_requests_during_swaps_never_fail():
    holder = EngineHolder(FakeEngine("v0"))
    errors: list[BaseException] = []
    seen: set[str] = set()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                with holder.lease() as engine:
                    seen.add(engine.work())
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    engines = [FakeEngine(f"v{i}") for i in range(1, 6)]
    for engine in engines:
        time.sleep(0.02)
        holder.reload(lambda e=engine: e)
    time.sleep(0.02)
    stop.set()
    for t in threads:
        t.join(10)
    assert errors == []
    assert {"v0", "v5"} <= seen
    assert all(e.closed for e in engines[:-1]) and not engines[-1].closed
    holder.close()
    assert engines[-1].closed
