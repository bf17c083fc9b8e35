"""How the release process starts its runs: the overrides it passes on, the `--config-dir` it keeps, and
the error line it reports from a failed run's log; the status file's locking round trip."""

from __future__ import annotations

from pathlib import Path

from llm_twin.release.commands import config_dir_args, passthrough_overrides, run_argv
from llm_twin.release.deployer import _last_error
from llm_twin.release.status import Attempt, StatusStore


def test_config_dirs_are_passed_on() -> None:
    argv = ["--config-dir", "/a", "pipeline=release", "--config-dir=/b", "-cd", "/c", "model=x"]
    assert config_dir_args(argv) == ["--config-dir", "/a", "--config-dir=/b", "--config-dir", "/c"]


def test_outside_hydra_nothing_is_passed_on() -> None:
    assert passthrough_overrides() == []
    argv = run_argv("deploy", ["pipeline.params.version='3'"])
    assert argv[1].endswith("run.py") and "pipeline=deploy" in argv and argv[-1] == "pipeline.params.version='3'"


def test_the_step_error_is_reported_not_the_pipeline_wrapper(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("Step export_served_model failed.\nTraceback (most recent call last):\n"
                   "safetensors_rust.SafetensorError: Error while deserializing header: header too large\n"
                   "RuntimeError: Pipeline run has failed due to failure in step(s): export_served_model\n"
                   "Set the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace.\n")
    assert _last_error(log).startswith("safetensors_rust.SafetensorError: Error while deserializing header")
    (tmp_path / "other.log").write_text("error: ZenML stack 'gpu' (stack=gpu) is not registered\n")
    assert _last_error(tmp_path / "other.log").startswith("error: ZenML stack 'gpu'")


def test_status_round_trip(tmp_path: Path) -> None:
    store = StatusStore(tmp_path / "status.json")
    assert store.read().serving is None
    with store.update() as status:
        status.serving = "2"
        status.last_attempt = Attempt(version="2", started_at="t", ok=False, phase="reload", error="boom")
    again = store.read()
    assert again.serving == "2" and again.last_attempt is not None and again.last_attempt.error == "boom"
    assert again.updated_at
