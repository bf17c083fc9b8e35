"""The BentoML service in-process (Service.to_asgi() + starlette TestClient): validation, auth, errors,
retrieval and generation through the real engine (llama.cpp + MiniLM + local Qdrant)."""

from __future__ import annotations

import pytest

from tests.inference.conftest import AUTHOR, api_key_env


@pytest.fixture(scope="module")
def client(service_client):
    with api_key_env(None):
        yield service_client


def test_health_docs_metrics(client):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200
    spec = client.get("/docs.json").json()
    assert {"/generate", "/retrieve", "/traces"} <= set(spec["paths"])
    body = spec["components"]["schemas"]
    assert any("instruction" in s.get("properties", {}) for s in body.values())
    # /metrics needs the Prometheus multiprocess setup of a real server: checked in test_bento_serve.py
    page = client.get("/ui/")
    assert page.status_code == 200 and "id=\"instruction\"" in page.text


def test_retrieve_returns_sources(client):
    r = client.post("/retrieve", json={"query": "how do vector databases filter by author?", "k": 3})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["filters"]["author"] == AUTHOR
    assert data["context"][0]["link"] == "https://medium.com/@jane/vector-dbs"
    assert all(c["score"] > 0 for c in data["context"])


def test_generate_answers_with_context_and_trace(client):
    r = client.post("/generate", json={"instruction": "Write a short post about vector databases",
                                       "max_new_tokens": 24, "temperature": 0.0})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["answer"].strip()
    assert data["model_version"] == "test-1"
    assert data["context"] and data["context"][0]["link"].startswith("https://")
    assert 1 <= data["completion_tokens"] <= 24
    assert data["timings"]["total_s"] > 0
    traces = client.post("/traces", json={"limit": 5}).json()
    assert any(t["id"] == data["trace_id"] and t["answer"] == data["answer"] for t in traces)
    assert any(t["retrieved_chunk_ids"] for t in traces)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"instruction": ""},
        {"instruction": "x" * 5000},
        {"instruction": "hi", "max_new_tokens": 0},
        {"instruction": "hi", "max_new_tokens": 100000},
        {"instruction": "hi", "temperature": -1},
        {"instruction": "hi", "top_p": 0},
        {"instruction": "hi", "url": "not a url"},
        {"instruction": "hi", "platform": "linked in; drop"},
        {"instruction": 12},
    ],
)
def test_generate_validation_is_a_clear_400(client, body):
    r = client.post("/generate", json=body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    error = r.json()  # the shape the OpenAPI schema declares: {"error": string, "detail"?: string}
    assert isinstance(error, dict) and set(error) <= {"error", "detail"}, error
    assert isinstance(error["error"], str) and isinstance(error.get("detail", ""), str), error
    named = {k for k in (set(body) or {"instruction"}) if k in error["error"] + error.get("detail", "")}
    assert named, f"the error names no field of {body}: {error}"


def test_url_to_loopback_is_refused(client):
    r = client.post("/generate", json={"instruction": "summarise this", "url": "http://127.0.0.1:8080/admin"})
    assert r.status_code == 400
    assert "non-public address" in r.json()["error"]  # an object, not BentoML's one-element array


def test_api_key_required_when_configured(client, monkeypatch):
    monkeypatch.setenv("LLM_TWIN_API_KEY", "s3cret")  # read per request by the middleware
    body = {"query": "kafka"}
    assert client.post("/retrieve", json=body).status_code == 401
    assert client.post("/retrieve", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.post("/retrieve", json=body, headers={"X-API-Key": "s3cret"}).status_code == 200
    assert client.post("/retrieve", json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.post("/generate", json={"instruction": "hi"}).status_code == 401
    assert client.get("/livez").status_code == 200  # probes and docs stay open
    assert client.get("/ui/").status_code == 200
