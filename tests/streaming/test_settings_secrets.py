"""Child processes get configuration as Hydra overrides and secrets as `env:` references: a literal secret
never appears in a command line, a file or a recorded parameter; a real child resolves it from the
environment it inherits, and fails clearly without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from llm_twin.config import InfraConfig, load_group
from llm_twin.connections import referenced
from llm_twin.paths import PROJECT_ROOT

CHILD = (
    "import json, sys\n"
    "from llm_twin.config import compose\n"
    "from llm_twin.connections import Connections\n"
    "c = Connections.of(compose(sys.argv[1:]).infra)\n"
    "print(json.dumps({'rabbitmq_url': c.rabbitmq_url.get_secret_value(), 'mongo_uri': c.mongo_uri.get_secret_value(),\n"
    "  'qdrant_url': c.qdrant_url, 'qdrant_api_key': c.qdrant_api_key.get_secret_value() if c.qdrant_api_key else None}))\n"
)


def _child(overrides: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, *overrides], check=False, cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cloud_references_are_resolved_by_the_child(monkeypatch):
    secrets = {
        "RABBITMQ_URL": "amqps://twin:rabbit-s3cret@mq.example.com:5671/vhost",
        "QDRANT_API_KEY": "qdrant-s3cret-key",
        "MONGODB_URI": "mongodb+srv://twin:mongo-s3cret@cluster0.example.net/?retryWrites=true",
        "QDRANT_URL": "https://qdrant.example.com:6333",
        "KAFKA_BOOTSTRAP_SERVERS": "kafka.example.com:9092",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    proc = _child(["infra=cloud"], dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"rabbitmq_url": secrets["RABBITMQ_URL"], "mongo_uri": secrets["MONGODB_URI"],
                   "qdrant_url": secrets["QDRANT_URL"], "qdrant_api_key": secrets["QDRANT_API_KEY"]}

    # A child without the variable fails clearly instead of connecting with a wrong value.
    env = {k: v for k, v in os.environ.items() if k != "RABBITMQ_URL"}
    proc = _child(["infra=cloud"], env)
    assert proc.returncode != 0 and "RABBITMQ_URL is not set" in proc.stderr


def test_a_literal_secret_travels_as_a_reference_the_child_resolves(tmp_path):
    literal = "amqp://twin:literal-s3cret@127.0.0.1:5672/%2F"
    infra = load_group("infra", schema=InfraConfig).model_copy(update={"rabbitmq_url": literal})
    safe = referenced(infra)
    overrides = [f"infra.rabbitmq_url={safe.rabbitmq_url}"]
    assert "literal-s3cret" not in " ".join(overrides)
    proc = _child(overrides, dict(os.environ))  # children inherit this process's environment
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["rabbitmq_url"] == literal
    assert got["mongo_uri"] == "mongodb://127.0.0.1:27017" and got["qdrant_api_key"] is None
