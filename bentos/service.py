"""BentoML 1.4 service of the LLM twin.

Endpoints: `POST /generate`, `POST /retrieve`, `POST /traces`, `POST /info`, the OpenAI-compatible
`POST /v1/chat/completions` (streamed as server-sent events with `stream: true`) and `GET /v1/models`,
`POST /admin/reload` (swap the served model without downtime), a web page at `/ui/`, OpenAPI docs at `/`
(`/docs.json`), Prometheus `/metrics`, `/livez` `/readyz` `/healthz`.

What it serves comes from its BentoML arguments (llm_twin.inference.service_args): the models
`llm_twin_gguf` (the quantized GGUF, its measurement report, `runtime.json`, the Ollama Modelfile) and
`llm_twin_index` (a snapshot of the local Qdrant index; empty when the runtime points at a Qdrant server),
pinned by `pipeline=deploy`; or, in development and in-process tests, `bundle_dir`, a folder with the same
layout. The models are declared at class level, so `bentoml build` packages them.

Private by default (llm_twin.inference.access): it binds 127.0.0.1 unless `--host` says otherwise, and a
non-loopback bind without an API key refuses to start. With a key (env `LLM_TWIN_API_KEY`, read per
request) every endpoint but the probes, metrics, docs and the page's HTML needs `X-API-Key: <key>` or
`Authorization: Bearer <key>`.
"""

from __future__ import annotations

import json
import logging
import weakref
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, cast

import bentoml
from bentoml.exceptions import BentoMLException
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from llm_twin.inference.access import ApiKeyMiddleware, UnsafeBind, check_bind, served_socket_host
from llm_twin.inference.api import (
    GenerateRequest,
    GenerateResponse,
    InfoResponse,
    ReloadRequest,
    RetrieveResponse,
)
from llm_twin.inference.error_bodies import ErrorBodyMiddleware
from llm_twin.inference.holder import SwapReport
from llm_twin.inference.openai_api import (
    MODEL_ID,
    SSE_DONE,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    ErrorResponse,
    ModelCard,
    ModelList,
    Usage,
    completion_id,
    error_body,
    finish_reason,
    now,
    validation_message,
)
from llm_twin.inference.service_args import ServiceArgs

log = logging.getLogger("llm_twin.service")

STATIC = Path(__file__).with_name("static")
ARGS = bentoml.use_arguments(ServiceArgs)
STARTED = now()


def _ui_app():
    from starlette.applications import Starlette
    from starlette.responses import FileResponse
    from starlette.routing import Route

    async def index(request):
        return FileResponse(STATIC / "index.html", media_type="text/html")

    return Starlette(routes=[Route("/", index)])


def _openai_error(message: str, status: int, param: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, status, param), status_code=status)


openai_app = FastAPI(title="LLM Twin: OpenAI-compatible chat API", docs_url=None, redoc_url=None, openapi_url=None)
admin_app = FastAPI(title="LLM Twin: admin", docs_url=None, redoc_url=None, openapi_url=None)


@openai_app.exception_handler(RequestValidationError)
async def _openai_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    message, param = validation_message(list(exc.errors()))
    return _openai_error(message, 400, param)


@openai_app.exception_handler(StarletteHTTPException)
async def _openai_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """FastAPI's own errors (a body that is not UTF-8, a wrong method) in OpenAI's shape, as declared."""
    return JSONResponse(error_body(str(exc.detail), exc.status_code), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


@admin_app.exception_handler(StarletteHTTPException)
async def _admin_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


@admin_app.exception_handler(RequestValidationError)
async def _admin_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    message, _ = validation_message(list(exc.errors()))
    return JSONResponse({"error": message}, status_code=400)


def _error(exc: Exception) -> BentoMLException:
    from llm_twin.inference.engine import RequestError

    if isinstance(exc, RequestError):
        return BentoMLException(str(exc), error_code=HTTPStatus(exc.status))
    log.exception("request failed")
    return BentoMLException("internal error", error_code=HTTPStatus.INTERNAL_SERVER_ERROR)


def _models():
    if ARGS.bundle_dir:
        return None, None
    return bentoml.models.BentoModel(ARGS.gguf_model), bentoml.models.BentoModel(ARGS.index_model)


_GGUF, _INDEX = _models()


def _model_path(model) -> Path:
    """Inside a service instance a declared BentoModel reads as the stored model (`.path`)."""
    path = getattr(model, "path", None)
    return Path(path) if path else Path(model.resolve())


@bentoml.asgi_app(openai_app, path="/v1", name="openai")
@bentoml.asgi_app(admin_app, path="/admin", name="admin")
@bentoml.asgi_app(_ui_app(), path="/ui", name="ui")
@bentoml.service(
    name="llm_twin",
    http={"host": "127.0.0.1"},  # private by default: `bentoml serve ... --host 0.0.0.0` needs an API key
    traffic={"timeout": 180, "concurrency": 8},
    workers=1,
    envs=[{"name": "BENTOML_DO_NOT_TRACK", "value": "true"}],
)
class TwinService:
    gguf = _GGUF
    index = _INDEX

    def __init__(self) -> None:
        from llm_twin.connections import Connections
        from llm_twin.inference.engine import TwinEngine
        from llm_twin.inference.holder import EngineHolder
        from llm_twin.inference.runtime import RuntimeConfig
        from llm_twin.monitoring.traces import build_tracer

        host = served_socket_host()
        if host is not None:  # a second guard, in the worker, for servers not started by the CLI
            check_bind(host, ARGS.api_key_env)
        if ARGS.bundle_dir:
            model_dir, index_dir = Path(ARGS.bundle_dir) / "model", Path(ARGS.bundle_dir) / "index"
        else:
            model_dir, index_dir = _model_path(self.gguf), _model_path(self.index)
        runtime = RuntimeConfig.read(model_dir)
        # One tracer for the service's lifetime: traces survive model swaps.
        self.tracer = build_tracer(runtime.monitoring, Connections.of(runtime.infra))
        self.holder = EngineHolder(TwinEngine(model_dir, index_dir, runtime=runtime, tracer=self.tracer))
        log.info("twin %s ready (%s)", self.holder.model_version, model_dir)

    @bentoml.on_deployment
    def refuse_public_bind_without_key() -> None:
        """Runs once in `bentoml serve`'s main process, before any worker: the bind rule."""
        import click
        from bentoml._internal.configuration.containers import BentoMLContainer

        ctx = click.get_current_context(silent=True)
        host = (ctx.params.get("host") if ctx is not None else None) or BentoMLContainer.http.host.get()
        try:
            check_bind(str(host), ARGS.api_key_env)
        except UnsafeBind as exc:  # the CLI prints a BentoMLException as one line and exits non-zero
            raise BentoMLException(str(exc)) from None

    @bentoml.on_shutdown
    def shutdown(self) -> None:
        self.holder.close()
        self.tracer.close()

    def __is_ready__(self) -> bool:
        return self.holder.engine.ready()

    # -- the twin's own API ----------------------------------------------------------------------------
    @bentoml.api(route="/generate", input_spec=GenerateRequest)
    def generate(self, **fields: Any) -> GenerateResponse:
        """Write in the author's voice, grounded in their retrieved content (and `url`, when given)."""
        request = GenerateRequest(**fields)
        try:
            with self.holder.lease() as engine:
                return engine.generate(request)
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
            with self.holder.lease() as engine:
                return engine.retrieve(query, platform or None, k)
        except Exception as exc:
            raise _error(exc) from exc

    @bentoml.api(route="/traces")
    def traces(self, limit: Annotated[int, Field(ge=1, le=200)] = 20) -> list[dict]:
        """The most recent prompt traces (newest first)."""
        try:
            return [t.model_dump(mode="json") for t in self.tracer.recent(limit)]
        except Exception as exc:
            raise _error(exc) from exc

    @bentoml.api(route="/info")
    def info(self) -> InfoResponse:
        """The model version being served and the measurement report of its quantization."""
        engine = self.holder.engine
        return InfoResponse(model_version=engine.model_version, report=json.loads(engine.report),
                            swaps=self.holder.swaps)

    # -- OpenAI-compatible chat API (/v1) --------------------------------------------------------------
    @openai_app.get("/models", response_model=ModelList)
    def list_models(self) -> ModelList:
        """The served twin, as OpenAI's model list (`model_version` is an extension)."""
        version = self.holder.model_version
        return ModelList(data=[ModelCard(id=MODEL_ID, created=STARTED, model_version=version)])

    @openai_app.post("/chat/completions", response_model=ChatCompletion,
                     responses={400: {"model": ErrorResponse}, 401: {"model": ErrorResponse},
                                404: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
                                422: {"model": ErrorResponse}})
    def chat_completions(self, request: ChatCompletionRequest):
        """OpenAI chat completions: retrieval on the last user message, `sources` on the answer (and on
        the final chunk when `stream` is true: server-sent events ending with `data: [DONE]`)."""
        from llm_twin.inference.engine import RequestError, TwinQuery

        hold = self.holder.acquire()
        engine = hold.engine
        if request.model not in (MODEL_ID, engine.model_version, f"{MODEL_ID}:{engine.model_version}"):
            hold.release()
            return _openai_error(f"model {request.model!r} is not served here; use {MODEL_ID!r} "
                                 f"(version {engine.model_version})", 404, "model")
        try:
            query = TwinQuery.of_chat(request)
            if not request.stream:
                try:
                    answer = engine.answer(query)
                finally:
                    hold.release()
                usage = Usage(prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens,
                              total_tokens=answer.prompt_tokens + answer.completion_tokens)
                return ChatCompletion(
                    id=completion_id(), created=now(), model=request.model, usage=usage, sources=answer.sources,
                    choices=[Choice(message=AssistantMessage(content=answer.text),
                                    finish_reason=finish_reason(answer.finish_reason))],
                    trace_id=answer.trace_id, model_version=answer.model_version,
                )
            stream = engine.answer_stream(query)
        except RequestError as exc:
            hold.release()
            return _openai_error(str(exc), exc.status, exc.param)
        except Exception:
            hold.release()
            log.exception("chat completion failed")
            return _openai_error("internal error: see the service log", 500)
        body = _sse(stream, request, hold.release)
        weakref.finalize(body, hold.release)  # a stream nobody reads still gives its engine back
        return StreamingResponse(body, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # -- admin -----------------------------------------------------------------------------------------
    @admin_app.post("/reload", response_model=SwapReport,
                    responses={400: {"description": "bad request"}, 404: {"description": "model not found"},
                               409: {"description": "a reload is in progress"},
                               422: {"description": "the model could not be loaded; the old one still serves"}})
    def reload(self, request: ReloadRequest):
        """Serve another model without downtime: load it beside the current one, then switch; requests
        in flight finish on the old model. A failed load keeps the old model serving."""
        from llm_twin.inference.bundle import served_dirs
        from llm_twin.inference.engine import TwinEngine
        from llm_twin.inference.holder import ReloadFailed

        serving = self.holder.model_version
        try:
            model_dir, index_dir = served_dirs(request.bundle_dir, request.gguf_model, request.index_model)
        except (FileNotFoundError, ValueError) as exc:
            return JSONResponse({"error": str(exc), "serving": serving}, status_code=404)
        index_dir = index_dir or self.holder.engine.index_dir
        try:
            return self.holder.reload(lambda: TwinEngine(model_dir, index_dir, tracer=self.tracer))
        except ReloadFailed as exc:
            busy = "in progress" in str(exc)
            return JSONResponse({"error": f"reload failed, still serving {exc.serving}: {exc}", "serving": exc.serving},
                                status_code=409 if busy else 422)


def _sse(stream, request: ChatCompletionRequest, release):
    """The answer as `chat.completion.chunk` server-sent events: role, content deltas, then the finish
    chunk with `sources` (and a usage chunk when `stream_options.include_usage`), then `[DONE]`."""
    cid, created = completion_id(), now()

    def chunk(**fields: Any) -> str:
        return ChatCompletionChunk(id=cid, created=created, model=request.model, **fields).sse()

    try:
        yield chunk(choices=[ChunkChoice(delta=Delta(role="assistant", content=""))])
        try:
            for delta in stream:
                yield chunk(choices=[ChunkChoice(delta=Delta(content=delta))])
        except Exception:
            log.exception("streamed chat completion failed")
            yield f"data: {json.dumps(error_body('generation failed: see the service log', 500))}\n\n"
            yield SSE_DONE
            return
        answer = stream.answer
        yield chunk(choices=[ChunkChoice(delta=Delta(), finish_reason=finish_reason(answer.finish_reason))],
                    sources=answer.sources, trace_id=answer.trace_id, model_version=answer.model_version)
        if request.stream_options and request.stream_options.include_usage:
            yield chunk(choices=[], usage=Usage(prompt_tokens=answer.prompt_tokens,
                                                completion_tokens=answer.completion_tokens,
                                                total_tokens=answer.prompt_tokens + answer.completion_tokens))
        yield SSE_DONE
    finally:
        stream.close()
        release()


# The decorators' stubs hand back the class; the object really is a bentoml.Service.
_SERVICE = cast("bentoml.Service[TwinService]", TwinService)
_SERVICE.add_asgi_middleware(ApiKeyMiddleware, env_name=ARGS.api_key_env)
_SERVICE.add_asgi_middleware(ErrorBodyMiddleware)  # error bodies as the OpenAPI schema declares them
