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

from pydantic import BaseModel, ConfigDict

from llm_twin.features.config import EmbeddingConfig, FeaturesConfig, to_plain
from llm_twin.paths import CONF_DIR
from llm_twin.settings import Connections


class StreamSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connections: Connections
    embedding: EmbeddingConfig
    features: FeaturesConfig

    @classmethod
    def from_params(cls, infra: Any, embedding: Any, features: Any) -> "StreamSettings":
        return cls(
            connections=infra if isinstance(infra, Connections) else Connections.from_config(to_plain(infra)),
            embedding=EmbeddingConfig.model_validate(to_plain(embedding)),
            features=FeaturesConfig.model_validate(to_plain(features)),
        )

    @classmethod
    def compose(
        cls, infra: str = "local", embedding: str = "minilm", features: str = "default", overrides: list[str] | None = None
    ) -> "StreamSettings":
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
        """Write for a child process; the file holds the broker URL with its password (mode 0600)."""
        data = json.loads(self.model_dump_json())
        data["connections"]["rabbitmq_url"] = self.connections.rabbitmq_url.get_secret_value()
        key = self.connections.qdrant_api_key
        data["connections"]["qdrant_api_key"] = key.get_secret_value() if key else None
        path.write_text(json.dumps(data))
        os.chmod(path, 0o600)
        return path

    @classmethod
    def load(cls, path: Path) -> "StreamSettings":
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
