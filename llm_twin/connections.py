"""The one place where clients are made: MongoDB, Qdrant, RabbitMQ, the Kafka-compatible broker (through
Quix Streams) and OpenAI-compatible LLM endpoints.

Secrets are read one way: a config value `env:NAME` (or `env:NAME|default`) is a reference to the
environment (with `.env` loaded at start-up), resolved here when connection settings are built, never
earlier. So the YAML files, the composed config and the pipeline parameters ZenML records hold the
reference, not the value. A secret that was configured literally is swapped for a reference before it
crosses a process boundary (`InfraConfig` in pipeline parameters, settings of child processes): see
`referenced`.

Every client gets the configured timeouts, so no call can hang a pipeline forever.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from llm_twin.config.infra import InfraConfig
from llm_twin.config.llm import LLMEndpointConfig
from llm_twin.paths import PROJECT_ROOT

if TYPE_CHECKING:
    import pika
    from pymongo import MongoClient
    from qdrant_client import QdrantClient
    from quixstreams import Application

    from llm_twin.llm_client import ChatClient

ENV_REF = re.compile(r"^env:(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<sep>\|)?(?P<default>.*)$", re.DOTALL)
SECRET_EXPORT_PREFIX = "LLM_TWIN_SECRET_"  # env variables carrying literal secrets to child processes
_INFRA_SECRETS = ("mongo_uri", "rabbitmq_url", "qdrant_api_key")
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


class MissingSecretError(ValueError):
    """A config value references an environment variable that is not set."""


def is_env_ref(value: Any) -> bool:
    return isinstance(value, str) and ENV_REF.match(value) is not None


def resolve_env(value: str | None, what: str = "value") -> str | None:
    """`env:NAME` → the variable's value; `env:NAME|default` → it or the default (an empty default is
    None); anything else is returned as it is."""
    if value is None or not isinstance(value, str):
        return value
    match = ENV_REF.match(value)
    if match is None:
        return value
    name = match["name"]
    resolved = os.environ.get(name)
    if resolved is None:
        if not match["sep"]:
            raise MissingSecretError(
                f"environment variable {name} is not set (referenced by {what}): export it or put it in .env"
            )
        resolved = match["default"]
    return resolved or None


def mask_userinfo(text: str) -> str:
    """`scheme://user:password@host` → `scheme://***@host`: safe to log."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


def _has_secret(field: str, value: str | None) -> bool:
    if not value or is_env_ref(value):
        return False
    if field == "mongo_uri":  # a URI is a secret only when it embeds credentials
        return "@" in value.split("//", 1)[-1].split("/", 1)[0]
    return True


def referenced(infra: InfraConfig) -> InfraConfig:
    """The same config with every literal secret replaced by an `env:` reference to a variable of this
    process (children inherit it), so the config can be recorded or written without the secret."""
    updates: dict[str, str] = {}
    for field in _INFRA_SECRETS:
        value = getattr(infra, field)
        if _has_secret(field, value):
            digest = hashlib.sha256(value.encode()).hexdigest()[:10]  # one variable per distinct value
            name = f"{SECRET_EXPORT_PREFIX}{field.upper()}_{digest}"
            os.environ[name] = value
            updates[field] = f"env:{name}"
    return infra.model_copy(update=updates) if updates else infra


class Connections(BaseModel):
    """Resolved connection settings of one `InfraConfig`, and the factories of every client."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    configured: InfraConfig  # as configured: references, never resolved secrets
    mode: Literal["local", "cloud"]
    mongo_uri: SecretStr
    mongo_database: str
    rabbitmq_url: SecretStr
    kafka_bootstrap: str
    qdrant_path: Path | None
    qdrant_url: str | None
    qdrant_api_key: SecretStr | None
    timeout_s: float

    @classmethod
    def of(cls, infra: Any) -> Connections:
        """Resolve an `infra` config node (DictConfig, dict or InfraConfig)."""
        config = InfraConfig.of(infra)

        def env(field: str) -> str | None:
            return resolve_env(getattr(config, field), f"infra.{field}")

        mongo_uri, rabbitmq_url, kafka = env("mongo_uri"), env("rabbitmq_url"), env("kafka_bootstrap")
        database = env("mongo_database")
        qdrant_url, qdrant_key = env("qdrant_url"), env("qdrant_api_key")
        qdrant_path = Path(config.qdrant_path) if config.qdrant_path else None
        if qdrant_path is not None and not qdrant_path.is_absolute():
            qdrant_path = (PROJECT_ROOT / qdrant_path).resolve()  # relative to the project, not the cwd
        return cls(
            configured=referenced(config),
            mode=config.mode,
            mongo_uri=SecretStr(mongo_uri or ""),
            mongo_database=database or "",
            rabbitmq_url=SecretStr(rabbitmq_url or ""),
            kafka_bootstrap=kafka or "",
            qdrant_path=qdrant_path,
            qdrant_url=qdrant_url,
            qdrant_api_key=SecretStr(qdrant_key) if qdrant_key else None,
            timeout_s=config.timeout_s,
        )

    def _require(self, field: str, value: str | None) -> str:
        """Services are checked when used: a process that never talks to RabbitMQ needs no broker URL."""
        if not value:
            raise ValueError(f"infra.{field} is not set: set it in conf/infra/<name>.yaml or the variable it references")
        return value

    def replace(self, **changes: Any) -> Connections:
        """Connections of the same infra config with some fields changed (tests, a bento's index copy)."""
        return Connections.of(self.configured.model_copy(update=changes))

    # -- MongoDB -----------------------------------------------------------------------------------
    def mongo_client(self, timeout_s: float | None = None) -> MongoClient:
        """Every operation bounded (client-side `timeoutMS`); datetimes come back timezone-aware (UTC)."""
        from pymongo import MongoClient

        ms = int((timeout_s or self.timeout_s) * 1000)
        return MongoClient(
            self._require("mongo_uri", self.mongo_uri.get_secret_value()),
            serverSelectionTimeoutMS=ms,
            connectTimeoutMS=ms,
            socketTimeoutMS=ms * 3,
            timeoutMS=ms * 3,
            uuidRepresentation="standard",
            tz_aware=True,
        )

    # -- Qdrant ------------------------------------------------------------------------------------
    def qdrant_client(self) -> QdrantClient:
        """A client on the live server (`qdrant_url`) or on a local folder (created if missing).

        Local mode takes an exclusive lock on the folder: one process (and one open client) at a time;
        close it when done.
        """
        from qdrant_client import QdrantClient

        if self.qdrant_url:
            key = self.qdrant_api_key.get_secret_value() if self.qdrant_api_key else None
            return QdrantClient(url=self.qdrant_url, api_key=key, timeout=int(self.timeout_s))
        if self.qdrant_path is None:
            raise ValueError("no feature store configured: set infra.qdrant_path (local) or QDRANT_URL (server)")
        self.qdrant_path.mkdir(parents=True, exist_ok=True)
        return QdrantClient(path=str(self.qdrant_path))

    # -- RabbitMQ ----------------------------------------------------------------------------------
    def rabbitmq_parameters(self, timeout_s: float | None = None) -> pika.URLParameters:
        import pika

        timeout = timeout_s or self.timeout_s
        params = pika.URLParameters(self._require("rabbitmq_url", self.rabbitmq_url.get_secret_value()))
        params.socket_timeout = timeout
        params.stack_timeout = timeout
        params.blocked_connection_timeout = timeout
        params.connection_attempts = 1
        params.heartbeat = 30
        return params

    def rabbitmq_connection(self, timeout_s: float | None = None) -> pika.BlockingConnection:
        import pika

        return pika.BlockingConnection(self.rabbitmq_parameters(timeout_s))

    # -- Kafka (through Quix Streams) --------------------------------------------------------------
    def quix_application(self, **options: Any) -> Application:
        """A Quix Streams Application on the configured broker, with the request timeout applied."""
        from quixstreams import Application

        options.setdefault("request_timeout", self.timeout_s)
        return Application(broker_address=self._require("kafka_bootstrap", self.kafka_bootstrap), **options)

    def kafka_admin(self) -> Any:
        from confluent_kafka.admin import AdminClient

        return AdminClient({"bootstrap.servers": self._require("kafka_bootstrap", self.kafka_bootstrap), "log_level": 0})

    def describe(self) -> dict[str, str]:
        """Where each service is, with credentials masked: for logs and status output."""
        return {
            "mongo": mask_userinfo(self.mongo_uri.get_secret_value()),
            "rabbitmq": mask_userinfo(self.rabbitmq_url.get_secret_value()),
            "kafka": self.kafka_bootstrap,
            "qdrant": self.qdrant_url or str(self.qdrant_path),
        }


def llm_client(endpoint: LLMEndpointConfig, session: Any = None) -> ChatClient:
    """The chat client of an OpenAI-compatible endpoint; its key is resolved here, from `api_key`."""
    from llm_twin.llm_client import ChatClient

    key = resolve_env(endpoint.api_key, "api_key of an LLM endpoint")
    return ChatClient(endpoint, SecretStr(key) if key else None, session=session)
