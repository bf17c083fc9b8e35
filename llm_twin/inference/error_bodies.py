"""Error bodies of the service's BentoML endpoints in the shape its OpenAPI schema declares.

BentoML documents every error of `/generate`, `/retrieve`, `/traces` and `/info` as
`{"error": string, "detail": string}`, but sends a validation failure's `detail` as a list of pydantic
errors and a 4xx `BentoMLException` as a one-element JSON array. Clients generated from the schema (and
schemathesis' `response_schema_conformance`) reject both. This middleware rewrites those bodies into the
declared object, with `detail` one sentence naming each invalid field. The mounted apps (`/v1` keeps
OpenAI's error shape, `/admin`, `/ui`) have their own schemas and pass through untouched.
"""

from __future__ import annotations

import json
from typing import Any

from llm_twin.inference.openai_api import validation_message

OWN_SCHEMA_PREFIXES = ("/v1/", "/admin/", "/ui")
MAX_ERROR_BODY = 1 << 20  # an error body larger than this is passed through as it is


def documented_error(payload: Any) -> dict[str, str]:
    """A BentoML error payload as the declared `{"error": string, "detail"?: string}` object."""
    if isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], dict):
        payload = payload[0]
    if not isinstance(payload, dict):
        return {"error": "request failed", "detail": json.dumps(payload)[:2000]}
    body = {"error": str(payload.get("error") or "request failed")}
    detail = payload.get("detail")
    if isinstance(detail, list):
        body["detail"] = validation_message([d for d in detail if isinstance(d, dict)])[0]
    elif detail is not None:
        body["detail"] = detail if isinstance(detail, str) else json.dumps(detail)
    return body


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.split(b";")[0].strip() == b"application/json" for k, v in headers)


class ErrorBodyMiddleware:
    """Pure ASGI middleware: buffers a JSON error response of a BentoML endpoint and sends it conformant."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(OWN_SCHEMA_PREFIXES):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def rewriting_send(message: dict[str, Any]) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] >= 400 and _is_json(message.get("headers", [])):
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False) and sum(map(len, chunks)) <= MAX_ERROR_BODY:
                    return
                await _send_conformant(send, start, b"".join(chunks), message.get("more_body", False))
                start = None
                return
            await send(message)

        await self.app(scope, receive, rewriting_send)


async def _send_conformant(send: Any, start: dict[str, Any], raw: bytes, more_body: bool) -> None:
    body = raw
    if not more_body:
        try:
            body = json.dumps(documented_error(json.loads(raw))).encode()
        except ValueError:
            body = raw
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    if not more_body:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": more_body})
