"""A real ZenML pipeline run through run.py, in an isolated ZenML state folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_twin.infra.processes import free_port
from llm_twin.paths import PROJECT_ROOT

pytestmark = pytest.mark.services


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_")}
    env["LLM_TWIN_HOME"] = str(tmp_path / "twin")
    return env


def _python(env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_smoke_pipeline_runs_and_is_listed(isolated_env: dict[str, str], tmp_path: Path) -> None:
    ports = [f"infra.mongo_port={free_port()}", f"infra.kafka_port={free_port()}"]
    try:
        result = _python(isolated_env, "run.py", "pipeline=smoke", *ports)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "smoke_summary" in result.stdout and "completed" in result.stdout
        assert (tmp_path / "twin" / "zenml").is_dir()  # state stayed in the isolated folder

        listing = _python(
            isolated_env, "-c",
            "from llm_twin.zenml_env import configure_zenml_env; configure_zenml_env();"
            "from zenml.client import Client;"
            "runs = Client().list_pipeline_runs(size=10).items;"
            "print([(r.name, str(r.status), sorted(r.run_metadata)) for r in runs])",
        )
        assert listing.returncode == 0, listing.stderr[-2000:]
        assert "smoke-" in listing.stdout and "completed" in listing.stdout
        assert "hydra_config" in listing.stdout
    finally:
        stop = _python(isolated_env, "-m", "llm_twin.infra", "stop")
    assert "kafka" in stop.stdout and "mongo" in stop.stdout


def test_unregistered_stack_fails_with_how_to_register(isolated_env: dict[str, str]) -> None:
    result = _python(isolated_env, "run.py", "pipeline=smoke", "stack=gpu")
    assert result.returncode == 2
    assert "not registered" in result.stderr and "python -m stacks register gpu" in result.stderr


def test_stack_spec_registers_and_activates(isolated_env: dict[str, str], tmp_path: Path) -> None:
    spec = tmp_path / "mini.yaml"
    spec.write_text(
        "stack: llm-twin-mini\ncomponents:\n"
        "  orchestrator: {name: default, flavor: local, existing: true}\n"
        "  artifact_store: {name: mini-artifacts, flavor: local, configuration: {path: " + str(tmp_path / "artifacts") + "}}\n"
    )
    result = _python(isolated_env, "-m", "stacks", "register", str(spec), "--activate")
    assert result.returncode == 0, result.stderr[-2000:]
    listing = _python(isolated_env, "-m", "stacks", "list")
    assert "llm-twin-mini" in listing.stdout
    again = _python(isolated_env, "-m", "stacks", "register", str(spec))  # idempotent
    assert again.returncode == 0, again.stderr[-2000:]


def test_missing_environment_for_cloud_stack_is_named(isolated_env: dict[str, str]) -> None:
    isolated_env.pop("ZENML_ARTIFACT_BUCKET", None)
    result = _python(isolated_env, "-m", "stacks", "register", "cloud")
    assert result.returncode == 1
    assert "ZENML_ARTIFACT_BUCKET" in result.stderr
