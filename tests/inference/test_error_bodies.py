"""BentoML's error payloads become the `{"error": string, "detail"?: string}` object its schema declares."""

from __future__ import annotations

import json

from llm_twin.inference.error_bodies import ErrorBodyMiddleware, documented_error


def test_a_validation_error_list_becomes_one_sentence_naming_the_fields():
    payload = {"error": "2 validation errors for generate",
               "detail": [{"type": "string_too_short", "loc": ["body", "instruction"], "msg": "too short"},
                          {"type": "less_than_equal", "loc": ["body", "top_p"], "msg": "must be <= 1"}]}
    assert documented_error(payload) == {"error": "2 validation errors for generate",
                                         "detail": "instruction: too short; top_p: must be <= 1"}


def test_a_one_element_array_becomes_the_object_and_a_conformant_body_is_unchanged():
    assert documented_error([{"error": "url: non-public address"}]) == {"error": "url: non-public address"}
    assert documented_error({"error": "x", "detail": "y"}) == {"error": "x", "detail": "y"}
    assert documented_error(["odd"]) == {"error": "request failed", "detail": '["odd"]'}


async def _call(app, path: str) -> tuple[dict, bytes]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    await ErrorBodyMiddleware(app)({"type": "http", "path": path}, receive, send)
    return sent[0], b"".join(m.get("body", b"") for m in sent[1:])


def _app(status: int, body: bytes, content_type: bytes = b"application/json"):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body[:3], "more_body": True})
        await send({"type": "http.response.body", "body": body[3:]})

    return app


def test_the_middleware_rewrites_bentoml_errors_and_leaves_the_rest_alone():
    import asyncio

    raw = json.dumps([{"error": "bad url"}]).encode()
    start, body = asyncio.run(_call(_app(400, raw), "/generate"))
    assert json.loads(body) == {"error": "bad url"}
    assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()

    openai_shape = json.dumps({"error": {"message": "m", "type": "invalid_request_error"}}).encode()
    for path, status, payload, content_type in [("/v1/chat/completions", 400, openai_shape, b"application/json"),
                                                ("/generate", 200, raw, b"application/json"),
                                                ("/generate", 400, b"plain text", b"text/plain")]:
        _, body = asyncio.run(_call(_app(status, payload, content_type), path))
        assert body == payload, path
