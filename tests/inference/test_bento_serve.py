"""A real `bentoml serve` of the built bento answers /generate with an answer and its sources, exposes
Prometheus metrics and serves the web page and OpenAPI schema."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.slow


def test_built_bento_serves_generate(served_bento):
    url = served_bento["url"]
    r = requests.post(f"{url}/generate", json={"instruction": "Write a LinkedIn post about streaming with Kafka",
                                                "max_new_tokens": 32, "temperature": 0.0}, timeout=120)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["answer"].strip()
    assert data["context"][0]["document_id"] == "p-kafka"
    assert data["context"][0]["link"] == "https://linkedin.com/posts/jane-kafka"
    assert data["model_version"] == "test-1"
    assert data["timings"]["generation_s"] > 0


def test_served_retrieve_metrics_docs_ui(served_bento):
    url = served_bento["url"]
    r = requests.post(f"{url}/retrieve", json={"query": "retry with exponential backoff", "k": 2}, timeout=60)
    assert r.status_code == 200 and r.json()["context"][0]["document_id"] == "c-retry"
    bad = requests.post(f"{url}/retrieve", json={"query": ""}, timeout=30)
    assert bad.status_code == 400 and "query" in bad.text
    metrics = requests.get(f"{url}/metrics", timeout=30).text
    assert "bentoml_service_request_total" in metrics or "bentoml_api_server_request_total" in metrics
    assert "/generate" in requests.get(f"{url}/docs.json", timeout=30).json()["paths"]
    assert "LLM Twin" in requests.get(f"{url}/ui/", timeout=30).text
