"""Composing the Hydra config outside `run.py` (entry points, tests, benchmarks).

Every entry point of the project takes Hydra overrides (`infra.mongo_port=27018 stream.bounded=true`), so
this is the one way to read configuration: compose `conf/` (plus any extra config folder) and validate
the groups with their schemas. Group choices are checked first: Hydra's own error for a missing option
is a multi-line message, ours is one line naming the valid options.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig

from llm_twin.config.base import Schema
from llm_twin.config.registry import GROUP_SCHEMAS, SELECTABLE_GROUPS
from llm_twin.paths import CONF_DIR

S = TypeVar("S", bound=Schema)


class ConfigChoiceError(ValueError):
    """An override names a config option that does not exist."""


def group_choices(group: str, config_dirs: Iterable[Path] = ()) -> list[str]:
    """The options of a group: `<dir>/<group>/*.yaml` in conf/ and any extra config folder."""
    names = {p.stem for d in (CONF_DIR, *config_dirs) for p in (Path(d) / group).glob("*.yaml")}
    return sorted(names)


def validate_choices(overrides: Sequence[str], config_dirs: Iterable[Path] = ()) -> None:
    """Raise ConfigChoiceError for `group=name` overrides whose YAML file exists nowhere."""
    dirs = list(config_dirs)
    for override in overrides:
        key, sep, value = override.partition("=")
        key = key.lstrip("+~")
        if not sep or key not in SELECTABLE_GROUPS:
            continue
        valid = group_choices(key, dirs)
        for choice in value.split(","):  # multirun: model=smollm2,mistral
            if choice and choice not in valid:
                raise ConfigChoiceError(f"unknown {key} '{choice}'; valid {key} choices: {', '.join(valid)}")


def compose(overrides: Sequence[str] = (), config_dir: Path | None = None) -> DictConfig:
    """The composed config, as `python run.py <overrides>` sees it (`config_dir` adds a config folder
    searched before conf/, like Hydra's `--config-dir`)."""
    return _compose(tuple(overrides), str(config_dir) if config_dir else None).copy()


@lru_cache(maxsize=32)
def _compose(overrides: tuple[str, ...], config_dir: str | None) -> DictConfig:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    extra = [Path(config_dir)] if config_dir else []
    validate_choices(overrides, extra)
    search = [f"hydra.searchpath=[file://{config_dir}]"] if config_dir else []
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=[*search, *overrides])


def group(cfg: DictConfig, name: str) -> Schema:
    """One group of a composed config, validated by its schema."""
    return GROUP_SCHEMAS[name].of(cfg[name])


def load_group(name: str, overrides: Sequence[str] = (), schema: type[S] | None = None) -> Any:
    """A group's validated config as composed from conf/ (the defaults list, plus `overrides`).

    The YAML files are the only source of defaults: code and tests that need "the default serving
    config" ask for it here instead of constructing a model with defaults of its own.
    """
    model = group(compose(overrides), name)
    if schema is not None and not isinstance(model, schema):
        raise TypeError(f"group {name!r} is validated by {type(model).__name__}, not {schema.__name__}")
    return model
