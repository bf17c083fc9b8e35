"""The release process: one poll (`cycle`) every `release.poll_interval_s`.

1. Which version holds `release.stage` (production) in the Model Control Plane, and which one does the
   service report in `/info`? When they differ, put the stage's version in service (deployer). A version
   whose release failed is not retried while it holds the stage (promote another one, or fix and run
   `pipeline=deploy`); a service that is down is retried.
2. Every `retrain.check_every_cycles` polls, the retraining policy (trigger) on the warehouse; when it is
   met and no training run of ours is running, start `pipeline=train` in the background.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from llm_twin.config import AuthorConfig, InfraConfig, ReleaseConfig, RetrainConfig
from llm_twin.connections import Connections
from llm_twin.release.commands import passthrough_overrides
from llm_twin.release.deployer import release
from llm_twin.release.registry import list_versions, log_version_metadata, stage_version
from llm_twin.release.retrain import TrainingRun, follow, start_training
from llm_twin.release.service import TwinService
from llm_twin.release.status import Attempt, StatusStore, utc_now
from llm_twin.release.trigger import RetrainDecision, decide, warehouse_documents

log = logging.getLogger("llm_twin.release")


class ReleaseProcess:
    def __init__(self, release_cfg: ReleaseConfig, retrain_cfg: RetrainConfig, infra: InfraConfig,
                 author: AuthorConfig, passthrough: list[str] | None = None) -> None:
        self.cfg, self.retrain_cfg, self.infra, self.author = release_cfg, retrain_cfg, infra, author
        self.store = StatusStore(release_cfg.state_file)
        self.service = TwinService(release_cfg.service_url, release_cfg.api_key_env) if release_cfg.service_url else None
        self.passthrough = passthrough_overrides() if passthrough is None else passthrough
        self.training: TrainingRun | None = None
        self.last_attempt: Attempt | None = None  # this process's last release attempt
        self.cycles = 0
        self.stopping = threading.Event()

    # -- one poll ------------------------------------------------------------------------------------
    def cycle(self) -> None:
        self.cycles += 1
        self.release_if_needed()
        if self.retrain_cfg.enabled and self.cycles % self.retrain_cfg.check_every_cycles == 0:
            self.retrain_if_needed()

    def release_if_needed(self) -> None:
        target = stage_version(self.cfg.model_name, self.cfg.stage)
        status = self.store.read()
        served = self.service.served_version() if self.service else status.serving
        with self.store.update() as current:
            current.target = target.name if target else None
            if self.service is not None:
                current.serving = served
            if target is not None:  # a failure is remembered for the version holding the stage only
                current.failed = {v: e for v, e in current.failed.items() if v == target.name}
        if target is None:
            log.debug("no %s version of %s yet", self.cfg.stage, self.cfg.model_name)
            return
        if served == target.name or target.name in status.failed:
            return
        log.info("%s is now %s of %s (the service serves %s): releasing it", target.name, self.cfg.stage,
                 self.cfg.model_name, served or "nothing")
        attempt = self.last_attempt = release(target.name, self.cfg, self.store, self.service, self.passthrough)
        if attempt.ok:
            log_version_metadata(self.cfg.model_name, target.name, {"release": {
                "deployed_at": attempt.started_at, "switched_from": attempt.switched_from,
                "seconds": attempt.seconds, "service": self.cfg.service_url or "none"}})

    def retrain_if_needed(self) -> RetrainDecision | None:
        if self.training is not None:
            if not follow(self.training, self.retrain_cfg, self.cfg.model_name, self.store):
                return None  # one training run at a time
            self.training = None
        current = warehouse_documents(Connections.of(self.infra), self.author.full_name, self.retrain_cfg.data_types)
        versions = list_versions(self.cfg.model_name)
        decision = decide(current, versions, self.cfg.stage, self.retrain_cfg, self.author.full_name)
        previous = self.store.read().retrain or {}
        if decision.triggered or previous.get("reason") != decision.reason:  # log changes, not every poll
            log.info("retraining %s: %s", "triggered" if decision.triggered else "not triggered", decision.reason)
            self.store.log_event({"event": "retrain_decision", **decision.model_dump(mode="json")})
        with self.store.update() as status:
            status.retrain = decision.model_dump(mode="json")
        if decision.triggered:
            self.training = start_training(decision, self.retrain_cfg, self.passthrough)
            with self.store.update() as status:
                status.training = self.training.describe()
        return decision

    # -- the loop ------------------------------------------------------------------------------------
    def run(self) -> None:
        def stop(signum: int, frame: Any) -> None:
            log.info("release process: stopping after this poll")
            self.stopping.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, stop)
        log.info("release process: watching %s of %s every %.0f s (service: %s, status: %s)", self.cfg.stage,
                 self.cfg.model_name, self.cfg.poll_interval_s, self.cfg.service_url or "none", self.store.path)
        while not self.stopping.is_set():
            try:
                self.cycle()
            except Exception:  # a poll that fails (registry or warehouse down) is logged; the next one retries
                log.exception("release poll failed")
                self.store.log_event({"event": "poll_failed", "at_cycle": self.cycles})
            if self.cfg.max_cycles is not None and self.cycles >= self.cfg.max_cycles:
                break
            self.stopping.wait(self.cfg.poll_interval_s)
        if self.training is not None and not self.stopping.is_set():  # a bounded run waits for its training
            log.info("waiting for training run %s to end", self.training.run_name)
            self.training.proc.wait()
            follow(self.training, self.retrain_cfg, self.cfg.model_name, self.store)
        with self.store.update() as status:
            status.updated_at = utc_now()
