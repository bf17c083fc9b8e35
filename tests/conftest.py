"""Session fixtures: real local services on free ports in a temporary state folder.

Every test session gets its own MongoDB-wire server and Kafka-compatible broker (so a developer's own
`.twin/` data is never touched), the system RabbitMQ (started if installed and stopped), and a Qdrant
local-mode folder. Tests use unique database / queue / topic names so they do not interfere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm_twin.config import InfraConfig, load_group
from llm_twin.connections import Connections
from llm_twin.infra.processes import free_port
from llm_twin.infra.services import LocalServices

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("COMET_ERROR_TRACKING_ENABLE", "false")
os.environ.setdefault("COMET_AUTO_LOG_ENV_DETAILS", "false")


@pytest.fixture(scope="session")
def twin_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("twin_home")
    previous = os.environ.get("LLM_TWIN_HOME")
    os.environ["LLM_TWIN_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("LLM_TWIN_HOME", None)
    else:
        os.environ["LLM_TWIN_HOME"] = previous


@pytest.fixture(scope="session")
def local_services(twin_home: Path) -> Iterator[LocalServices]:
    mongo_port, kafka_port = free_port(), free_port()
    infra = load_group("infra", [f"infra.mongo_port={mongo_port}", f"infra.kafka_port={kafka_port}",
                                 "infra.mongo_database=llm_twin_test", f"infra.qdrant_path={twin_home / 'qdrant'}"],
                       schema=InfraConfig)
    connections = Connections.of(infra)
    services = LocalServices(connections, twin_home)
    yield services
    services.stop()


@pytest.fixture(scope="session")
def mongo_uri(local_services: LocalServices) -> str:
    local_services.start(["mongo"])
    return local_services.connections.mongo_uri.get_secret_value()


@pytest.fixture(scope="session")
def kafka_bootstrap(local_services: LocalServices) -> str:
    local_services.start(["kafka"])
    return local_services.connections.kafka_bootstrap


@pytest.fixture(scope="session")
def rabbitmq_url(local_services: LocalServices) -> str:
    local_services.start(["rabbitmq"])
    return local_services.connections.rabbitmq_url.get_secret_value()


@pytest.fixture(scope="session")
def connections(local_services: LocalServices, mongo_uri: str, kafka_bootstrap: str, rabbitmq_url: str) -> Connections:
    local_services.start(["qdrant"])
    return local_services.connections
