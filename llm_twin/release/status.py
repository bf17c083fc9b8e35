"""The release status file (`.twin/release/status.json`): what is served, each deploy attempt (and why one
failed), the model-store tags of every version deployed (so a rollback is a reload, not a redeploy), and the
last retraining decision. Shared by the release process and the rollback command under a file lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from llm_twin.paths import state_dir


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class DeployedModels(BaseModel):
    """The BentoML model-store tags a deploy of one version produced."""

    gguf_model: str
    index_model: str
    bento_tag: str | None = None


class Attempt(BaseModel):
    """One try at putting a version in service."""

    version: str
    started_at: str
    ok: bool
    phase: str  # deploy | reload | probe | done
    error: str | None = None
    seconds: float = 0.0
    deploy_run: str | None = None
    switched_from: str | None = None
    in_flight_on_previous: int | None = None


class ReleaseStatus(BaseModel):
    serving: str | None = None            # the version the service reported last (or built, without a service)
    target: str | None = None             # the version in the watched stage at the last poll
    last_attempt: Attempt | None = None
    failed: dict[str, str] = Field(default_factory=dict)          # version → error; not retried while it is the target
    deployed: dict[str, DeployedModels] = Field(default_factory=dict)
    history: list[str] = Field(default_factory=list)              # versions put in service, oldest first
    retrain: dict[str, Any] | None = None                         # the last retraining decision
    training: dict[str, Any] | None = None                        # the training run started by the trigger
    updated_at: str | None = None


class StatusStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else state_dir("release") / "status.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def read(self) -> ReleaseStatus:
        if not self.path.is_file():
            return ReleaseStatus()
        return ReleaseStatus.model_validate_json(self.path.read_text() or "{}")

    @contextlib.contextmanager
    def update(self) -> Iterator[ReleaseStatus]:
        """Read, let the caller change, write atomically; one writer at a time (release process, rollback)."""
        lock = self.path.with_suffix(".lock")
        with open(lock, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            status = self.read()
            yield status
            status.updated_at = utc_now()
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(status.model_dump(mode="json"), indent=2))
            os.replace(tmp, self.path)

    def log_event(self, event: dict[str, Any]) -> None:
        """Append to `events.jsonl` beside the status file: every deploy, switch, failure and decision."""
        with open(self.path.with_name("events.jsonl"), "a") as out:
            out.write(json.dumps({"at": utc_now(), **event}) + "\n")
