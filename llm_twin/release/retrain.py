"""Start and follow the training run the policy asked for (`python run.py pipeline=train` in a child
process, so the release process keeps watching promotions meanwhile), and store the decision that started
it on the model version the run registered (`retrain_trigger` metadata)."""

from __future__ import annotations

import logging
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

from llm_twin.config import RetrainConfig
from llm_twin.paths import PROJECT_ROOT, state_dir
from llm_twin.release.commands import run_argv
from llm_twin.release.status import StatusStore, utc_now
from llm_twin.release.trigger import RetrainDecision

log = logging.getLogger("llm_twin.release")


class TrainingRun:
    def __init__(self, proc: subprocess.Popen[bytes], run_name: str, log_path: str, started: float,
                 decision: RetrainDecision) -> None:
        self.proc, self.run_name, self.log_path, self.started, self.decision = proc, run_name, log_path, started, decision

    def describe(self, **extra: Any) -> dict[str, Any]:
        return {"run_name": self.run_name, "pid": self.proc.pid, "log": self.log_path,
                "started_at": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds"), **extra}


def start_training(decision: RetrainDecision, cfg: RetrainConfig, passthrough: list[str]) -> TrainingRun:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_name = f"retrain-{stamp}"
    log_path = state_dir("release") / f"{run_name}.log"
    argv = run_argv("train", [*passthrough, *cfg.train_overrides, f"run_name={run_name}"])
    log.info("retraining: %s (log: %s)", " ".join(argv[1:]), log_path)
    with open(log_path, "w") as out:
        proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
    return TrainingRun(proc, run_name, str(log_path), time.time(), decision)


def follow(run: TrainingRun, cfg: RetrainConfig, model: str, store: StatusStore) -> bool:
    """True once the run has ended (its outcome recorded); kills a run past `retrain.train_timeout_s`."""
    code = run.proc.poll()
    if code is None and time.time() - run.started > cfg.train_timeout_s:
        log.error("training run %s passed retrain.train_timeout_s=%d: stopping it", run.run_name, cfg.train_timeout_s)
        run.proc.kill()
        code = run.proc.wait()
    if code is None:
        return False
    version = _registered_version(run.run_name)  # a failed run may have registered its version too
    outcome = run.describe(ended_at=utc_now(), exit_code=code, model_version=version,
                           seconds=round(time.time() - run.started, 1))
    if version is not None:
        from llm_twin.release.registry import get_version, log_version_metadata

        log_version_metadata(model, version, {"retrain_trigger": run.decision.model_dump(mode="json")})
        outcome["stage"] = get_version(model, version).stage
        log.info("training run %s registered %s version %s (stage %s)", run.run_name, model, version, outcome["stage"])
    if code != 0:
        log.error("training run %s failed (exit %s); see %s", run.run_name, code, run.log_path)
    with store.update() as status:
        status.training = outcome
    store.log_event({"event": "training_finished", **outcome})
    return True


def _registered_version(run_name: str) -> str | None:
    from zenml.client import Client

    try:
        mv = Client().get_pipeline_run(run_name).model_version
    except KeyError:
        return None
    return str(mv.name) if mv is not None else None
