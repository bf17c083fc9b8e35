"""Composing the Hydra config outside `run.py` (CLIs, tests) and validating group choices up front.

Hydra's own error for a missing option is a multi-line traceback-like message; checking the choices
first gives the one-line error naming the valid options that users (and scripts) can act on.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from llm_twin.paths import CONF_DIR

# Groups whose value a user picks on the command line (`pipeline=etl model=mistral ...`).
SELECTABLE_GROUPS = (
    "pipeline", "model", "embedding", "infra", "stack", "author", "crawl", "features", "dataset",
    "training", "evaluation", "retrieval", "serving", "monitoring",
)


class ConfigChoiceError(ValueError):
    """An override names a config option that does not exist."""


def group_choices(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def validate_choices(overrides: list[str]) -> None:
    """Raise ConfigChoiceError for `group=name` overrides whose `conf/<group>/<name>.yaml` is missing."""
    for override in overrides:
        key, sep, value = override.partition("=")
        key = key.lstrip("+~")
        if not sep or key not in SELECTABLE_GROUPS:
            continue
        for choice in value.split(","):  # multirun: model=smollm2,mistral
            if choice and choice not in group_choices(key):
                raise ConfigChoiceError(
                    f"unknown {key} '{choice}'; valid {key} choices: {', '.join(group_choices(key))}"
                )


def compose(overrides: list[str] | None = None) -> DictConfig:
    """The composed config, as `python run.py <overrides>` would see it (without Hydra's runtime)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    overrides = list(overrides or [])
    validate_choices(overrides)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=overrides)


def to_plain(node: Any) -> dict[str, Any]:
    """A config node as a plain dict: steps receive plain dicts from ZenML, library callers a DictConfig
    or a pydantic model; every settings model's `from_config` accepts all three through this."""
    if node is None:
        return {}
    if isinstance(node, DictConfig):
        return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
    if hasattr(node, "model_dump"):
        return node.model_dump()
    return dict(node)
