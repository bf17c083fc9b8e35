"""The official `openai` client against a real `bentoml serve` of the twin: answers whole and streamed,
with usage and the author's sources; the model list; 401 without the key when one is set."""

from __future__ import annotations

import pytest

openai = pytest.importorskip("openai")

pytestmark = pytest.mark.slow

KAFKA = "Write a LinkedIn post about streaming with Kafka"


def client(url: str, key: str = "unused", **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=120, **kwargs)


def test_chat_completion_with_usage_and_sources(served_bento):
    twin = client(served_bento["url"])
    models = twin.models.list()
    assert [m.id for m in models.data] == ["llm_twin"]
    reply = twin.chat.completions.create(model="llm_twin", messages=[{"role": "user", "content": KAFKA}],
                                         max_tokens=24, temperature=0.0)
    assert reply.object == "chat.completion"
    choice = reply.choices[0]
    assert choice.message.role == "assistant" and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    assert reply.usage.prompt_tokens > 20 and 1 <= reply.usage.completion_tokens <= 24
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    sources = reply.model_extra["sources"]
    assert sources[0]["document_id"] == "p-kafka"
    assert sources[0]["link"] == "https://linkedin.com/posts/jane-kafka"
    assert reply.model_extra["model_version"] == "test-1"


def test_streamed_chat_completion(served_bento):
    twin = client(served_bento["url"])
    stream = twin.chat.completions.create(
        model="llm_twin", stream=True, stream_options={"include_usage": True}, max_tokens=24, temperature=0.0,
        messages=[{"role": "system", "content": "Answer in one paragraph."},
                  {"role": "user", "content": "Tell me about your hiking weekend"},
                  {"role": "assistant", "content": "Three days in the Alps."},
                  {"role": "user", "content": "Now explain how vector databases filter by author"}],
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert text.strip() and len(content_chunks) >= 2, "the answer arrives in pieces"
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(final) == 1 and final[0].choices[0].finish_reason in ("stop", "length")
    # retrieval ran on the LAST user message (vector databases), not on the earlier hiking turn
    assert final[0].model_extra["sources"][0]["document_id"] == "a-vector"
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage.completion_tokens >= len(content_chunks) - 1
    assert usage.prompt_tokens > 20


def test_bad_request_is_an_openai_error(served_bento):
    twin = client(served_bento["url"])
    with pytest.raises(openai.BadRequestError, match="n must be 1"):
        twin.chat.completions.create(model="llm_twin", messages=[{"role": "user", "content": "hi"}], n=2)
    with pytest.raises(openai.NotFoundError, match="not served here"):
        twin.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def test_api_key_is_enforced_on_every_data_endpoint(served_bento_public):
    import requests

    url, key = served_bento_public["url"], served_bento_public["key"]
    with pytest.raises(openai.AuthenticationError):
        client(url, "wrong-key").chat.completions.create(model="llm_twin",
                                                         messages=[{"role": "user", "content": "hi"}])
    reply = client(url, key).chat.completions.create(model="llm_twin", max_tokens=8, temperature=0.0,
                                                     messages=[{"role": "user", "content": KAFKA}])
    assert reply.choices[0].message.content.strip() and reply.model_extra["sources"]
    for method, path, body in [("post", "/generate", {"instruction": "hi", "max_new_tokens": 2}),
                               ("post", "/retrieve", {"query": "kafka"}), ("post", "/traces", {"limit": 1}),
                               ("post", "/info", {}), ("get", "/v1/models", None),
                               ("post", "/admin/reload", {"bundle_dir": "/nonexistent"})]:
        anonymous = requests.request(method, url + path, json=body, timeout=60)
        assert anonymous.status_code == 401, (path, anonymous.text)
        authorised = requests.request(method, url + path, json=body, timeout=120,
                                      headers={"Authorization": f"Bearer {key}"})
        assert authorised.status_code == (404 if path == "/admin/reload" else 200), (path, authorised.text)
    for path in ("/livez", "/readyz", "/docs.json", "/ui/"):
        assert requests.get(url + path, timeout=30).status_code == 200, path


def raw_post_status(url: str, path: str, header: bytes, body: bytes = b'{"query": "kafka"}') -> int:
    """POST with a raw header line (HTTP clients refuse to send header values that are not ASCII/UTF-8)."""
    import socket
    from urllib.parse import urlparse

    parsed = urlparse(url)
    request = (f"POST {path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n").encode() + header + b"\r\n\r\n" + body
    with socket.create_connection((parsed.hostname, parsed.port), timeout=60) as sock:
        sock.sendall(request)
        status_line = sock.makefile("rb").readline()
    return int(status_line.split()[1])


def test_non_utf8_header_is_never_a_500(served_bento, served_bento_public):
    for header in (b"X-API-Key: \xff\xfe", b"Authorization: Bearer caf\xe9", b"X-Note: \x80\x81"):
        assert raw_post_status(served_bento_public["url"], "/retrieve", header) == 401, header
        assert raw_post_status(served_bento["url"], "/retrieve", header) == 200, header
