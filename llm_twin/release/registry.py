"""The Model Control Plane as the release process sees it: which version holds a stage, stage changes,
and metadata logged on a version (what was deployed when, retraining decisions, rollbacks)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class VersionRef(BaseModel):
    name: str
    number: int
    id: str
    stage: str | None
    metadata: dict[str, Any]


def _ref(mv: Any) -> VersionRef:
    stage = getattr(mv.stage, "value", mv.stage)
    return VersionRef(name=str(mv.name), number=int(mv.number), id=str(mv.id), stage=str(stage) if stage else None,
                      metadata=dict(mv.run_metadata or {}))


def stage_version(model: str, stage: str) -> VersionRef | None:
    """The version of `model` in `stage`, or None (no such model yet, or nothing in that stage)."""
    from zenml.client import Client

    try:
        return _ref(Client().get_model_version(model, stage))
    except KeyError:
        return None
    except Exception as exc:
        text = str(exc).lower()
        if "not found" in text or "no model version" in text or "does not exist" in text:
            return None
        raise


def get_version(model: str, version: str | int) -> VersionRef:
    from zenml.client import Client

    return _ref(Client().get_model_version(model, version))


def list_versions(model: str) -> list[VersionRef]:
    """Newest first; empty when the model does not exist yet."""
    from zenml.client import Client

    try:
        page = Client().list_model_versions(model_name_or_id=model, size=200, sort_by="desc:number")
    except KeyError:
        return []
    return [_ref(mv) for mv in page.items]


def set_stage(model: str, version: str, stage: str) -> None:
    """Move `version` to `stage`; the version holding it before is archived (ZenML's `force`)."""
    from uuid import UUID

    from zenml.client import Client

    Client().update_model_version(model_name_or_id=model, version_name_or_id=UUID(get_version(model, version).id),
                                  stage=stage, force=True)


def log_version_metadata(model: str, version: str, metadata: dict[str, Any]) -> None:
    from zenml import log_metadata

    log_metadata(metadata=metadata, model_name=model, model_version=version)
