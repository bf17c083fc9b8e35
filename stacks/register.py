"""Register a ZenML stack from its YAML spec in this folder, through ZenML's client.

A spec names the stack and its components (name, flavor, configuration; `existing: true` reuses a
registered component). Values are resolved from the environment, so no secret or account id is committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from pydantic import BaseModel, ConfigDict, Field

SPEC_DIR = Path(__file__).resolve().parent


class ComponentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    flavor: str
    existing: bool = False
    configuration: dict[str, Any] = Field(default_factory=dict)


class StackSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stack: str
    components: dict[str, ComponentSpec] = Field(default_factory=dict)


def available_specs() -> list[str]:
    return sorted(p.stem for p in SPEC_DIR.glob("*.yaml"))


def load_spec(name_or_path: str) -> StackSpec:
    path = Path(name_or_path) if name_or_path.endswith(".yaml") else SPEC_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ValueError(f"no stack spec {name_or_path!r}; valid: {', '.join(available_specs())}")
    try:
        data = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except Exception as exc:  # an unset ${oc.env:VAR} names the variable to export
        raise ValueError(f"stack spec {path.name} needs an environment variable: {exc}") from exc
    return StackSpec.model_validate(data)


def register(spec: StackSpec, activate: bool = False) -> str:
    """Create missing components and the stack; idempotent, so re-running after a fix is safe."""
    from zenml.client import Client
    from zenml.enums import StackComponentType

    client = Client()
    if not spec.components:
        return spec.stack  # the built-in default stack
    components: dict[StackComponentType, str] = {}
    for type_name, component in spec.components.items():
        component_type = StackComponentType(type_name)
        try:
            client.get_stack_component(component_type, component.name)
        except KeyError:
            if component.existing:
                raise ValueError(f"{type_name} {component.name!r} is marked existing but is not registered")
            client.create_stack_component(
                name=component.name, flavor=component.flavor, component_type=component_type,
                configuration=component.configuration,
            )
        components[component_type] = component.name
    try:
        client.get_stack(spec.stack)
    except KeyError:
        client.create_stack(name=spec.stack, components=components)
    if activate:
        client.activate_stack(spec.stack)
    return spec.stack
