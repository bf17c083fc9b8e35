"""A real `bentoml serve` of the built bento answers /generate with an answer and its sources, exposes
Prometheus metrics and serves the web page and OpenAPI schema; swaps models by tag; the venv finds the store."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.slow


def test_built_bento_serves_generate(served_bento):
    url = served_bento["url"]
    r = requests.post(f"{url}/generate", json={"instruction": "Write a LinkedIn post about streaming with Kafka",
                                                "max_new_tokens": 32, "temperature": 0.0}, timeout=120)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["answer"].strip()
    assert data["context"][0]["document_id"] == "p-kafka"
    assert data["context"][0]["link"] == "https://linkedin.com/posts/jane-kafka"
    assert data["model_version"] == "test-1"
    assert data["timings"]["generation_s"] > 0


def test_served_retrieve_metrics_docs_ui(served_bento):
    url = served_bento["url"]
    r = requests.post(f"{url}/retrieve", json={"query": "retry with exponential backoff", "k": 2}, timeout=60)
    assert r.status_code == 200 and r.json()["context"][0]["document_id"] == "c-retry"
    bad = requests.post(f"{url}/retrieve", json={"query": ""}, timeout=30)
    assert bad.status_code == 400 and "query" in bad.text
    metrics = requests.get(f"{url}/metrics", timeout=30).text
    assert "bentoml_service_request_total" in metrics or "bentoml_api_server_request_total" in metrics
    assert "/generate" in requests.get(f"{url}/docs.json", timeout=30).json()["paths"]
    assert "LLM Twin" in requests.get(f"{url}/ui/", timeout=30).text


def test_reload_by_model_tags_on_a_real_serve(served_bento, built_bento):
    """What a release process sends after saving new models: the served twin swaps to them (here the
    same models again) and reports the version it serves."""
    url = served_bento["url"]
    before = requests.post(f"{url}/info", json={}, timeout=30).json()
    r = requests.post(f"{url}/admin/reload", timeout=180, json={"gguf_model": built_bento["gguf_model_tag"],
                                                              "index_model": built_bento["index_model_tag"]})
    assert r.status_code == 200, r.text
    assert r.json()["model_version"] == "test-1"
    after = requests.post(f"{url}/info", json={}, timeout=30).json()
    assert after["swaps"] == before["swaps"] + 1 and after["model_version"] == "test-1"
    missing = requests.post(f"{url}/admin/reload", json={"gguf_model": "llm_twin_gguf:doesnotexist"}, timeout=60)
    assert missing.status_code == 404 and "no BentoML model" in missing.json()["error"]
    answer = requests.post(f"{url}/generate", json={"instruction": "Write about Kafka", "max_new_tokens": 4},
                           timeout=120)
    assert answer.status_code == 200 and answer.json()["model_version"] == "test-1"


def test_venv_activate_exports_the_bento_store(tmp_path):
    """After `make setup`, `source .venv/bin/activate` points BENTOML_HOME at the store deploy builds into,
    so `bentoml serve llm_twin:latest` finds the last deployed twin (served that way in conftest)."""
    import subprocess

    from llm_twin.paths import PROJECT_ROOT

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    activate = venv / "bin" / "activate"
    activate.write_text("# a venv's activate script\n")
    plan = subprocess.run(["make", "-n", "-B", f"VENV={venv}", "setup"], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True).stdout
    commands = plan.replace("\\\n", " ").splitlines()
    appenders = [c for c in commands if c.startswith("grep -q") and str(activate) in c]
    assert len(appenders) >= 2
    for _ in range(2):  # re-running setup changes nothing
        for command in appenders:
            subprocess.run(["bash", "-c", command], check=True)
    assert activate.read_text().count("BENTOML_HOME=") == 1
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    home = subprocess.run(["bash", "-c", f"source {activate} && echo $BENTOML_HOME"], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert home == str(PROJECT_ROOT / ".twin" / "bentoml")
    # deploy builds into <state folder>/bentoml, and the state folder is <project>/.twin by default
    from llm_twin.inference.bundle import bentoml_home

    mp = pytest.MonkeyPatch()
    mp.setenv("LLM_TWIN_HOME", str(tmp_path / "state"))
    try:
        assert bentoml_home() == (tmp_path / "state" / "bentoml").resolve()
    finally:
        mp.undo()
