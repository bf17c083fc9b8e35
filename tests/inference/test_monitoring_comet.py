"""The Comet trace sink in offline mode: an OfflineExperiment archive in a tmp folder holds each trace
(as a text sample with its id, plus latency/token metrics per step) and nothing else of the process."""

from __future__ import annotations

import json
import zipfile

from llm_twin.monitoring.traces import CometTraceSink, MemorySink, Trace, build_tracer
from tests.configs import configured


def _archive(directory) -> zipfile.ZipFile:
    archives = list(directory.glob("*.zip"))
    assert len(archives) == 1, archives
    return zipfile.ZipFile(archives[0])


def test_comet_offline_archive_holds_the_traces(tmp_path, monkeypatch):
    monkeypatch.delenv("COMET_API_KEY", raising=False)  # offline
    monkeypatch.setenv("COMET_AUTO_LOG_ENV_DETAILS", "false")
    out = tmp_path / "comet"
    settings = configured("monitoring", sinks=["comet"], comet_project="llm-twin-test", comet_offline_dir=str(out),
                          store_prompt=False)
    tracer = build_tracer(settings)
    assert [type(s) for s in tracer.sinks] == [CometTraceSink, MemorySink]  # MemorySink: /traces still answers
    traces = [
        Trace(instruction="write a post about qdrant", prompt="SECRET-PROMPT-TEXT", answer="Qdrant filters while it searches.",
              latency_s=0.42, prompt_tokens=120, completion_tokens=37, model_version="llm_twin:7",
              retrieved_chunk_ids=["c-1", "c-2"], timings={"retrieval_s": 0.05}),
        Trace(instruction="and about kafka?", answer="CDC feeds the store.", latency_s=0.8, prompt_tokens=90,
              completion_tokens=12, model_version="llm_twin:7", retrieved_chunk_ids=["c-3"]),
    ]
    for trace in traces:
        tracer.record(trace)
    tracer.close()  # flushes, then ends the experiment: the archive is written
    assert tracer.failures == 0 and tracer.written == 4

    archive = _archive(out)
    messages = [json.loads(line) for line in archive.read("messages.json").decode().splitlines() if line.strip()]
    texts = [m["payload"] for m in messages
             if m["type"] == "file_upload" and m["payload"]["upload_type"] == "text-sample"]
    assert [t["metadata"]["trace_id"] for t in texts] == [t.id for t in traces]
    assert [t["additional_params"]["step"] for t in texts] == [1, 2]
    logged = [Trace.model_validate_json(archive.read(t["file_path"])) for t in texts]
    assert [t.instruction for t in logged] == [t.instruction for t in traces]
    assert logged[0].retrieved_chunk_ids == ["c-1", "c-2"] and logged[0].model_version == "llm_twin:7"
    assert logged[0].answer == traces[0].answer and logged[0].prompt == ""  # store_prompt=False honoured

    metrics = {(m["payload"]["metric"]["metricName"], m["payload"]["metric"]["step"]): m["payload"]["metric"]["metricValue"]
               for m in messages if m["type"] == "metric_msg"}
    assert metrics[("latency_s", 1)] == 0.42 and metrics[("latency_s", 2)] == 0.8
    assert metrics[("prompt_tokens", 1)] == 120 and metrics[("completion_tokens", 2)] == 12

    # Only traces: no source code, captured output, git patch or environment details in the archive.
    raw = b"".join(archive.read(name) for name in archive.namelist())
    assert b"SECRET-PROMPT-TEXT" not in raw
    uploads = {m["payload"]["upload_type"] for m in messages if m["type"] == "file_upload"}
    assert uploads == {"text-sample"}, uploads
    assert not [m for m in messages if m["type"] in ("standard_output", "git_metadata", "log_dependency")]
