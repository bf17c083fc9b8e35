"""The fetcher against real local servers: redirects checked at every hop, DNS rebinding defeated by
connecting to the checked address, TLS verified on the name while connecting to the IP, total deadline
against slow drips, size and content-type limits, and a clear error for every malformed response."""

from __future__ import annotations

import datetime as dt
import gzip
import ssl
import time
import tracemalloc
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from llm_twin.web import AddressPolicy, Fetcher, FetchError, FetchLimits
from tests.web.conftest import INTERNAL, PUBLIC, page, redirect, send

ALLOW_PUBLIC = AddressPolicy.of(False, [f"{PUBLIC}/32"], setting="crawl.allow_private_addresses")
FAST = FetchLimits(connect_timeout_s=1, read_timeout_s=1, total_timeout_s=5, max_bytes=100_000, max_redirects=3)


def fetcher(policy: AddressPolicy = ALLOW_PUBLIC, **kwargs) -> Fetcher:
    return Fetcher(policy, headers={"User-Agent": "fetch-test/1"}, **kwargs)


# ---- redirects ----------------------------------------------------------------------------------------------
def test_redirect_chain_is_followed_and_checked(servers):
    site = servers()
    site.routes["/a"] = redirect("/b", 301)
    site.routes["/b"] = redirect(site.url("/c?x=1"), 307)
    site.routes["/c"] = page(b"<p>done</p>")
    response = fetcher().get(site.url("/a"), FAST)
    assert response.text == "<p>done</p>" and response.url == site.url("/c?x=1")
    assert response.redirects == [site.url("/b"), site.url("/c?x=1")]
    assert site.headers[-1]["Host"] == f"{PUBLIC}:{site.port}" and site.headers[-1]["User-Agent"] == "fetch-test/1"


def test_redirect_to_a_private_address_is_refused_at_the_hop(twin_servers):
    public, internal = twin_servers
    public.routes["/go"] = redirect(internal.url("/secret"))
    public.routes["/meta"] = redirect("http://169.254.169.254/latest/meta-data/iam/")
    public.routes["/mapped"] = redirect(f"http://[::ffff:127.0.0.1]:{internal.port}/secret")
    for path, shown in [("/go", "127.0.0.1"), ("/meta", "cloud metadata"), ("/mapped", "127.0.0.1")]:
        with pytest.raises(FetchError) as err:
            fetcher().get(public.url(path), FAST)
        assert err.value.reason == "private_address" and shown in err.value.message
    assert internal.total_hits == 0


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://exa mple.test/", "invalid host name"),
        ("http://host.test:99999/", "Port out of range"),
        ("http://host.test:port/", "not a valid URL"),
        ("javascript:alert(1)", "only http(s) URLs"),
        ("ftp://files.test/x", "only http(s) URLs"),
        ("http://user:pw@host.test/", "credentials"),
        ("https:///nohost", "has no host"),
        ("http://\u00e9\u00e9\u00e9..test/", "invalid host name"),
        ("", "without a Location"),
        (None, "without a Location"),
    ],
)
def test_malformed_redirect_location_is_a_clear_error(servers, location, words):
    site = servers()
    headers = {} if location is None else {"Location": location}
    site.routes["/r"] = lambda h: send(h, 302, b"", headers=headers)
    with pytest.raises(FetchError) as err:
        fetcher().get(site.url("/r"), FAST)
    assert err.value.reason == "bad_redirect" and not err.value.refused
    assert words in err.value.message and site.url("/r") in err.value.message


def test_redirect_location_with_raw_utf8_and_spaces_is_encoded(servers):
    site = servers()
    site.routes["/r"] = lambda h: (h.send_response(302), h.send_header("Location", "/caf\u00e9 menu".encode().decode("latin-1")),
                                   h.send_header("Content-Length", "0"), h.end_headers())
    site.routes["/caf%C3%A9%20menu"] = page(b"ok")
    assert fetcher().get(site.url("/r"), FAST).url == site.url("/caf%C3%A9%20menu")


def test_redirect_limits(servers):
    site = servers()
    for n in range(6):
        site.routes[f"/hop/{n}"] = redirect(f"/hop/{n + 1}")
    site.routes["/loop"] = redirect("/loop2")
    site.routes["/loop2"] = redirect("/loop")
    with pytest.raises(FetchError, match="longer than 3 hops") as err:
        fetcher().get(site.url("/hop/0"), FAST)
    assert err.value.reason == "too_many_redirects"
    with pytest.raises(FetchError) as err:
        fetcher().get(site.url("/loop"), FAST)
    assert err.value.reason == "redirect_loop"


# ---- DNS rebinding ------------------------------------------------------------------------------------------
def test_dns_rebinding_connects_to_the_checked_address(twin_servers, dns):
    """The name answers a public address first and 127.0.0.1 afterwards: the fetch must reach the first."""
    public, internal = twin_servers
    public.routes["/"] = page(b"<p>public page</p>")
    dns.set("rebind.test", [PUBLIC], [INTERNAL])
    response = fetcher().get(f"http://rebind.test:{public.port}/", FAST)
    assert response.text == "<p>public page</p>"
    assert public.hits["/"] == 1 and internal.total_hits == 0
    assert public.headers[-1]["Host"] == f"rebind.test:{public.port}"  # the name, not the IP
    assert dns.lookups["rebind.test"] == 1  # resolved once: nothing resolved it a second time
    # the stub really rebinds: a client that resolved again would have reached the internal service
    import socket

    assert socket.getaddrinfo("rebind.test", public.port)[0][4][0] == INTERNAL


def test_dns_rebinding_on_a_redirect_hop(twin_servers, dns):
    public, internal = twin_servers
    public.routes["/start"] = redirect(f"http://hop.test:{public.port}/next")
    public.routes["/next"] = page(b"next")
    dns.set("hop.test", [PUBLIC], [INTERNAL])
    assert fetcher().get(public.url("/start"), FAST).text == "next"
    assert internal.total_hits == 0
    dns.set("hop.test", [INTERNAL])  # a hop whose name points inside is refused
    with pytest.raises(FetchError) as err:
        fetcher().get(public.url("/start"), FAST)
    assert err.value.reason == "private_address" and "hop.test resolves to 127.0.0.1" in err.value.message
    assert internal.total_hits == 0


# ---- TLS on the name, connection to the IP ------------------------------------------------------------------
def _tls_material(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context with a certificate for `name`, client context trusting only the test CA)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "llm-twin test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


def test_https_verifies_the_name_while_connecting_to_the_checked_ip(servers, dns, tmp_path):
    server_ctx, client_ctx = _tls_material(tmp_path, "pinned.test")
    site = servers(PUBLIC, tls=server_ctx)
    site.routes["/"] = page(b"over tls")
    dns.set("pinned.test", [PUBLIC], [INTERNAL])
    dns.set("other.test", [PUBLIC])
    response = fetcher(ssl_context=client_ctx).get(f"https://pinned.test:{site.port}/", FAST)
    assert response.text == "over tls" and dns.lookups["pinned.test"] == 1
    with pytest.raises(FetchError) as err:  # the certificate is for pinned.test, not other.test
        fetcher(ssl_context=client_ctx).get(f"https://other.test:{site.port}/", FAST)
    assert err.value.reason == "tls" and "other.test" in err.value.message
    dns.set("pinned.test", [PUBLIC])
    with pytest.raises(FetchError) as err:  # the default trust store does not know the test CA
        fetcher().get(f"https://pinned.test:{site.port}/", FAST)
    assert err.value.reason == "tls"


# ---- deadlines -------------------------------------------------------------------------------------------
def _drip(body_bytes: int, delay: float):
    def route(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(body_bytes))
        handler.end_headers()
        try:
            for _ in range(body_bytes):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(delay)
        except OSError:
            pass
    return route


def _drip_headers(handler) -> None:
    try:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(200):
            handler.wfile.write(f"X-Slow-{i}: y\r\n".encode())
            handler.wfile.flush()
            time.sleep(0.1)
    except OSError:
        pass


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_slow_drip_is_stopped_by_the_total_deadline(servers, path):
    """Each byte arrives well within the read timeout; only the total deadline can end it."""
    site = servers()
    site.routes["/drip-body"] = _drip(10_000, 0.05)
    site.routes["/drip-headers"] = _drip_headers
    limits = FetchLimits(connect_timeout_s=1, read_timeout_s=1, total_timeout_s=1.5, max_bytes=100_000)
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetcher().get(site.url(path), limits)
    elapsed = time.monotonic() - started
    assert err.value.reason == "timeout" and "total deadline of 1.5 s" in err.value.message
    assert 1.4 <= elapsed < 2.5, elapsed


def test_read_timeout_when_nothing_arrives(servers):
    site = servers()
    site.routes["/stall"] = lambda h: time.sleep(2)
    with pytest.raises(FetchError) as err:
        fetcher().get(site.url("/stall"), FetchLimits(read_timeout_s=0.3, total_timeout_s=5))
    assert err.value.reason == "timeout" and "0.3 s" in err.value.message


def test_connection_refused_is_a_connection_error(servers):
    site = servers()
    port = site.port
    site.close()
    with pytest.raises(FetchError) as err:
        fetcher().get(f"http://{PUBLIC}:{port}/", FAST)
    assert err.value.reason == "connection"


# ---- size and content type ---------------------------------------------------------------------------------
def test_oversize_bodies_are_refused_while_streaming(servers):
    site = servers()
    big = b"<p>" + b"x" * 200_000 + b"</p>"
    site.routes["/declared"] = page(big)

    def undeclared(handler) -> None:  # no Content-Length: only counting while reading can stop it
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            handler.wfile.write(big)
        except OSError:
            pass
        handler.close_connection = True

    site.routes["/undeclared"] = undeclared
    for path, words in [("/declared", "declares 200007 bytes"), ("/undeclared", "exceeds the 100000 byte limit")]:
        with pytest.raises(FetchError) as err:
            fetcher().get(site.url(path), FAST)
        assert err.value.reason == "too_large" and words in err.value.message
    truncated = fetcher().get(site.url("/undeclared"), FetchLimits(max_bytes=1000, truncate=True))
    assert len(truncated.body) == 1000 and truncated.truncated


def test_gzip_bomb_is_bounded_by_the_decompressed_size(servers):
    """50 MB of zeros sent as 50 KB of gzip: the limit counts decompressed bytes, memory stays small."""
    site = servers()
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    site.routes["/bomb"] = lambda h: send(h, 200, bomb, "text/html", headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as err:
            fetcher().get(site.url("/bomb"), FetchLimits(max_bytes=1_000_000, total_timeout_s=10))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.reason == "too_large" and len(bomb) < 100_000
    assert peak < 10_000_000, peak


def test_content_type_allowlist(servers):
    site = servers()
    site.routes["/report.pdf"] = page(b"%PDF-1.7", "application/pdf")
    site.routes["/page"] = page(b"<p>caf\xc3\xa9</p>", "TEXT/HTML; Charset=\"UTF-8\"")
    limits = FetchLimits(content_types=("text/html",))
    with pytest.raises(FetchError) as err:
        fetcher().get(site.url("/report.pdf"), limits)
    assert err.value.reason == "content_type" and "application/pdf" in err.value.message
    response = fetcher().get(site.url("/page"), limits)
    assert response.content_type == "text/html" and response.encoding == "UTF-8" and response.text == "<p>café</p>"


def test_http_errors_carry_status_and_retry_after(servers):
    site = servers()
    site.routes["/busy"] = lambda h: send(h, 429, b"slow down", headers={"Retry-After": "7"})
    site.routes["/gone"] = lambda h: send(h, 410, b"gone")
    with pytest.raises(FetchError) as err:
        fetcher().get(site.url("/busy"), FAST)
    assert (err.value.reason, err.value.status, err.value.retry_after) == ("rate_limited", 429, 7.0)
    with pytest.raises(FetchError) as err:
        fetcher().get(site.url("/missing"), FAST)
    assert err.value.reason == "http_404" and "HTTP 404" in err.value.message


def test_garbage_response_is_a_clear_error(servers):
    site = servers()
    site.routes["/garbage"] = lambda h: (h.wfile.write(b"NOT HTTP AT ALL\r\n\r\n"), h.wfile.flush())
    with pytest.raises(FetchError) as err:
        fetcher().get(site.url("/garbage"), FAST)
    assert err.value.reason in ("bad_response", "connection")


@pytest.mark.parametrize("url", ["ftp://x.test/", "/relative", "http://", "http://user:secret@x.test/", "http://[::1",
                                 "http://x.test:0/", "not a url"])
def test_bad_urls_are_refused_before_any_connection(url):
    with pytest.raises(FetchError) as err:
        fetcher().get(url, FAST)
    assert err.value.reason == "bad_url" and err.value.refused
    assert "secret" not in err.value.message
