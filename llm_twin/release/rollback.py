"""Rollback: the previous production version back in service, in one command.

"Previous" is the newest version other than the current production that the release process put in
service (its `release` metadata in the Model Control Plane; the status file's history as a fallback). The
stage change goes through the Model Control Plane (the current production version is archived), then the
version is released: a reload of its stored models when they are still in the model store (seconds), a
deploy otherwise. A running release process sees production and service agree and does nothing more.
"""

from __future__ import annotations

import logging

from llm_twin.config import ReleaseConfig
from llm_twin.release.deployer import release
from llm_twin.release.registry import (
    VersionRef,
    list_versions,
    log_version_metadata,
    set_stage,
    stage_version,
)
from llm_twin.release.service import TwinService
from llm_twin.release.status import Attempt, StatusStore, utc_now

log = logging.getLogger("llm_twin.release")


class RollbackError(RuntimeError):
    pass


def previous_version(versions: list[VersionRef], current: str | None, history: list[str]) -> str | None:
    """The version served before `current`: by the `release.deployed_at` metadata, else by the history."""
    deployed = sorted(((str(v.metadata["release"].get("deployed_at", "")), v.name) for v in versions
                       if v.name != current and isinstance(v.metadata.get("release"), dict)), reverse=True)
    if deployed:
        return deployed[0][1]
    names = {v.name for v in versions}
    for name in reversed(history):
        if name != current and name in names:
            return name
    return None


def rollback(cfg: ReleaseConfig, to: str | None = None, passthrough: list[str] | None = None) -> Attempt:
    store = StatusStore(cfg.state_file)
    current = stage_version(cfg.model_name, cfg.stage)
    current_name = current.name if current else None
    target = to or previous_version(list_versions(cfg.model_name), current_name, store.read().history)
    if target is None:
        raise RollbackError(f"no earlier {cfg.stage} version of {cfg.model_name!r} was put in service: nothing to "
                            f"roll back to (name one with pipeline.params.version=<v>)")
    if target == current_name:
        raise RollbackError(f"version {target} already holds {cfg.stage}: name another one with pipeline.params.version")
    log.info("rollback: %s %s → %s", cfg.stage, current_name, target)
    set_stage(cfg.model_name, target, cfg.stage)
    log_version_metadata(cfg.model_name, target, {"rollback": {"from": current_name, "at": utc_now()}})
    service = TwinService(cfg.service_url, cfg.api_key_env) if cfg.service_url else None
    attempt = release(target, cfg, store, service, passthrough)
    store.log_event({"event": "rollback", "from": current_name, "to": target, "ok": attempt.ok})
    if not attempt.ok:
        raise RollbackError(f"{target} holds {cfg.stage} again, but it could not be put in service: {attempt.error}")
    return attempt
