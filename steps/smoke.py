"""Steps of the `smoke` pipeline: one per local service, so the dashboard shows which one failed."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step

from llm_twin.config import EmbeddingConfig, InfraConfig
from llm_twin.connections import Connections
from llm_twin.infra import smoke


def _record(result: smoke.CheckResult) -> dict[str, Any]:
    log_metadata(metadata={"service": result.service, "seconds": result.seconds, **result.detail})
    return result.model_dump()


@step
def check_warehouse(infra: InfraConfig) -> Annotated[dict[str, Any], "warehouse_check"]:
    return _record(smoke.check_warehouse(Connections.of(infra)))


@step
def check_queue(infra: InfraConfig) -> Annotated[dict[str, Any], "queue_check"]:
    return _record(smoke.check_queue(Connections.of(infra)))


@step
def check_stream_broker(infra: InfraConfig) -> Annotated[dict[str, Any], "stream_broker_check"]:
    return _record(smoke.check_stream_broker(Connections.of(infra)))


@step
def check_feature_store(infra: InfraConfig, embedding: EmbeddingConfig) -> Annotated[dict[str, Any], "feature_store_check"]:
    return _record(smoke.check_feature_store(Connections.of(infra), embedding))


@step
def summarize_checks(
    warehouse: dict[str, Any], queue: dict[str, Any], broker: dict[str, Any], feature_store: dict[str, Any]
) -> Annotated[str, "smoke_summary"]:
    rows = [warehouse, queue, broker, feature_store]
    log_metadata(metadata={"services_ok": sum(r["ok"] for r in rows), "total_seconds": sum(r["seconds"] for r in rows)})
    return "\n".join(f"{r['service']:<10} ok  {r['seconds']:>6.2f} s  {r['detail']}" for r in rows)
