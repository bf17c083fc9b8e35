"""ZenML Model Control Plane access for the twin: find a version of model `llm_twin`, materialise its
merged model once into a local cache, and set stages.

Deploy (and evaluation's production comparison) call `load_model_version("production")`: it returns a
folder `AutoModelForCausalLM.from_pretrained` loads, plus the version name. The artifact store keeps
the merged model as a tar.gz (ZenML's PathMaterializer); extracting ~0.5 GB on every load would be slow,
so the extracted folder is cached under `.twin/models/registry/<model>-<version>-<artifact id>`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from llm_twin.paths import state_dir

MODEL_NAME = "llm_twin"
MERGED_ARTIFACT = "merged_model"
ADAPTER_ARTIFACT = "lora_adapter"


class ModelVersionNotFound(LookupError):
    """No such version/stage of the model in the Model Control Plane."""


def get_model_version(version: str | int | None = "production", name: str = MODEL_NAME) -> Any:
    """The ModelVersionResponse for a stage (production/staging/latest), a number or a version name."""
    from zenml.client import Client

    try:
        return Client().get_model_version(name, version)
    except KeyError as exc:
        raise ModelVersionNotFound(
            f"model {name!r} has no version {version!r}: run `python run.py pipeline=train`"
        ) from exc
    except Exception as exc:
        if "not found" in str(exc).lower() or "no model version" in str(exc).lower() or "does not exist" in str(exc).lower():
            raise ModelVersionNotFound(f"model {name!r} has no version {version!r}: {exc}") from exc
        raise


def materialise(artifact: Any, cache_key: str) -> Path:
    """Load a Path artifact once into `.twin/models/registry/<cache_key>` and return that folder."""
    target = state_dir("models", "registry") / cache_key
    if (target / ".complete").is_file():
        return target
    loaded = Path(artifact.load())
    tmp = target.with_name(target.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.move(str(loaded), str(tmp))
    (tmp / ".complete").write_text(str(artifact.id))
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target


def load_model_version(
    version: str | int | None = "production", name: str = MODEL_NAME, artifact: str = MERGED_ARTIFACT
) -> tuple[Path, str]:
    """(local folder of the merged model, version name) for a stage / number / name of `llm_twin`."""
    mv = get_model_version(version, name)
    art = mv.get_artifact(artifact)
    if art is None:
        raise ModelVersionNotFound(f"version {mv.name!r} of {name!r} has no {artifact!r} artifact")
    return materialise(art, f"{name}-{mv.name}-{artifact}-{str(art.id)[:8]}"), str(mv.name)


def production_version(name: str = MODEL_NAME) -> Any | None:
    try:
        return get_model_version("production", name)
    except ModelVersionNotFound:
        return None
