"""Put one model version in service: deploy it (the `pipeline=deploy` run), switch the running service to
the new models (`/admin/reload`: loaded beside the old one, requests in flight finish on the old one),
probe the new model, and switch back when the probe fails. Every failure leaves the old version serving
and is recorded (status file, events log, release log)."""

from __future__ import annotations

import logging
import re
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from llm_twin.config import ReleaseConfig
from llm_twin.paths import PROJECT_ROOT, state_dir
from llm_twin.release.commands import passthrough_overrides, run_argv
from llm_twin.release.service import ServiceError, TwinService
from llm_twin.release.status import Attempt, DeployedModels, StatusStore, utc_now

log = logging.getLogger("llm_twin.release")


class DeployFailed(RuntimeError):
    def __init__(self, message: str, phase: str) -> None:
        super().__init__(message)
        self.phase = phase


def deploy_version(version: str, cfg: ReleaseConfig, passthrough: list[str] | None = None) -> tuple[DeployedModels, str]:
    """`python run.py pipeline=deploy pipeline.params.version=<version>` (no base-model fallback); returns the
    model-store tags the run logged and the run's name."""
    from zenml.client import Client

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_name = f"release-deploy-{version}-{stamp}"
    overrides = [*(passthrough_overrides() if passthrough is None else passthrough), *cfg.deploy_overrides,
                 f"pipeline.params.version='{version}'", "pipeline.params.allow_base_fallback=false",
                 f"run_name={run_name}"]
    log_path = state_dir("release") / f"{run_name}.log"
    argv = run_argv("deploy", overrides)
    log.info("deploying %s: %s (log: %s)", version, " ".join(argv[1:]), log_path)
    with open(log_path, "w") as out:
        try:
            proc = subprocess.run(argv, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=cfg.deploy_timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise DeployFailed(f"the deploy run took longer than release.deploy_timeout_s={cfg.deploy_timeout_s}; "
                               f"see {log_path}", "deploy") from exc
    if proc.returncode != 0:
        raise DeployFailed(f"the deploy run failed (exit {proc.returncode}): {_last_error(log_path)} (log: {log_path})",
                           "deploy")
    meta = Client().get_pipeline_run(run_name).steps["build_twin_bento"].run_metadata
    return DeployedModels(gguf_model=str(meta["gguf_model"]), index_model=str(meta["index_model"]),
                          bento_tag=str(meta["bento"])), run_name


def _last_error(log_path: Path) -> str:
    """The most telling line of a failed run's log: the last exception or error line."""
    lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Failed)\b", line) or line.startswith("error:")]
    causes = [line for line in errors if "Pipeline run has failed" not in line]  # the step's own exception first
    chosen = causes or errors or lines[-1:]
    return chosen[-1][:400] if chosen else "no output"


def release(version: str, cfg: ReleaseConfig, store: StatusStore, service: TwinService | None,
            passthrough: list[str] | None = None, redeploy: bool = False) -> Attempt:
    """Deploy `version` (or reuse the models of an earlier deploy of it) and move the service to it."""
    started, t0 = utc_now(), time.perf_counter()
    attempt = Attempt(version=version, started_at=started, ok=False, phase="deploy")
    try:
        models = None if redeploy else store.read().deployed.get(version)
        if models is not None and service is not None:
            try:  # a version deployed before (a rollback): its models are still in the store
                _switch(version, models, cfg, service, attempt)
            except DeployFailed as exc:
                if exc.phase != "reload-missing":
                    raise
                log.info("models of %s are gone from the store (%s): deploying again", version, exc)
                models = None
        if models is None or service is None:
            attempt.phase = "deploy"
            models, attempt.deploy_run = deploy_version(version, cfg, passthrough)
            with store.update() as status:
                status.deployed[version] = models
            if service is not None:
                _switch(version, models, cfg, service, attempt)
        attempt.ok, attempt.phase = True, "done"
    except (DeployFailed, ServiceError) as exc:
        attempt.error = str(exc)
        attempt.phase = getattr(exc, "phase", attempt.phase).replace("reload-missing", "reload")
        log.error("release of %s failed at %s; the service keeps what it serves: %s", version, attempt.phase, exc)
    attempt.seconds = round(time.perf_counter() - t0, 2)
    with store.update() as status:
        status.last_attempt = attempt
        if attempt.ok:
            status.failed.pop(version, None)
            status.serving = version
            status.history.append(version)
        elif attempt.phase != "unreachable":  # a service that is down is retried; a broken version is not
            status.failed[version] = attempt.error or "failed"
    store.log_event({"event": "release", **attempt.model_dump()})
    return attempt


def _switch(version: str, models: DeployedModels, cfg: ReleaseConfig, service: TwinService, attempt: Attempt) -> None:
    attempt.phase = "reload"
    previous = service.served_version()
    try:
        report = service.reload(models.gguf_model, models.index_model, cfg.reload_timeout_s)
    except ServiceError as exc:
        if exc.status == 0:  # not running: the next `bentoml serve llm_twin:latest` serves the new bento
            raise DeployFailed(f"built, but not switched (retried at the next poll): {exc}", "unreachable") from exc
        raise DeployFailed(str(exc), "reload-missing" if exc.status == 404 else "reload") from exc
    attempt.switched_from = str(report.get("previous_version", previous))
    attempt.in_flight_on_previous = report.get("in_flight_on_previous")
    log.info("the service now serves %s (was %s; %s requests finished on it)", version, attempt.switched_from,
             attempt.in_flight_on_previous)
    if not cfg.probe:
        return
    attempt.phase = "probe"
    try:
        answered = service.probe()
        if answered != version:
            raise ServiceError(f"the probe was answered by version {answered}, not {version}")
    except ServiceError as exc:
        log.error("the new model %s failed its probe (%s): switching back", version, exc)
        _switch_back(attempt.switched_from, cfg, service)
        raise DeployFailed(f"the new model failed its probe and the service was switched back to "
                           f"{attempt.switched_from}: {exc}", "probe") from exc


def _switch_back(previous: str | None, cfg: ReleaseConfig, service: TwinService) -> None:
    store = StatusStore(cfg.state_file)
    models = store.read().deployed.get(previous or "")
    if models is None:
        log.error("no stored models of %s to switch back to; the new model stays", previous)
        return
    service.reload(models.gguf_model, models.index_model, cfg.reload_timeout_s)
