"""The `run.py` commands: `pipeline=release` (the release process) and `pipeline=rollback`."""

from __future__ import annotations

import logging
import sys

from omegaconf import DictConfig
from pydantic import ValidationError

from llm_twin.config import AuthorConfig, InfraConfig, ReleaseConfig, RetrainConfig
from llm_twin.runner import RunError, command


def _logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("llm_twin.release").setLevel(logging.INFO)


@command
def release_command(cfg: DictConfig) -> None:
    """`python run.py pipeline=release [release.max_cycles=N ...]`: watch, deploy on promotion, retrain on policy."""
    from llm_twin.release.process import ReleaseProcess

    _logging()
    try:  # validated before anything starts: a bad key is a one-line error
        release_cfg, retrain_cfg = ReleaseConfig.of(cfg.release), RetrainConfig.of(cfg.retrain)
        infra, author = InfraConfig.of(cfg.infra), AuthorConfig.of(cfg.author)
    except ValidationError as exc:
        raise RunError(f"invalid release / retrain config: {exc}") from exc
    if retrain_cfg.enabled:  # the policy counts the warehouse's documents (started here when local)
        _start_warehouse(infra)
    process = ReleaseProcess(release_cfg, retrain_cfg, infra, author)
    process.run()
    status = process.store.read()
    print(f"\nrelease: serving {status.serving or 'nothing'} ({process.cfg.stage}: {status.target or 'none'}); "
          f"status: {process.store.path}")
    last = process.last_attempt
    if last is not None and not last.ok and process.cfg.max_cycles is not None:  # a bounded run (CI) fails with it
        raise RunError(f"the release of {last.version} failed at {last.phase}: {last.error}")


def _start_warehouse(infra: InfraConfig) -> None:
    from llm_twin.connections import Connections
    from llm_twin.infra.services import LocalServices
    from llm_twin.paths import twin_home

    connections = Connections.of(infra)
    if connections.mode == "local":
        LocalServices(connections, twin_home()).start(["mongo"])


@command
def rollback_command(cfg: DictConfig) -> None:
    """`python run.py pipeline=rollback [pipeline.params.version=<v>]`: the previous production version back."""
    from llm_twin.release.rollback import RollbackError, rollback

    _logging()
    to = cfg.pipeline.params.get("version")
    try:
        attempt = rollback(ReleaseConfig.of(cfg.release), str(to) if to is not None else None)
    except RollbackError as exc:
        raise RunError(str(exc)) from exc
    print(f"\nrollback: serving {attempt.version} (was {attempt.switched_from or 'not switched: no service'}) "
          f"in {attempt.seconds:.1f} s")
