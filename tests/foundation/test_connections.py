"""`Connections`: the one place that turns config into clients, and secrets read one way (`env:` refs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from qdrant_client import models

from llm_twin.config import InfraConfig, load_group
from llm_twin.connections import Connections, MissingSecretError, referenced, resolve_env


def _local(**changes: object) -> Connections:
    return Connections.of(load_group("infra", schema=InfraConfig).model_copy(update=changes))


def test_local_qdrant_client_creates_folder_and_works(tmp_path: Path) -> None:
    client = _local(qdrant_path=str(tmp_path / "qdrant")).qdrant_client()
    try:
        client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE))
        client.upsert("c", points=[models.PointStruct(id=1, vector=[1.0, 0.0], payload={"a": 1})])
        hits = client.query_points("c", query=[1.0, 0.1], limit=1).points
    finally:
        client.close()
    assert (tmp_path / "qdrant").is_dir()
    assert hits[0].id == 1 and hits[0].payload == {"a": 1}


def test_qdrant_client_without_location_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="qdrant"):
        _local(qdrant_path=None, qdrant_url=None).qdrant_client()


def test_a_service_that_is_not_configured_fails_when_used_with_its_key_named() -> None:
    connections = _local(rabbitmq_url="env:LLM_TWIN_TEST_UNSET_QUEUE|")
    with pytest.raises(ValueError, match="infra.rabbitmq_url is not set"):
        connections.rabbitmq_connection()


def test_env_reference_with_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_TWIN_TEST_DB", raising=False)
    assert _local(mongo_database="env:LLM_TWIN_TEST_DB|fallback").mongo_database == "fallback"
    monkeypatch.setenv("LLM_TWIN_TEST_DB", "from_env")
    assert _local(mongo_database="env:LLM_TWIN_TEST_DB|fallback").mongo_database == "from_env"
    assert resolve_env("env:LLM_TWIN_TEST_DB|x") == "from_env"
    assert resolve_env("plain value") == "plain value"


def test_missing_reference_without_default_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_TWIN_TEST_MISSING", raising=False)
    with pytest.raises(MissingSecretError, match="LLM_TWIN_TEST_MISSING is not set"):
        _local(qdrant_api_key="env:LLM_TWIN_TEST_MISSING")


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_TWIN_TEST_KEY", "s3cr3t")
    connections = _local(qdrant_url="http://q:6333", qdrant_api_key="env:LLM_TWIN_TEST_KEY")
    assert connections.qdrant_api_key is not None
    assert connections.qdrant_api_key.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(connections) and "s3cr3t" not in connections.model_dump_json()


def test_literal_secrets_become_references_before_they_cross_a_boundary() -> None:
    infra = load_group("infra", schema=InfraConfig).model_copy(
        update={"rabbitmq_url": "amqp://twin:literal-s3cret@127.0.0.1:5672/%2F",
                "mongo_uri": "mongodb://admin:mongo-pw@127.0.0.1:27017"})
    safe = referenced(infra)
    dumped = safe.model_dump_json()
    assert "literal-s3cret" not in dumped and "mongo-pw" not in dumped
    assert safe.rabbitmq_url.startswith("env:LLM_TWIN_SECRET_RABBITMQ_URL_")
    assert resolve_env(safe.rabbitmq_url) == infra.rabbitmq_url  # a child process inherits the variable
    name = safe.rabbitmq_url[4:]
    assert os.environ[name] == infra.rabbitmq_url
    connections = Connections.of(infra)
    assert "literal-s3cret" not in connections.configured.model_dump_json()
    assert connections.describe()["rabbitmq"] == "amqp://***@127.0.0.1:5672/%2F"
