"""Access rules of the service in-process: with a key every non-public endpoint needs it (the admin one
too, on loopback); header values that are not UTF-8 get a 401/200, never a 500; the bind rule."""

from __future__ import annotations

import pytest

from llm_twin.inference.access import check_bind, is_loopback, is_public, presented_key
from tests.inference.conftest import api_key_env

KEY = "s3cret-key"


@pytest.fixture(scope="module")
def client(service_client):
    with api_key_env(KEY):
        yield service_client


PROTECTED = [
    ("post", "/generate", {"instruction": "hi", "max_new_tokens": 1}),
    ("post", "/retrieve", {"query": "kafka"}),
    ("post", "/traces", {"limit": 1}),
    ("post", "/info", {}),
    ("get", "/v1/models", None),
    ("post", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}),
    ("post", "/admin/reload", {"bundle_dir": "/nonexistent"}),
]


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
def test_every_data_endpoint_needs_the_key(client, method, path, body):
    assert client.request(method, path, json=body).status_code == 401
    assert client.request(method, path, json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    ok = client.request(method, path, json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == (404 if path == "/admin/reload" else 200), ok.text


def test_openai_paths_get_an_openai_shaped_401(client):
    body = client.get("/v1/models").json()
    assert body["error"]["type"] == "authentication_error" and "API key" in body["error"]["message"]


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/healthz", "/docs.json", "/", "/ui/"])
def test_probes_docs_and_page_stay_open(client, path):
    assert client.get(path).status_code == 200


async def asgi_status(app, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"{}") -> int:
    """Call an ASGI app with raw header bytes (HTTP clients re-encode headers; a raw scope does not)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), *headers],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 3000)}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


@pytest.mark.parametrize("raw", [b"\xff\xfe\xfd", b"caf\xe9", b"Bearer \xc3\x28", b"\x80" * 64])
def test_non_utf8_header_values_are_a_401_not_a_500(raw):
    import asyncio

    from llm_twin.inference.access import ApiKeyMiddleware

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = ApiKeyMiddleware(inner)
    mp = pytest.MonkeyPatch()
    mp.setenv("LLM_TWIN_API_KEY", KEY)
    try:
        for name in (b"x-api-key", b"authorization", b"x-anything"):
            assert asyncio.run(asgi_status(app, "/retrieve", [(name, raw)])) == 401, (name, raw)
        assert asyncio.run(asgi_status(app, "/retrieve", [(b"x-note", raw), (b"x-api-key", KEY.encode())])) == 200
    finally:
        mp.undo()


def test_key_bytes_are_compared_exactly():
    assert presented_key([(b"x-api-key", b" k1 ")]) == b"k1"
    assert presented_key([(b"authorization", b"Bearer k2")]) == b"k2"
    assert presented_key([(b"authorization", b"Basic k3")]) is None
    assert presented_key([(b"authorization", b"Bearer a"), (b"x-api-key", b"b")]) == b"b"


def test_public_paths():
    assert is_public("/livez") and is_public("/ui/") and is_public("/ui")
    assert not is_public("/info") and not is_public("/v1/models") and not is_public("/admin/reload")
    assert not is_public("/uiadmin")


def test_bind_rule(monkeypatch):
    monkeypatch.delenv("LLM_TWIN_API_KEY", raising=False)
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert is_loopback(host)
        check_bind(host)
    for host in ("0.0.0.0", "::", "192.168.1.10"):
        assert not is_loopback(host)
        with pytest.raises(RuntimeError, match="export LLM_TWIN_API_KEY="):
            check_bind(host)
    monkeypatch.setenv("LLM_TWIN_API_KEY", KEY)
    check_bind("0.0.0.0")
    monkeypatch.setenv("OTHER_KEY", KEY)
    with pytest.raises(RuntimeError, match="export TWIN_KEY="):
        check_bind("0.0.0.0", "TWIN_KEY")


def test_worker_reads_where_its_socket_listens():
    import socket

    from llm_twin.inference.access import served_socket_host

    assert served_socket_host(["worker"]) is None
    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket() as sock:
            sock.bind((host, 0))
            sock.listen()
            assert served_socket_host(["-m", "worker", "--fd", str(sock.fileno())]) == host
            sock.getsockname()  # the server's socket is still open
    assert served_socket_host(["--fd", "99999"]) is None


def test_service_arguments_are_validated():
    from llm_twin.inference.service_args import ServiceArgs

    assert ServiceArgs().gguf_model == "llm_twin_gguf:latest" and ServiceArgs(bundle_dir="").bundle_dir is None
    with pytest.raises(ValueError, match="absolute path"):
        ServiceArgs(bundle_dir="relative/bundle")
    with pytest.raises(ValueError, match="environment variable name"):
        ServiceArgs(api_key_env="not a name")
    with pytest.raises(ValueError, match="Extra inputs"):
        ServiceArgs(api_key="s3cret")  # secrets are not arguments
