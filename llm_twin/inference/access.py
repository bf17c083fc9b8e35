"""Who may call the twin's service: the API key check and the bind rule.

- With an API key set (its value from the environment variable the service names, `LLM_TWIN_API_KEY`
  by default; read per request, so rotating it needs no restart) every endpoint answers 401 without
  `X-API-Key: <key>` or `Authorization: Bearer <key>`, except the health probes, `/metrics`, the
  OpenAPI docs and the web page's HTML. New endpoints are protected without being listed.
- Without a key the service may only listen on a loopback address: `check_bind` refuses to start a
  server that would expose the author's private chunks and every prompt to the network.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import socket
import sys

DEFAULT_KEY_ENV = "LLM_TWIN_API_KEY"
PUBLIC_PATHS = frozenset({"/", "/livez", "/readyz", "/healthz", "/metrics", "/docs.json", "/schema.json",
                          "/favicon.ico"})
PUBLIC_PREFIXES = ("/ui/", "/static_content/", "/assets/")


class UnsafeBind(RuntimeError):
    """Serving on a non-loopback interface without an API key."""


def api_key(env_name: str = DEFAULT_KEY_ENV) -> str | None:
    return os.environ.get(env_name) or None


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path == "/ui" or path.startswith(PUBLIC_PREFIXES)


def presented_key(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The key a request carries, as raw bytes (header values are bytes in ASGI and need not be UTF-8)."""
    bearer = None
    for name, value in headers:
        lname = name.lower()
        if lname == b"x-api-key":
            return value.strip()
        if lname == b"authorization" and value[:7].lower() == b"bearer ":
            bearer = value[7:].strip()
    return bearer


def key_matches(given: bytes | None, key: str) -> bool:
    return given is not None and hmac.compare_digest(given, key.encode("utf-8"))


class ApiKeyMiddleware:
    """Pure ASGI middleware: 401 on every non-public route when an API key is set and not presented.

    The 401 body is OpenAI-shaped on `/v1/*` (so OpenAI clients raise `AuthenticationError` with the
    message) and `{"error": ...}` elsewhere, like the service's other errors.
    """

    def __init__(self, app, env_name: str = DEFAULT_KEY_ENV) -> None:
        self.app = app
        self.env_name = env_name

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not is_public(scope["path"]):
            key = api_key(self.env_name)
            if key and not key_matches(presented_key(scope.get("headers", [])), key):
                message = "missing or invalid API key: send it as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'"
                if scope["path"].startswith("/v1/"):
                    from llm_twin.inference.openai_api import error_body

                    payload = error_body(message, 401)
                else:
                    payload = {"error": message}
                body = json.dumps(payload).encode()
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"application/json"), (b"www-authenticate", b'Bearer realm="llm_twin"'),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def is_loopback(host: str) -> bool:
    """True when `host` (an address or a name) only reaches this machine."""
    host = host.strip("[]")
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def check_bind(host: str, env_name: str = DEFAULT_KEY_ENV) -> None:
    """Refuse a non-loopback bind without an API key, saying how to set one."""
    if is_loopback(str(host)) or api_key(env_name):
        return
    raise UnsafeBind(
        f"refusing to serve the twin on {host} without an API key: every prompt and the author's private "
        f"content would be open to the network. Set one, e.g. `export {env_name}=$(openssl rand -hex 24)`, "
        f"and send it as 'Authorization: Bearer <key>' (or 'X-API-Key'); or serve on 127.0.0.1 (the default)."
    )


def served_socket_host(argv: list[str] | None = None) -> str | None:
    """The address of the listening socket handed to this BentoML worker (`--fd N`), or None elsewhere.

    The worker-side guard: whatever started the server (the CLI, whose `--host` the deployment hook
    checks, or a program calling BentoML directly), the socket itself says where the twin listens."""
    argv = sys.argv if argv is None else argv
    try:
        fd = int(argv[argv.index("--fd") + 1])
    except (ValueError, IndexError):
        return None
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:  # a duplicate: closing it leaves the server's socket open
            name = sock.getsockname()
    except OSError:
        return None
    return str(name[0]) if isinstance(name, tuple) else None  # a unix socket has a path, not a host
