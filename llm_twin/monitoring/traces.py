"""Trace model and sinks.

Writing a trace must never fail or slow a request: sinks run on one background thread with bounded
queueing, errors are logged (without the prompt) and counted. The warehouse sink uses short pymongo
timeouts; the Comet sink logs each trace as a text/metrics step of one experiment (offline archive when
no COMET_API_KEY is set).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from llm_twin.config.monitoring import MonitoringConfig

if TYPE_CHECKING:
    from llm_twin.connections import Connections

log = logging.getLogger(__name__)


class Trace(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    endpoint: str = "generate"
    instruction: str
    prompt: str = ""
    platform: str | None = None
    url: str | None = None
    retrieved_chunk_ids: list[str] = Field(default_factory=list)
    answer: str = ""
    finish_reason: str = ""
    latency_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_version: str = ""
    timings: dict[str, float] = Field(default_factory=dict)
    error: str | None = None

    def to_mongo(self) -> dict[str, Any]:
        data = self.model_dump(mode="python")
        data["_id"] = data.pop("id")
        data["created_ts"] = self.created_at.timestamp()  # numeric: sorts the same on every backend
        return data

    @classmethod
    def from_mongo(cls, data: dict[str, Any]) -> Trace:
        data = dict(data)
        data["id"] = str(data.pop("_id"))
        data.pop("created_ts", None)
        if isinstance(data.get("created_at"), datetime) and data["created_at"].tzinfo is None:
            data["created_at"] = data["created_at"].replace(tzinfo=UTC)
        return cls.model_validate(data)


class TraceSink(Protocol):
    def write(self, trace: Trace) -> None: ...


class MemorySink:
    """Keeps the last traces in memory (tests, and `recent` when no warehouse is configured)."""

    def __init__(self, size: int = 500) -> None:
        self.size = size
        self.items: list[Trace] = []
        self._lock = threading.Lock()

    def write(self, trace: Trace) -> None:
        with self._lock:
            self.items = (self.items + [trace])[-self.size :]

    def recent(self, limit: int = 20) -> list[Trace]:
        with self._lock:
            return list(reversed(self.items[-limit:]))


class MongoTraceStore:
    def __init__(self, connections: Connections, collection: str) -> None:
        self.client = connections.mongo_client()
        self.collection = self.client[connections.mongo_database][collection]

    def write(self, trace: Trace) -> None:
        self.collection.replace_one({"_id": trace.id}, trace.to_mongo(), upsert=True)

    def recent(self, limit: int = 20) -> list[Trace]:
        cursor = self.collection.find({}).sort("created_ts", -1).limit(limit)
        return [Trace.from_mongo(doc) for doc in cursor]

    def close(self) -> None:
        self.client.close()


# A trace sink records traces and nothing else: no source code, git patch, captured stdout (which could
# hold prompts of other requests), environment or host details, CLI arguments or auto-logged metrics.
COMET_QUIET: dict[str, Any] = {
    "log_code": False, "log_graph": False, "parse_args": False, "auto_param_logging": False,
    "auto_metric_logging": False, "auto_output_logging": None, "log_env_details": False,
    "log_git_metadata": False, "log_git_patch": False, "log_env_gpu": False, "log_env_host": False,
    "log_env_cpu": False, "log_env_network": False, "log_env_disk": False, "auto_log_co2": False,
    "display_summary_level": 0,
}


class CometTraceSink:
    """One Comet experiment per service process; each trace is a step (online with COMET_API_KEY, else an
    offline archive under `offline_dir` that `comet upload` can send later)."""

    def __init__(self, project: str, offline_dir: str | None = None) -> None:
        os.environ.setdefault("COMET_AUTO_LOG_ENV_DETAILS", "false")
        import comet_ml

        online = bool(os.environ.get("COMET_API_KEY"))
        if online:
            self.experiment = comet_ml.start(project_name=project, experiment_config=comet_ml.ExperimentConfig(
                name="llm-twin-traces", **COMET_QUIET))
        else:
            from llm_twin.paths import state_dir

            directory = offline_dir or str(state_dir("comet", "monitoring"))
            self.experiment = comet_ml.OfflineExperiment(project_name=project, offline_directory=directory,
                                                         **COMET_QUIET)
            self.experiment.set_name("llm-twin-traces")
        self._step = 0

    def write(self, trace: Trace) -> None:
        self._step += 1
        self.experiment.log_metrics(
            {"latency_s": trace.latency_s, "prompt_tokens": trace.prompt_tokens,
             "completion_tokens": trace.completion_tokens}, step=self._step)
        self.experiment.log_text(trace.model_dump_json(), step=self._step, metadata={"trace_id": trace.id})

    def close(self) -> None:
        self.experiment.end()


class Tracer:
    """Fans a trace out to the sinks on a background thread; `recent()` reads the first readable sink."""

    def __init__(self, sinks: list[TraceSink], settings: MonitoringConfig) -> None:
        self.sinks = sinks
        self.settings = settings
        self.failures = 0
        self.written = 0
        self._queue: queue.Queue[Trace | None] = queue.Queue(maxsize=self.settings.max_queue)
        self._thread = threading.Thread(target=self._run, name="trace-writer", daemon=True)
        self._thread.start()

    def record(self, trace: Trace) -> None:
        if not self.settings.store_prompt:
            trace = trace.model_copy(update={"prompt": ""})
        try:
            self._queue.put_nowait(trace)
        except queue.Full:
            self.failures += 1
            log.warning("trace queue full: dropping trace %s", trace.id)

    def _run(self) -> None:
        while True:
            trace = self._queue.get()
            if trace is None:
                self._queue.task_done()
                return
            for sink in self.sinks:
                try:
                    sink.write(trace)
                    self.written += 1
                except Exception as exc:  # noqa: BLE001 - monitoring never breaks serving
                    self.failures += 1
                    log.warning("trace sink %s failed: %s", type(sink).__name__, exc)
            self._queue.task_done()

    def flush(self, timeout_s: float = 10.0) -> None:
        done = threading.Event()
        def wait_for_queue() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait_for_queue, daemon=True).start()
        done.wait(timeout_s)

    def recent(self, limit: int = 20) -> list[Trace]:
        """Newest traces first; traces still queued for the background writer are written first."""
        self.flush(timeout_s=5.0)
        for sink in self.sinks:
            if hasattr(sink, "recent"):
                return sink.recent(limit)
        return []

    def close(self) -> None:
        self.flush()
        self._queue.put(None)
        for sink in self.sinks:
            if hasattr(sink, "close"):
                try:
                    sink.close()
                except Exception:
                    log.warning("closing %s failed", type(sink).__name__, exc_info=True)


def build_tracer(settings: MonitoringConfig, connections: Connections | None = None) -> Tracer:
    """The configured sinks; the warehouse sink needs `connections` with a warehouse URI (skipped otherwise)."""
    sinks: list[TraceSink] = []
    if settings.enabled:
        for name in settings.sinks:
            if name == "warehouse" and connections is not None and connections.mongo_uri.get_secret_value():
                sinks.append(MongoTraceStore(connections, settings.collection))
            elif name == "comet":
                try:
                    sinks.append(CometTraceSink(settings.comet_project, settings.comet_offline_dir))
                except Exception as exc:  # noqa: BLE001 - an optional sink must not stop the service
                    log.warning("Comet trace sink unavailable: %s", exc)
            elif name == "memory":
                sinks.append(MemorySink())
    if not any(hasattr(s, "recent") for s in sinks):
        sinks.append(MemorySink())  # so /traces always answers, even without a warehouse
    return Tracer(sinks, settings)
