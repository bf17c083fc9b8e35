"""Prompt traces: written to the warehouse (a real MongoDB-wire server), listed newest first by the
tracer and by the CLI; a failing sink never breaks the caller."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from llm_twin.monitoring.traces import MemorySink, MongoTraceStore, Trace, Tracer, build_tracer
from tests.configs import configured

pytestmark = pytest.mark.services


def test_traces_go_to_the_warehouse_and_list_newest_first(connections):
    conns = connections.replace(mongo_database=f"traces_{uuid.uuid4().hex[:8]}")
    tracer = build_tracer(configured("monitoring", sinks=["warehouse"]), conns)
    for i in range(3):
        tracer.record(Trace(instruction=f"q{i}", answer=f"a{i}", latency_s=0.1 * i, prompt_tokens=10,
                            completion_tokens=i, retrieved_chunk_ids=[f"c{i}"], model_version="v1"))
    tracer.flush()
    assert tracer.failures == 0
    recent = tracer.recent(2)
    assert [t.instruction for t in recent] == ["q2", "q1"]
    assert recent[0].retrieved_chunk_ids == ["c2"] and recent[0].model_version == "v1"
    tracer.close()

    store = MongoTraceStore(conns, "traces")
    assert len(store.recent(10)) == 3
    store.close()


def test_cli_lists_recent_traces(connections):
    db = f"traces_{uuid.uuid4().hex[:8]}"
    store = MongoTraceStore(connections.replace(mongo_database=db), "traces")
    store.write(Trace(instruction="write about kafka", answer="...", latency_s=1.5, model_version="v7"))
    store.close()
    port = connections.configured.mongo_port
    proc = subprocess.run([sys.executable, "-m", "llm_twin.monitoring", "recent", "--limit", "5", "--json",
                           f"infra.mongo_port={port}", f"infra.mongo_database={db}"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '"write about kafka"' in proc.stdout and '"v7"' in proc.stdout


def test_failing_sink_is_counted_not_raised():
    class Broken:
        def write(self, trace):
            raise ConnectionError("warehouse down")

    memory = MemorySink()
    tracer = Tracer([Broken(), memory], configured("monitoring"))
    tracer.record(Trace(instruction="x", latency_s=0.1))
    tracer.flush()
    assert tracer.failures == 1 and [t.instruction for t in memory.recent()] == ["x"]
    tracer.close()


def test_prompt_not_stored_when_disabled():
    memory = MemorySink()
    tracer = Tracer([memory], configured("monitoring", store_prompt=False))
    tracer.record(Trace(instruction="x", prompt="secret context", latency_s=0.1))
    tracer.flush()
    assert memory.recent()[0].prompt == ""
    tracer.close()
