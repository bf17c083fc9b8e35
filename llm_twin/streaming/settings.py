"""Everything the watcher and the stream app need, from pipeline params, a JSON file, or conf/ directly.

Long-running processes are started outside `run.py`, so they read the same YAML groups themselves
(`conf/infra/<name>.yaml`, `conf/embedding/<name>.yaml`, `conf/features/<name>.yaml`) with dotted
overrides; environment interpolation (`${oc.env:...}`) keeps secrets out of the files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llm_twin.config import to_plain
from llm_twin.features.config import EmbeddingConfig, FeaturesConfig
from llm_twin.paths import CONF_DIR
from llm_twin.settings import Connections

# Connections fields that may carry a secret. A settings file for a child process holds an `env:NAME`
# reference for each of them, never the value: the child resolves it from the environment it inherits.
SECRET_FIELDS = ("rabbitmq_url", "qdrant_api_key", "mongo_uri")
# Fields Connections resolves from `env:NAME` references; a reference given in the config is kept as is.
ENV_FIELDS = ("mongo_uri", "mongo_database", "rabbitmq_url", "kafka_bootstrap", "qdrant_url", "qdrant_api_key")
EXPORT_PREFIX = "LLM_TWIN_CHILD_"  # env variables that carry literal secrets from a parent to its children


def _is_secret(field: str, value: str | None) -> bool:
    if not value:
        return False
    if field == "mongo_uri":  # a URI is a secret only when it embeds credentials
        try:
            return urlsplit(value).password is not None
        except ValueError:
            return True
    return True


class StreamSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connections: Connections
    embedding: EmbeddingConfig
    features: FeaturesConfig
    # `env:NAME` references the connections were configured with (field -> reference), kept so that
    # `dump` can write the reference instead of the resolved value.
    env_refs: dict[str, str] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _remember_env_refs(cls, data: Any) -> Any:
        """Capture `env:` references before Connections resolves them (its validator drops them)."""
        if isinstance(data, dict) and isinstance(data.get("connections"), dict):
            refs = dict(data.get("env_refs") or {})
            for name in ENV_FIELDS:
                value = data["connections"].get(name)
                if isinstance(value, str) and value.startswith("env:"):
                    refs[name] = value
            data = {**data, "env_refs": refs}
        return data

    @classmethod
    def from_params(cls, infra: Any, embedding: Any, features: Any) -> StreamSettings:
        if isinstance(infra, Connections):
            connections, refs = infra, {}
        else:
            raw = to_plain(infra)
            connections = Connections.from_config(raw)
            refs = {k: v for k, v in raw.items() if k in ENV_FIELDS and isinstance(v, str) and v.startswith("env:")}
        return cls(
            connections=connections,
            embedding=EmbeddingConfig.model_validate(to_plain(embedding)),
            features=FeaturesConfig.model_validate(to_plain(features)),
            env_refs=refs,
        )

    @classmethod
    def compose(
        cls, infra: str = "local", embedding: str = "minilm", features: str = "default", overrides: list[str] | None = None
    ) -> StreamSettings:
        """Read the named YAML of each group; overrides like `infra.kafka_port=9093`."""
        from omegaconf import OmegaConf

        root = OmegaConf.create(
            {
                "infra": OmegaConf.load(CONF_DIR / "infra" / f"{infra}.yaml"),
                "embedding": OmegaConf.load(CONF_DIR / "embedding" / f"{embedding}.yaml"),
                "features": OmegaConf.load(CONF_DIR / "features" / f"{features}.yaml"),
            }
        )
        root = OmegaConf.merge(root, OmegaConf.from_dotlist(overrides or []))
        data = OmegaConf.to_container(root, resolve=True)
        return cls.from_params(data["infra"], data["embedding"], data["features"])  # type: ignore[index]

    def dump(self, path: Path) -> Path:
        """Write the settings for a child process (`--settings FILE`) with no secret in the file.

        Every field configured as `env:NAME` is written as that reference. A secret given literally
        (e.g. a broker URL with its password) is exported to an `LLM_TWIN_CHILD_<FIELD>` variable of
        this process and written as a reference to it: children started afterwards inherit the
        environment and resolve it when they load the file; the value itself never touches the disk.
        """
        data = json.loads(self.model_dump_json())
        conns = data["connections"]
        for name in ENV_FIELDS:
            if name in self.env_refs:
                conns[name] = self.env_refs[name]
        for name in SECRET_FIELDS:
            if name in self.env_refs:
                continue
            value = getattr(self.connections, name)
            plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            if _is_secret(name, plain):
                var = EXPORT_PREFIX + name.upper()
                os.environ[var] = plain
                conns[name] = f"env:{var}"
        path.write_text(json.dumps(data))
        os.chmod(path, 0o600)
        return path

    def child_env(self) -> dict[str, str]:
        """The variables a child needs to load a dumped file (for spawners that build `env=` themselves)."""
        return {k: v for k, v in os.environ.items() if k.startswith(EXPORT_PREFIX)}

    @classmethod
    def load(cls, path: Path) -> StreamSettings:
        return cls.model_validate_json(Path(path).read_text())


def settings_from_args(args: Any) -> StreamSettings:
    """`--settings FILE` or the named conf groups plus dotted overrides (shared by both entry points)."""
    if getattr(args, "settings", None):
        return StreamSettings.load(args.settings)
    return StreamSettings.compose(args.infra, args.embedding, args.features, args.overrides)


def add_settings_args(parser: Any) -> None:
    parser.add_argument("--settings", type=Path, help="JSON written by StreamSettings.dump (tests, child processes)")
    parser.add_argument("--infra", default=os.environ.get("LLM_TWIN_INFRA", "local"))
    parser.add_argument("--embedding", default="minilm")
    parser.add_argument("--features", default="default")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. infra.kafka_port=9093")
