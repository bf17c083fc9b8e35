"""Turn a composed Hydra config into a ZenML pipeline run.

`run.py` stays a thin Hydra entry point; this module does the work: start the local services the
pipeline needs, activate the configured ZenML stack, map config to `with_options` (run name, Model
Control Plane model, step operators) and pipeline parameters, and log the resolved config on the run.
"""

from __future__ import annotations

import importlib
import logging
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf

from llm_twin.config import InfraConfig, PipelineConfig, StackConfig
from llm_twin.connections import Connections, mask_userinfo, referenced
from llm_twin.infra.services import LocalServices
from llm_twin.paths import twin_home

log = logging.getLogger(__name__)
for _noisy in ("pika", "quixstreams", "httpx", "urllib3"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

_SECRET_KEY = re.compile(r"(key|token|password|secret)", re.IGNORECASE)


class RunError(RuntimeError):
    """The run cannot start as configured; the message says what to change."""


def redact(value: Any, key: str = "") -> Any:
    """Copy of a config tree safe to log: secrets masked, credentials stripped from URIs."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if _SECRET_KEY.search(key) and value and not value.startswith("env:"):
            return "***"
        return mask_userinfo(value)
    return value


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    data = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    assert isinstance(data, dict)
    data.pop("hydra", None)
    return {str(k): v for k, v in data.items()}


def command(fn: Any) -> Any:
    """Mark a function as a pipeline `entrypoint` that is a process, not a ZenML run (e.g. the long-running
    release process): `run.py` calls it with the composed config, after starting the services it needs."""
    fn.__twin_command__ = True
    return fn


def is_command(entry: Any) -> bool:
    return callable(entry) and bool(getattr(entry, "__twin_command__", False))


def load_entrypoint(path: str) -> Any:
    module_name, _, attr = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise RunError(f"pipeline entrypoint {path!r} cannot be imported: {exc}") from exc


def activate_stack(stack_cfg: StackConfig) -> None:
    from zenml.client import Client

    client = Client()
    name = stack_cfg.zenml_stack
    if client.active_stack_model.name == name:
        return
    try:
        client.activate_stack(name)
    except KeyError as exc:
        raise RunError(
            f"ZenML stack {name!r} (stack={stack_cfg.name}) is not registered: register it with "
            f"`python -m stacks register {stack_cfg.name}` (spec: stacks/{stack_cfg.name}.yaml), "
            f"or run with stack=local"
        ) from exc


def pipeline_options(cfg: DictConfig) -> dict[str, Any]:
    from zenml import Model

    options: dict[str, Any] = {"run_name": cfg.run_name, "enable_cache": bool(cfg.enable_cache)}
    pipeline_cfg = PipelineConfig.of(cfg.pipeline)
    if pipeline_cfg.model is not None:
        options["model"] = Model(**pipeline_cfg.model.model_dump(exclude_none=True))
    stack = StackConfig.of(cfg.stack)
    if stack.step_operator:
        options["steps"] = {name: {"step_operator": stack.step_operator} for name in stack.gpu_steps}
    return options


def start_services(cfg: DictConfig) -> Connections:
    connections = Connections.of(cfg.infra)
    needed: list[str] = list(PipelineConfig.of(cfg.pipeline).services)
    if connections.mode == "local" and needed:
        LocalServices(connections, twin_home()).start(needed)
    return connections


def stage_config(cfg: DictConfig, name: str) -> DictConfig:
    """`cfg` with its pipeline group swapped for `conf/pipeline/<name>.yaml` (other choices and overrides kept)."""
    from llm_twin.config import group_choices
    from llm_twin.paths import CONF_DIR

    if name not in group_choices("pipeline"):
        raise RunError(f"sequence names unknown pipeline {name!r}; valid: {', '.join(group_choices('pipeline'))}")
    stage = cfg.copy()
    OmegaConf.set_struct(stage, False)
    stage.pipeline = OmegaConf.load(CONF_DIR / "pipeline" / f"{name}.yaml")
    stage.run_name = f"{name}-{cfg.run_name}"
    return stage


def run_pipeline(cfg: DictConfig) -> Any:
    """Run the configured pipeline (or each stage of a `sequence:`); return the last ZenML run response."""
    sequence = cfg.pipeline.get("sequence")
    if sequence:
        run = None
        for name in sequence:
            print(f"\n=== {cfg.pipeline.name}: stage {name} ===")
            run = run_pipeline(stage_config(cfg, name))
            if run is not None and str(run.status) != "completed":
                raise RunError(f"stage {name} ended {run.status}; later stages were not run")
        return run
    return _run_single(cfg)


def _run_single(cfg: DictConfig) -> Any:
    from zenml import log_metadata

    from llm_twin.zenml_env import ensure_repository

    ensure_repository()
    activate_stack(StackConfig.of(cfg.stack))  # before starting anything: a missing stack is a config error
    start_services(cfg)
    pipeline_fn = load_entrypoint(cfg.pipeline.entrypoint)
    if is_command(pipeline_fn):
        pipeline_fn(cfg)
        return None
    params = pipeline_params(cfg)
    run = pipeline_fn.with_options(**pipeline_options(cfg))(**params)
    if run is not None:
        log_metadata(metadata={"hydra_config": redact(resolved_config(cfg))}, run_id_name_or_prefix=run.id)
        print_summaries(run)
    return run


def pipeline_params(cfg: DictConfig) -> dict[str, Any]:
    """The pipeline's parameters; an `infra` parameter carries references, never a literal secret (ZenML
    records every parameter with the run)."""
    params = OmegaConf.to_container(cfg.pipeline.params, resolve=True) or {}
    assert isinstance(params, dict)
    if "infra" in params:
        params["infra"] = referenced(InfraConfig.of(params["infra"])).model_dump()
    return {str(k): v for k, v in params.items()}


def print_summaries(run: Any) -> None:
    """Print the run's text outputs named `*_summary` (a pipeline's closing table for the user)."""
    for step in run.steps.values():
        for name, artifacts in step.outputs.items():
            if name.endswith("summary") and artifacts:
                value = artifacts[0].load()
                if isinstance(value, str):
                    print(f"\n{name}:\n{value}")
