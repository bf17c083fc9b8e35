"""BentoML 1.4 service of the LLM twin: `POST /generate`, `POST /retrieve`, `POST /traces`, a web page
at `/ui`, OpenAPI docs at `/` (`/docs.json`), Prometheus `/metrics`, `/livez` `/readyz` `/healthz`.

The models are declared at class level, so `bentoml build` packages them: `llm_twin_gguf` (the quantized
GGUF, its measurement report and `runtime.json`) and `llm_twin_index` (a snapshot of the local Qdrant
index; empty when the runtime points at a Qdrant server). For development and in-process tests,
`LLM_TWIN_BUNDLE_DIR` serves a folder with the same layout instead of the model store.

The API key is optional: when the env variable LLM_TWIN_API_KEY is set (read per request),
`/generate`, `/retrieve` and `/traces` answer 401 without `X-API-Key: <key>` or `Authorization: Bearer <key>`.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from http import HTTPStatus
from pathlib import Path
from typing import Annotated

import bentoml
from bentoml.exceptions import BentoMLException
from pydantic import Field, HttpUrl

from llm_twin.inference.api import GenerateRequest, GenerateResponse, RetrieveResponse

log = logging.getLogger("llm_twin.service")

STATIC = Path(__file__).with_name("static")
BUNDLE_DIR = os.environ.get("LLM_TWIN_BUNDLE_DIR")  # dev/tests: <dir>/model and <dir>/index
API_KEY_ENV = os.environ.get("LLM_TWIN_API_KEY_ENV", "LLM_TWIN_API_KEY")
PROTECTED = ("/generate", "/retrieve", "/traces")


class ApiKeyMiddleware:
    """Pure ASGI middleware: 401 on protected routes when an API key is configured and not presented."""

    def __init__(self, app, env_name: str = API_KEY_ENV) -> None:
        self.app = app
        self.env_name = env_name

    async def __call__(self, scope, receive, send):
        key = os.environ.get(self.env_name) or None  # read per request: rotating the key needs no restart
        if key and scope["type"] == "http" and scope["path"].rstrip("/") in PROTECTED:
            headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
            given = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not given or not hmac.compare_digest(given.encode(), key.encode()):
                body = json.dumps({"error": "missing or invalid API key (X-API-Key header)"}).encode()
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"application/json"), (b"www-authenticate", b"ApiKey")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _ui_app():
    from starlette.applications import Starlette
    from starlette.responses import FileResponse
    from starlette.routing import Route

    async def index(request):
        return FileResponse(STATIC / "index.html", media_type="text/html")

    return Starlette(routes=[Route("/", index)])


def _error(exc: Exception) -> BentoMLException:
    from llm_twin.inference.engine import RequestError

    if isinstance(exc, RequestError):
        return BentoMLException(str(exc), error_code=HTTPStatus(exc.status))
    log.exception("request failed")
    return BentoMLException("internal error", error_code=HTTPStatus.INTERNAL_SERVER_ERROR)


def _models():
    if BUNDLE_DIR:
        return None, None
    return (bentoml.models.BentoModel(os.environ.get("LLM_TWIN_GGUF_MODEL", "llm_twin_gguf:latest")),
            bentoml.models.BentoModel(os.environ.get("LLM_TWIN_INDEX_MODEL", "llm_twin_index:latest")))


_GGUF, _INDEX = _models()


def _model_path(model) -> Path:
    """Inside a service instance a declared BentoModel reads as the stored model (`.path`)."""
    path = getattr(model, "path", None)
    return Path(path) if path else Path(model.resolve())


@bentoml.asgi_app(_ui_app(), path="/ui", name="ui")
@bentoml.service(
    name="llm_twin",
    traffic={"timeout": 180, "concurrency": 8},
    workers=1,
    envs=[{"name": "BENTOML_DO_NOT_TRACK", "value": "true"}],
)
class TwinService:
    gguf = _GGUF
    index = _INDEX

    def __init__(self) -> None:
        from llm_twin.inference.engine import TwinEngine

        if BUNDLE_DIR:
            model_dir, index_dir = Path(BUNDLE_DIR) / "model", Path(BUNDLE_DIR) / "index"
        else:
            model_dir, index_dir = _model_path(self.gguf), _model_path(self.index)
        self.engine = TwinEngine(model_dir, index_dir)
        log.info("twin %s ready (%s)", self.engine.model_version, model_dir)

    def __is_ready__(self) -> bool:
        return self.engine.ready()

    @bentoml.api(route="/generate")
    def generate(
        self,
        instruction: Annotated[str, Field(min_length=1, max_length=4000, description="what the twin should write")],
        url: Annotated[HttpUrl | None, Field(description="a public page to ground the answer in")] = None,
        platform: Annotated[str | None, Field(max_length=50, pattern=r"^[A-Za-z0-9_.-]*$")] = None,
        max_new_tokens: Annotated[int, Field(ge=1, le=1024)] = 256,
        temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7,
        top_p: Annotated[float, Field(ge=0.01, le=1.0)] = 0.9,
    ) -> GenerateResponse:
        """Write in the author's voice, grounded in their retrieved content (and `url`, when given)."""
        request = GenerateRequest(instruction=instruction, url=url, platform=platform or None,
                                  max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p)
        try:
            return self.engine.generate(request)
        except Exception as exc:
            raise _error(exc) from exc

    @bentoml.api(route="/retrieve")
    def retrieve(
        self,
        query: Annotated[str, Field(min_length=1, max_length=4000)],
        platform: Annotated[str | None, Field(max_length=50, pattern=r"^[A-Za-z0-9_.-]*$")] = None,
        k: Annotated[int | None, Field(ge=1, le=50)] = None,
    ) -> RetrieveResponse:
        """The author's chunks the twin would use as context for `query`, with links and scores."""
        try:
            return self.engine.retrieve(query, platform or None, k)
        except Exception as exc:
            raise _error(exc) from exc

    @bentoml.api(route="/traces")
    def traces(self, limit: Annotated[int, Field(ge=1, le=200)] = 20) -> list[dict]:
        """The most recent prompt traces (newest first)."""
        try:
            return [t.model_dump(mode="json") for t in self.engine.tracer.recent(limit)]
        except Exception as exc:
            raise _error(exc) from exc

    @bentoml.api(route="/info")
    def info(self) -> dict:
        """Model version and the measurement report of the served quantization."""
        return {"model_version": self.engine.model_version, "report": json.loads(self.engine.report)}


TwinService.add_asgi_middleware(ApiKeyMiddleware)
