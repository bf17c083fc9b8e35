"""`conf/release/*.yaml` and `conf/retrain/*.yaml`: the continuous twin (llm_twin/release).

The release process watches the Model Control Plane and moves the running service to the version in
`release.stage`; the retraining policy decides, from the warehouse, when new content is worth a training
run. Both are read by `python run.py pipeline=release`.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from llm_twin.config.base import Schema


class ReleaseConfig(Schema):
    model_name: str = Field(min_length=1, description="the Model Control Plane model watched")
    stage: str = Field(pattern=r"^(production|staging)$", description="the stage that is served")
    service_url: str | None = Field(description="the running twin service (null: build the bento only)")
    api_key_env: str = Field(min_length=1, description="env var holding the service's API key, if it has one")
    poll_interval_s: float = Field(gt=0)
    max_cycles: int | None = Field(ge=1, description="stop after this many polls (null: run until stopped)")
    deploy_timeout_s: int = Field(ge=10, description="the longest a deploy run may take")
    reload_timeout_s: float = Field(gt=0, description="the longest the service may take to load a new model")
    probe: bool = Field(description="after a switch, one short /generate on the new model; failing it switches back")
    deploy_overrides: list[str] = Field(description="extra Hydra overrides of the deploy run")
    state_file: str | None = Field(description="status file (null: .twin/release/status.json)")


class RetrainConfig(Schema):
    enabled: bool
    min_new_documents: int | None = Field(ge=1, description="new or changed documents that trigger a run")
    min_corpus_share: float | None = Field(gt=0, le=1, description="…or this share of the author's corpus")
    data_types: list[str] = Field(min_length=1, description="warehouse collections counted (posts, articles, repositories)")
    check_every_cycles: int = Field(ge=1, description="check the policy every N release polls")
    train_overrides: list[str] = Field(description="extra Hydra overrides of the training run")
    train_timeout_s: int = Field(ge=60)

    @model_validator(mode="after")
    def _some_threshold(self) -> RetrainConfig:
        if self.enabled and self.min_new_documents is None and self.min_corpus_share is None:
            raise ValueError("retrain.enabled needs a threshold: set retrain.min_new_documents and/or "
                             "retrain.min_corpus_share")
        return self
