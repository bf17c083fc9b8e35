"""The OpenAI-compatible clients (retrieval's self-query/expansion, training's `llm` instruction generator)
against a real local HTTP server speaking `POST /v1/chat/completions` with canned answers: the request
they send, the parsing of the answers, timeouts, bounded retries on 429/5xx and the fallback to rules."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from llm_twin.config import LLMEndpointConfig, RetrievalConfig
from llm_twin.connections import llm_client
from llm_twin.llm_client import LLMError
from llm_twin.rag.expansion import expand_query
from llm_twin.rag.models import RetrievalRequest
from llm_twin.rag.self_query import self_query
from tests.configs import configured
from tests.inference.conftest import AUTHOR, OTHER, retrieval_config

KEY_ENV = "LLM_TWIN_TEST_LLM_KEY"


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant message; None = the server's default for the prompt
    delay_s: float = 0.0


@dataclass
class FakeOpenAI:
    """A real HTTP server in a thread; `script` answers requests in order, then `default(body)` does."""

    default: Callable[[dict[str, Any]], str] = lambda body: "ok"
    script: deque = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw or b"{}")
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                      "at": time.monotonic()})
                reply = fake.script.popleft() if fake.script else Reply()
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if self.path != "/v1/chat/completions":
                    reply = Reply(status=404, content="no such route")
                if reply.status == 200:
                    content = reply.content if reply.content is not None else fake.default(body)
                    payload = {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                               "model": body.get("model"),
                               "choices": [{"index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": content}}],
                               "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
                else:
                    payload = {"error": {"message": reply.content or "scripted failure", "code": reply.status}}
                data = json.dumps(payload).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _canned(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if "Extract search filters" in system:
        return 'Sure! Here are the filters:\n```json\n{"author": "john roe", "platform": "Medium", "is_code": true}\n```'
    if "rephrasings" in system:
        return "1. vector stores for embeddings\n- similarity search engines\n\n"
    return "unexpected prompt"


@pytest.fixture()
def llm_server():
    server = FakeOpenAI(default=_canned).start()
    yield server
    server.stop()


def chat(endpoint: LLMEndpointConfig, system: str, user: str) -> str:
    return llm_client(endpoint).chat([{"role": "system", "content": system}, {"role": "user", "content": user}])


def _settings(server: FakeOpenAI, **llm: Any) -> RetrievalConfig:
    endpoint = {"base_url": server.base_url, "model": "twin-test-model", "api_key": f"env:{KEY_ENV}|",
                "timeout_s": 2.0, "retries": 2, "backoff_s": 0.05, **llm}
    return retrieval_config(self_query="llm", expansion="llm", expand_to_n=3, llm=endpoint)


def test_self_query_sends_an_openai_request_and_parses_the_filters(llm_server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-123")
    request = RetrievalRequest(query="what did they write about vector databases and qdrant")
    meta = self_query(request, _settings(llm_server), known_authors=[AUTHOR, OTHER])

    assert (meta.author, meta.platform, meta.is_code) == (OTHER, "medium", True)  # canonical known name
    assert meta.data_types[0] == "code"
    [sent] = llm_server.requests
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test-123"
    assert sent["headers"]["Content-Type"] == "application/json"
    body = sent["body"]
    assert body["model"] == "twin-test-model" and body["temperature"] == 0.0 and body["max_tokens"] > 0
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"] == request.query
    assert f"Known authors: {AUTHOR}, {OTHER}" in body["messages"][0]["content"]

    # Explicit request fields win over what the LLM extracted.
    meta = self_query(RetrievalRequest(query=request.query, author=AUTHOR, platform="LinkedIn"),
                      _settings(llm_server), known_authors=[AUTHOR, OTHER])
    assert (meta.author, meta.platform) == (AUTHOR, "linkedin")


def test_an_unknown_author_from_the_llm_is_dropped(llm_server):
    llm_server.script.append(Reply(content='{"author": "Nobody Known", "platform": null, "is_code": false}'))
    meta = self_query(RetrievalRequest(query="vector databases"), _settings(llm_server), known_authors=[AUTHOR, OTHER])
    assert meta.author == AUTHOR  # the default twin, not a name that would filter everything out
    assert "Authorization" not in llm_server.requests[0]["headers"]  # no key in the environment: no header


def test_query_expansion_parses_the_rephrasings(llm_server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-123")
    query = "write a post about vector databases"
    queries = expand_query(query, _settings(llm_server))
    assert queries == [query, "vector stores for embeddings", "similarity search engines"]
    [sent] = llm_server.requests
    assert "Write 2 different rephrasings" in sent["body"]["messages"][0]["content"]
    assert sent["body"]["messages"][1]["content"] == query


def test_transient_errors_are_retried_with_backoff(llm_server):
    llm_server.script.extend([Reply(status=500), Reply(status=429), Reply(content="third time lucky")])
    endpoint = _settings(llm_server, retries=2, backoff_s=0.1).llm
    assert chat(endpoint, "system", "user") == "third time lucky"
    times = [r["at"] for r in llm_server.requests]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.09 and times[2] - times[1] >= 0.19  # 0.1 s, then doubled


def test_retries_are_bounded_then_rules_take_over(llm_server):
    llm_server.default = lambda body: "never used"
    llm_server.script.extend([Reply(status=503)] * 10)
    settings = _settings(llm_server, retries=1)
    with pytest.raises(LLMError, match="after 2 attempts"):
        chat(settings.llm, "system", "user")
    assert len(llm_server.requests) == 2

    request = RetrievalRequest(query="what did John Roe write on linkedin about kafka")
    rules = retrieval_config(expand_to_n=3)
    assert self_query(request, settings, [AUTHOR, OTHER]) == self_query(request, rules, [AUTHOR, OTHER])
    assert expand_query(request.query, settings) == expand_query(request.query, rules)
    assert len(llm_server.requests) == 6  # 2 more per feature, no more


def test_client_errors_are_not_retried(llm_server):
    llm_server.script.append(Reply(status=401, content="bad key"))
    with pytest.raises(LLMError, match="HTTP 401"):
        chat(_settings(llm_server).llm, "system", "user")
    assert len(llm_server.requests) == 1


def test_a_slow_endpoint_times_out_and_falls_back(llm_server):
    llm_server.script.append(Reply(delay_s=3.0))
    settings = _settings(llm_server, timeout_s=0.3, retries=0)
    start = time.monotonic()
    queries = expand_query("vector databases for semantic search", settings)
    assert time.monotonic() - start < 2.0
    assert queries == expand_query("vector databases for semantic search",
                                   retrieval_config(expand_to_n=3))  # the rule-based expansion
    assert len(llm_server.requests) == 1


def test_retriever_uses_the_llm_filters_and_queries(llm_server, sample_index, embedder, tmp_path):
    from qdrant_client import QdrantClient

    from llm_twin.rag.retriever import ContextRetriever

    llm_server.script.append(Reply(content='{"author": "John Roe", "platform": null, "is_code": false}'))
    path = tmp_path / "q"
    shutil.copytree(sample_index, path)
    client = QdrantClient(path=str(path))
    try:
        retriever = ContextRetriever(client, _settings(llm_server), embedder, known_authors=[AUTHOR, OTHER])
        result = retriever.retrieve(RetrievalRequest(query="the vector databases article of the other author", k=3))
    finally:
        client.close()
    assert result.meta.author == OTHER
    assert result.queries[1:] == ["vector stores for embeddings", "similarity search engines"]
    assert [c.document_id for c in result.chunks] == ["o-vector"]
    assert len(llm_server.requests) == 2


def test_training_instruction_generator_uses_the_same_protocol(llm_server, monkeypatch):
    from llm_twin.training.instructions import make_generator

    monkeypatch.setenv(KEY_ENV, "sk-train-456")
    llm_server.script.extend([Reply(status=502), Reply(content='"Write a LinkedIn post about Kafka CDC."\nextra')])
    cfg = configured("dataset", generator={"kind": "llm", "llm": {
        "base_url": llm_server.base_url, "model": "gen-model", "api_key": f"env:{KEY_ENV}", "timeout_s": 2.0,
        "retries": 1, "backoff_s": 0.05}}).generator
    generator = make_generator(cfg)
    instruction = generator.instruction("Streaming pipelines with Kafka...", data_type="posts", platform="linkedin",
                                        title="")
    assert instruction == "Write a LinkedIn post about Kafka CDC."
    assert len(llm_server.requests) == 2  # one 502, retried once
    sent = llm_server.requests[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["headers"]["Authorization"] == "Bearer sk-train-456"
    assert sent["body"]["model"] == "gen-model" and sent["body"]["messages"][0]["role"] == "system"
    assert "Platform: linkedin" in sent["body"]["messages"][1]["content"]

    llm_server.script.append(Reply(status=400, content="bad request"))
    with pytest.raises(LLMError, match="rejected"):
        llm_client(cfg.llm).chat([{"role": "user", "content": "x"}])
    assert len(llm_server.requests) == 3  # a 4xx is not retried
