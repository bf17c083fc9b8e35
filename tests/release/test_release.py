"""Release on promotion, end to end: versions of `llm_twin` in the Model Control Plane, a real
`bentoml serve` of the first one, and the release process (`python run.py pipeline=release`) running.
`zenml model version update llm_twin 2 --stage production` moves the running service to version 2 while
clients keep sending requests (none fails); `pipeline=rollback` puts version 1 back; a model the service cannot load, and a version whose deploy
fails, leave the service on what it serves, and the failure is in the status and the log."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Self

import pytest
import requests

from tests.release.conftest import ReleaseEnv, stop, wait_for

pytestmark = pytest.mark.slow


def served(url: str) -> str | None:
    try:
        return str(requests.post(f"{url}/info", json={}, timeout=10).json()["model_version"])
    except (requests.RequestException, ValueError, KeyError):
        return None


class Clients:
    """Threads that keep sending /generate and streamed chat completions; every answer is recorded."""

    def __init__(self, url: str) -> None:
        self.url, self.results, self.stopping = url, [], threading.Event()
        self.threads = [threading.Thread(target=self.loop, args=(kind,)) for kind in ("generate", "chat")]

    def one(self, kind: str) -> tuple[str, int, str]:
        try:
            if kind == "generate":
                r = requests.post(f"{self.url}/generate", json={"instruction": "Write about Kafka", "max_new_tokens": 3,
                                                               "temperature": 0.0}, timeout=120)
                return kind, r.status_code, r.json().get("model_version", "") if r.status_code == 200 else r.text[:200]
            r = requests.post(f"{self.url}/v1/chat/completions", timeout=120, json={
                "model": "llm_twin", "stream": True, "max_tokens": 3, "messages": [{"role": "user", "content": "RAG?"}]})
            final = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {") and '"sources"' in line]
            ok = r.status_code == 200 and r.text.rstrip().endswith("data: [DONE]") and final
            return kind, r.status_code if ok else 599, final[0]["model_version"] if ok else r.text[-200:]
        except requests.RequestException as exc:
            return kind, 0, str(exc)

    def loop(self, kind: str) -> None:
        while not self.stopping.is_set():
            self.results.append(self.one(kind))

    def __enter__(self) -> Self:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(180)

    def versions(self) -> set[str]:
        return {v for _, code, v in self.results if code == 200}

    def failures(self) -> list[tuple[str, int, str]]:
        return [r for r in self.results if r[1] != 200]


def test_promotion_moves_the_running_service_with_no_failed_request(release_env: ReleaseEnv,
                                                                    tiny_models: dict[str, Path]) -> None:
    from llm_twin.inference.serve_process import bentoml_serve, free_port
    from tests.training.corpus import load_into_qdrant, make_corpus

    env = release_env
    load_into_qdrant(env.home / "qdrant", make_corpus(n_posts=6, n_articles=2, n_code=0, seed=5))
    env.register("1", tiny_models["a"], stage="production")
    env.register("2", tiny_models["b"])

    # No service yet: a bounded release run deploys production (what a CI job does) and builds the bento.
    first = env.run_py("release", "release.service_url=null", "release.max_cycles=1", "retrain.enabled=false")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert env.status()["serving"] == "1" and env.status()["last_attempt"]["ok"], env.status()

    port = free_port()
    with bentoml_serve("llm_twin:latest", env.home / "bentoml", port=port, env=env.env) as url:
        assert served(url) == "1"
        log = env.root / "release.log"
        proc = env.start_release(f"release.service_url={url}", "release.poll_interval_s=1", "retrain.enabled=false")
        try:
            wait_for(lambda: env.status().get("target") == "1" and "updated_at" in env.status(), 120,
                     "the release process's first poll", proc=proc, log=log)
            with Clients(url) as clients:
                wait_for(lambda: len(clients.results) >= 2, 120, "the clients' first answers")
                promoted = env.zenml("model", "version", "update", "llm_twin", "2", "--stage", "production",
                                     stdin="y\n")  # the stage is taken: ZenML asks before archiving version 1
                assert promoted.returncode == 0, promoted.stdout + promoted.stderr
                wait_for(lambda: served(url) == "2", 600, "/info to report version 2", interval=2, proc=proc, log=log)
                wait_for(lambda: sum(1 for _, c, v in clients.results if c == 200 and v == "2") >= 2, 120,
                         "answers from version 2")
            assert clients.failures() == [], clients.failures()
            assert {"1", "2"} <= clients.versions()
            status = env.status()
            assert status["serving"] == "2" and status["last_attempt"]["ok"]
            assert status["last_attempt"]["switched_from"] == "1" and status["history"][-2:] == ["1", "2"]
            versions = {v["name"]: v for v in env.versions()}
            assert versions["2"]["stage"] == "production" and versions["1"]["stage"] == "archived"
            assert "release" in versions["2"]["metadata"], "the deploy is recorded on the version"

            # Rollback: one command puts version 1 back (its models are still in the store: a reload).
            back = env.run_py("rollback", f"release.service_url={url}")
            assert back.returncode == 0, back.stdout[-4000:] + back.stderr[-4000:]
            assert "rollback: serving 1 (was 2)" in back.stdout
            assert served(url) == "1"
            versions = {v["name"]: v for v in env.versions()}
            assert versions["1"]["stage"] == "production" and versions["2"]["stage"] == "archived"

            # A model the service cannot load (version 2's GGUF corrupted in the model store): the reload
            # fails its load, the service keeps serving version 1.
            tags = env.status()["deployed"]["2"]
            name, tag = tags["gguf_model"].split(":")
            (env.home / "bentoml" / "models" / name / tag / "twin.gguf").write_bytes(b"GGUF" + b"\0" * 4096)
            promoted = env.zenml("model", "version", "update", "llm_twin", "2", "--stage", "production", stdin="y\n")
            assert promoted.returncode == 0, promoted.stdout + promoted.stderr
            failed = wait_for(lambda: (env.status().get("last_attempt") or {}).get("version") == "2"
                              and env.status()["last_attempt"], 300, "the reload of version 2 to fail", proc=proc, log=log)
            assert not failed["ok"] and failed["phase"] == "reload" and "still serving 1" in failed["error"], failed
            assert served(url) == "1"

            # A version whose deploy fails: the service keeps serving version 1, the failure is visible.
            broken = env.root / "broken"
            shutil.copytree(tiny_models["b"], broken)
            (broken / "model.safetensors").write_bytes(b"not a safetensors file")
            env.register("3", broken)
            promoted = env.zenml("model", "version", "update", "llm_twin", "3", "--stage", "production", stdin="y\n")
            assert promoted.returncode == 0, promoted.stdout + promoted.stderr
            failed = wait_for(lambda: (env.status().get("last_attempt") or {}).get("version") == "3"
                              and env.status()["last_attempt"], 600, "the release of version 3 to fail", interval=2,
                              proc=proc, log=log)
            assert not failed["ok"] and failed["phase"] == "deploy" and failed["error"]
            assert "3" in env.status()["failed"]
            assert served(url) == "1"
            r = requests.post(f"{url}/generate", json={"instruction": "Write about RAG", "max_new_tokens": 2}, timeout=120)
            assert r.status_code == 200 and r.json()["model_version"] == "1"
            status_cli = env.python("-m", "llm_twin.release", "status")
            assert "FAILED at deploy" in status_cli.stdout and "serving: 1" in status_cli.stdout
            assert "release of 3 failed at deploy" in log.read_text()
        finally:
            stop(proc)
