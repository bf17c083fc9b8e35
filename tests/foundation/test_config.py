"""Every config group composes, and run.py's error paths fail clearly."""

from __future__ import annotations

import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from llm_twin.config import SELECTABLE_GROUPS, ConfigChoiceError, compose, group_choices
from llm_twin.connections import Connections
from llm_twin.paths import PROJECT_ROOT

CLOUD_ENV = {
    "MONGODB_URI": "mongodb+srv://user:pw@cluster.example.net",
    "RABBITMQ_URL": "amqps://user:pw@mq.example.net/vhost",
    "KAFKA_BOOTSTRAP_SERVERS": "broker-1.example.net:9092",
    "QDRANT_URL": "https://qdrant.example.net:6333",
    "QDRANT_API_KEY": "secret-key",
}


@pytest.mark.parametrize(
    ("group", "choice"), [(g, c) for g in SELECTABLE_GROUPS for c in group_choices(g)]
)
def test_every_group_option_composes(group: str, choice: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CLOUD_ENV.items():
        monkeypatch.setenv(key, value)
    cfg = compose([f"{group}={choice}"])
    resolved = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(resolved, dict)
    assert resolved[group] is not None
    assert cfg.pipeline.name and (cfg.pipeline.entrypoint or cfg.pipeline.sequence)


def test_each_group_has_its_default_option() -> None:
    cfg = compose()
    assert set(SELECTABLE_GROUPS) <= set(cfg.keys())
    assert cfg.model.name == "smollm2"
    assert cfg.infra.mode == "local"
    assert cfg.stack.name == "local"


def test_mistral_has_qlora_settings() -> None:
    cfg = compose(["pipeline=train", "model=mistral", "stack=gpu"])
    assert cfg.model.base_model_id == "mistralai/Mistral-7B-Instruct-v0.3"
    assert cfg.model.load_in_4bit is True and cfg.model.bnb_4bit_quant_type == "nf4"
    assert cfg.model.lora.r > 0 and "q_proj" in cfg.model.lora.target_modules
    assert cfg.stack.step_operator and "train_model" in cfg.stack.gpu_steps


def test_unknown_choice_names_valid_options() -> None:
    with pytest.raises(ConfigChoiceError, match="valid model choices: mistral, smollm2"):
        compose(["model=nope"])


def test_cloud_infra_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CLOUD_ENV.items():
        monkeypatch.setenv(key, value)
    connections = Connections.of(compose(["infra=cloud"]).infra)
    assert connections.mode == "cloud"
    assert connections.mongo_uri.get_secret_value() == CLOUD_ENV["MONGODB_URI"]
    assert connections.qdrant_url == CLOUD_ENV["QDRANT_URL"] and connections.qdrant_path is None
    assert connections.qdrant_api_key is not None and "secret-key" not in repr(connections)


def test_local_infra_points_at_project_state() -> None:
    connections = Connections.of(compose().infra)
    assert connections.mongo_uri.get_secret_value() == "mongodb://127.0.0.1:27017"
    assert connections.kafka_bootstrap == "127.0.0.1:9092"
    assert connections.qdrant_path is not None and connections.qdrant_path.is_absolute()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "run.py", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        check=False,
    )


def test_run_py_unknown_pipeline_fails_with_one_line() -> None:
    result = _run("pipeline=nope")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown pipeline 'nope'" in lines[0] and "smoke" in lines[0]


@pytest.mark.parametrize("override", ["model=gpt9", "stack=mainframe", "infra=moon"])
def test_run_py_unknown_group_choice_fails(override: str) -> None:
    result = _run(override)
    group = override.split("=")[0]
    assert result.returncode != 0
    assert f"valid {group} choices" in result.stderr


def test_run_py_prints_composed_config() -> None:
    result = _run("--cfg", "job", "pipeline=train", "model=mistral", "stack=gpu")
    assert result.returncode == 0, result.stderr
    printed = OmegaConf.create(result.stdout)
    assert printed.model.base_model_id == "mistralai/Mistral-7B-Instruct-v0.3"
    assert printed.model.lora.r == 64 and printed.model.load_in_4bit is True


def test_no_secret_in_committed_yaml() -> None:
    for path in (PROJECT_ROOT / "conf").rglob("*.yaml"):
        text = path.read_text()
        assert "api_key: sk-" not in text and "COMET_API_KEY=" not in text, path


def test_cloud_secrets_stay_references_in_the_composed_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CLOUD_ENV.items():
        monkeypatch.setenv(key, value)
    resolved = OmegaConf.to_container(compose(["infra=cloud"]), resolve=True)
    assert "secret-key" not in str(resolved) and "pw@" not in str(resolved)
    assert resolved["infra"]["qdrant_api_key"] == "env:QDRANT_API_KEY|"


def test_missing_cloud_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in CLOUD_ENV:
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ValueError, match="MONGODB_URI is not set"):
        Connections.of(compose(["infra=cloud"]).infra)
