"""The OpenAI-compatible endpoint in-process: how requests map onto the twin (conversation, system text,
extensions, stop strings) and every bad input as an OpenAI-shaped 4xx."""

from __future__ import annotations

import json

import pytest

from tests.inference.conftest import AUTHOR, api_key_env


@pytest.fixture(scope="module")
def client(service_client):
    with api_key_env(None):
        yield service_client


def chat(client, **body):
    body.setdefault("model", "llm_twin")
    return client.post("/v1/chat/completions", json=body)


def sse_events(text: str) -> list:
    events = [line[len("data: "):] for line in text.split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


def test_conversation_system_text_and_extensions_reach_the_prompt(client):
    r = chat(client, max_tokens=4, temperature=0.0, platform="github",
             messages=[{"role": "developer", "content": "Prefer short sentences."},
                       {"role": "user", "content": [{"type": "text", "text": "How do I retry "},
                                                    {"type": "text", "text": "with exponential backoff?"}]}])
    assert r.status_code == 200, r.text
    data = r.json()
    assert {s["platform"] for s in data["sources"]} == {"github"}
    assert data["sources"][0]["document_id"] == "c-retry"
    trace = next(t for t in client.post("/traces", json={"limit": 20}).json() if t["id"] == data["trace_id"])
    assert trace["endpoint"] == "chat" and trace["instruction"] == "How do I retry with exponential backoff?"
    assert f"You are {AUTHOR}'s writing twin" in trace["prompt"] and "Prefer short sentences." in trace["prompt"]
    assert "Use this context from my own writing" in trace["prompt"]


def test_stop_strings_end_the_answer(client):
    whole = chat(client, max_tokens=24, temperature=0.0, messages=[{"role": "user", "content": "Write about Kafka"}])
    text = whole.json()["choices"][0]["message"]["content"]
    words = text.split()
    if len(words) < 3:
        pytest.skip(f"answer too short to pick a stop word from: {text!r}")
    stop = words[2]
    cut = chat(client, max_tokens=24, temperature=0.0, stop=[stop],
               messages=[{"role": "user", "content": "Write about Kafka"}]).json()
    assert stop not in cut["choices"][0]["message"]["content"]
    assert cut["choices"][0]["finish_reason"] == "stop"


def test_stream_carries_sources_on_the_final_chunk_only(client):
    r = chat(client, stream=True, max_tokens=6, temperature=0.0,
             messages=[{"role": "user", "content": "Quantization with llama.cpp"}])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    with_sources = [i for i, e in enumerate(events) if "sources" in e]
    assert with_sources == [len(events) - 1]  # no include_usage: the finish chunk is the last
    assert events[-1]["sources"][0]["document_id"] == "a-quant"
    assert events[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    assert all("usage" not in e for e in events)
    assert len({e["id"] for e in events}) == 1


@pytest.mark.parametrize(("body", "status", "needle"), [
    ({"messages": []}, 400, "messages"),
    ({"messages": [{"role": "assistant", "content": "only me"}]}, 400, "user message"),
    ({"messages": [{"role": "tool", "content": "x"}]}, 400, "role"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, 400, "type"),
    ({"messages": [{"role": "user", "content": "hi"}], "n": 3}, 400, "n must be 1"),
    ({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}, 400, "tool calling"),
    ({"messages": [{"role": "user", "content": "hi"}], "temperature": 3}, 400, "temperature"),
    ({"messages": [{"role": "user", "content": "hi"}], "stop": ["a", "b", "c", "d", "e"]}, 400, "stop"),
    ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, 400, "max_tokens"),
    ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000}, 400, "context window"),
    ({"messages": [{"role": "user", "content": "hi"}], "platform": "linked in; drop"}, 400, "platform"),
    ({"messages": [{"role": "user", "content": "hi"}], "url": "http://127.0.0.1:8080/admin"}, 400,
     "non-public address"),
    ({"messages": [{"role": "user", "content": "word " * 3000}], "stream": True}, 413, "context"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, 404, "not served here"),
])
def test_bad_requests_are_openai_errors(client, body, status, needle):
    r = chat(client, **body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert needle in error["message"] or needle == error.get("param"), error
    assert error["type"]


def test_invalid_json_is_a_400(client):
    r = client.post("/v1/chat/completions", content=b'{"messages": [', headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]


def test_generate_keeps_its_json_contract(client):
    """/generate takes the one GenerateRequest model as its input: same fields, same answer shape."""
    r = client.post("/generate", json={"instruction": "Write about vector databases", "platform": "",
                                       "max_new_tokens": 3, "temperature": 0.0, "top_p": 0.9, "url": None})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"answer", "context", "model_version", "finish_reason", "prompt_tokens",
                             "completion_tokens", "timings", "trace_id"}
    assert client.post("/generate", json={"instruction": "hi", "unknown": 1}).status_code == 400
    spec = client.get("/docs.json").json()
    schema = spec["paths"]["/generate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert set(schema["properties"]) == {"instruction", "url", "platform", "max_new_tokens", "temperature", "top_p"}


def test_a_body_that_is_not_utf8_gets_openais_error_shape(client):
    """FastAPI's own parse error (found by schema fuzzing) answers as the schema's `ErrorResponse`."""
    r = client.post("/v1/chat/completions", content=b"/|4[\xff\xfeH", headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["message"] and error["type"] == "invalid_request_error"
    admin = client.post("/admin/reload", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert admin.status_code == 400 and isinstance(admin.json()["error"], str), admin.text
