"""Local servers for the fetcher tests: plain HTTP servers in threads, bound to chosen loopback addresses.

127.0.0.2 stands for "a public address" (tests allow it with `allowed_networks=["127.0.0.2/32"]`), while
127.0.0.1 stands for an internal service that must never be reached; both can listen on the same port,
which is what a DNS-rebinding attack needs. `dns` replaces the system resolver (socket.getaddrinfo) for
names under `.test`, so the fetcher — and anything else in the process that would resolve a name
again — sees the stubbed answers.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

Route = Callable[[BaseHTTPRequestHandler], None]
PUBLIC = "127.0.0.2"  # allowed in these tests, standing for a public address
INTERNAL = "127.0.0.1"  # an internal service: never to be reached


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # the fetcher hangs up on refused responses
        pass


class Server:
    """One HTTP(S) server in a thread; `routes[path](handler)` answers, `hits[path]` counts requests."""

    def __init__(self, host: str, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = defaultdict(int)
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                server.hits[path] += 1
                server.headers.append(dict(self.headers.items()))
                route = server.routes.get(path)
                if route is None:
                    send(self, 404, b"not found")
                else:
                    route(self)

        self.httpd = QuietServer((host, port), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.host, self.port = host, self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    def url(self, path: str, host: str | None = None, scheme: str = "http") -> str:
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8",
         headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body:
        handler.wfile.write(body)


def redirect(location: str, status: int = 302) -> Route:
    return lambda h: send(h, status, b"", headers={"Location": location})


def page(body: bytes, ctype: str = "text/html; charset=utf-8") -> Route:
    return lambda h: send(h, 200, body, ctype)


@pytest.fixture()
def servers() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(host: str = PUBLIC, port: int = 0, tls: ssl.SSLContext | None = None) -> Server:
        server = Server(host, port, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture()
def twin_servers(servers) -> tuple[Server, Server]:
    """A "public" server on 127.0.0.2 and an internal one on 127.0.0.1, on the same port."""
    for _ in range(20):
        public = servers(PUBLIC)
        try:
            internal = servers(INTERNAL, public.port)
        except OSError:
            continue
        internal.routes["/"] = internal.routes["/secret"] = page(b"<p>internal secret</p>")
        return public, internal
    pytest.skip("no port free on both loopback addresses")


class StubDns:
    """Answers for `*.test` names: a list of answers per name, one per lookup (the last one repeats)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: dict[str, int] = defaultdict(int)

    def set(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)
        self.lookups[name] = 0

    def lookup(self, name: str) -> list[str]:
        answers = self.answers.get(name)
        if answers is None:
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: unknown test name")
        index = min(self.lookups[name], len(answers) - 1)
        self.lookups[name] += 1
        return answers[index]


@pytest.fixture()
def dns(monkeypatch) -> StubDns:
    """The process's resolver answers `.test` names from the stub (other names resolve as usual)."""
    stub = StubDns()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.rstrip(".").endswith(".test"):
            results = []
            for address in stub.lookup(name.rstrip(".")):
                fam = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, int(port or 0), 0, 0) if fam == socket.AF_INET6 else (address, int(port or 0))
                results.append((fam, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
            return results
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return stub
