"""`Connections`: the one place that turns config into clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from qdrant_client import models

from llm_twin.settings import Connections


def test_local_qdrant_client_creates_folder_and_works(tmp_path: Path) -> None:
    connections = Connections(qdrant_path=tmp_path / "qdrant")
    client = connections.qdrant_client()
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
        Connections(qdrant_path=None, qdrant_url=None).qdrant_client()


def test_env_reference_with_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_TWIN_TEST_DB", raising=False)
    assert Connections(mongo_database="env:LLM_TWIN_TEST_DB|fallback").mongo_database == "fallback"
    monkeypatch.setenv("LLM_TWIN_TEST_DB", "from_env")
    assert Connections(mongo_database="env:LLM_TWIN_TEST_DB|fallback").mongo_database == "from_env"


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_TWIN_TEST_KEY", "s3cr3t")
    connections = Connections(qdrant_url="http://q:6333", qdrant_api_key="env:LLM_TWIN_TEST_KEY")
    assert connections.qdrant_api_key is not None
    assert connections.qdrant_api_key.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(connections) and "s3cr3t" not in connections.model_dump_json()
