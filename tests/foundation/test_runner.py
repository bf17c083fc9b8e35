"""The runner's config → ZenML mapping, without running a pipeline."""

from __future__ import annotations

from llm_twin.config import compose
from llm_twin.runner import is_command, load_entrypoint, pipeline_options, redact, resolved_config


def test_redact_masks_secrets_and_uri_credentials() -> None:
    data = {
        "infra": {"rabbitmq_url": "amqp://guest:hunter2@mq:5672/", "qdrant_api_key": "abc", "mongo_uri": "mongodb://h:1"},
        "llm": {"api_key": None, "urls": ["https://u:p@x.example/a"]},
    }
    out = redact(data)
    assert out["infra"]["rabbitmq_url"] == "amqp://***@mq:5672/"
    assert out["infra"]["qdrant_api_key"] == "***"
    assert out["infra"]["mongo_uri"] == "mongodb://h:1"
    assert out["llm"]["api_key"] is None
    assert out["llm"]["urls"] == ["https://***@x.example/a"]


def test_gpu_stack_applies_step_operator_only_to_gpu_steps() -> None:
    options = pipeline_options(compose(["stack=gpu"]))
    assert options["steps"] == {"train_model": {"step_operator": "gpu"}}
    assert "steps" not in pipeline_options(compose(["stack=local"]))


def test_resolved_config_drops_hydra_and_keeps_groups() -> None:
    resolved = resolved_config(compose(["pipeline=smoke"]))
    assert "hydra" not in resolved
    assert resolved["pipeline"]["params"]["infra"]["mode"] == "local"


def test_every_pipeline_entrypoint_imports() -> None:
    from llm_twin.config import group_choices

    for name in group_choices("pipeline"):
        pipeline = compose([f"pipeline={name}"]).pipeline
        if pipeline.get("sequence"):
            assert set(pipeline.sequence) <= set(group_choices("pipeline")), name
            continue
        fn = load_entrypoint(pipeline.entrypoint)
        assert hasattr(fn, "with_options") or is_command(fn), name


def test_default_pipeline_is_the_end_to_end_sequence() -> None:
    pipeline = compose().pipeline
    assert pipeline.name == "end_to_end"
    assert list(pipeline.sequence) == ["etl", "features", "train", "deploy"]


def test_stage_config_swaps_pipeline_and_keeps_overrides() -> None:
    from llm_twin.runner import stage_config

    cfg = compose(["pipeline=smoke", "infra.mongo_port=27999"])
    stage = stage_config(cfg, "smoke")
    assert stage.pipeline.name == "smoke"
    assert stage.pipeline.params.infra.mongo_uri == "mongodb://127.0.0.1:27999"
    assert stage.run_name.startswith("smoke-smoke-")


def test_stage_config_rejects_unknown_stage() -> None:
    import pytest

    from llm_twin.runner import RunError, stage_config

    with pytest.raises(RunError, match="unknown pipeline 'nope'"):
        stage_config(compose(), "nope")


def test_pipeline_params_carry_no_literal_secret() -> None:
    from llm_twin.runner import pipeline_params

    cfg = compose(["pipeline=stream", "infra.rabbitmq_url=amqp://twin:hunter2@127.0.0.1:5672/%2F"])
    params = pipeline_params(cfg)
    assert "hunter2" not in str(params)
    assert params["infra"]["rabbitmq_url"].startswith("env:LLM_TWIN_SECRET_RABBITMQ_URL_")


def test_every_pipeline_takes_its_params_as_typed_configs() -> None:
    """The composed params validate against the pipeline function's signature (what ZenML does)."""
    import inspect
    import typing

    from pydantic import TypeAdapter

    from llm_twin.config import group_choices
    from llm_twin.runner import pipeline_params

    for name in group_choices("pipeline"):
        cfg = compose([f"pipeline={name}"])
        if cfg.pipeline.get("sequence") or is_command(load_entrypoint(cfg.pipeline.entrypoint)):
            continue
        fn = load_entrypoint(cfg.pipeline.entrypoint).entrypoint
        hints = typing.get_type_hints(fn)
        params = pipeline_params(cfg)
        assert set(params) == set(inspect.signature(fn).parameters), name
        for key, value in params.items():
            TypeAdapter(hints[key]).validate_python(value)
