"""Comet experiment tracking: offline archives under `.twin/comet` by default, online with COMET_API_KEY.

We create the experiment ourselves (instead of the HF Trainer's Comet callback) so the mode is explicit:
the trainer runs with `report_to="none"` and a small callback forwards its logs here. Offline archives
are zip files that `comet upload <zip>` sends later. Tracking never fails a training run: on any Comet
error the tracker degrades to a no-op and says so in the log.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from llm_twin.config.training import CometConfig
from llm_twin.paths import state_dir

log = logging.getLogger(__name__)


def _quiet_env() -> Path:
    directory = state_dir("comet")
    os.environ.setdefault("COMET_AUTO_LOG_ENV_DETAILS", "false")
    os.environ.setdefault("COMET_OFFLINE_DIRECTORY", str(directory))
    os.environ.setdefault("COMET_DISABLE_AUTO_LOGGING", "1")  # we log explicitly; no framework patching
    os.environ.setdefault("COMET_ERROR_TRACKING_ENABLE", "false")  # no Sentry calls (they block offline)
    return directory


class Tracker:
    """Thin wrapper over a comet_ml experiment (or nothing). Methods are safe to call in any state."""

    def __init__(self, experiment: Any | None = None, offline_dir: Path | None = None, online: bool = False) -> None:
        self.experiment = experiment
        self.offline_dir = offline_dir
        self.online = online
        self.archive: str | None = None

    @property
    def key(self) -> str | None:
        return getattr(self.experiment, "id", None) if self.experiment else None

    def _call(self, method: str, *args: Any, **kwargs: Any) -> None:
        if self.experiment is None:
            return
        try:
            getattr(self.experiment, method)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - tracking must not break training
            log.warning("comet %s failed: %s", method, exc)

    def log_parameters(self, params: dict[str, Any]) -> None:
        self._call("log_parameters", params)

    def log_other(self, key: str, value: Any) -> None:
        self._call("log_other", key, value)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None, prefix: str | None = None) -> None:
        self._call("log_metrics", metrics, step=step, prefix=prefix)

    def log_text(self, text: str, metadata: dict[str, Any] | None = None) -> None:
        self._call("log_text", text, metadata=metadata or {})

    def log_image(self, path: Path, name: str) -> None:
        self._call("log_image", str(path), name=name)

    def log_asset(self, path: Path, name: str | None = None) -> None:
        self._call("log_asset", str(path), file_name=name)

    def end(self) -> str | None:
        """Finish the experiment; returns the offline archive path (None online / disabled)."""
        if self.experiment is None:
            return None
        key = self.key
        self._call("end")
        if self.offline_dir and not self.online and key:
            # comet names the archive "<experiment id>-<random>.zip"
            found = sorted(self.offline_dir.glob(f"{key}*.zip"), key=lambda p: p.stat().st_mtime)
            self.archive = str(found[-1]) if found else None
        self.experiment = None
        return self.archive


def start_tracker(cfg: CometConfig, name: str, tags: list[str] | None = None) -> Tracker:
    if not cfg.enabled:
        return Tracker()
    offline_dir = _quiet_env()
    has_key = bool(os.environ.get("COMET_API_KEY"))
    online = cfg.online == "always" or (cfg.online == "auto" and has_key)
    try:
        import comet_ml

        experiment = comet_ml.start(
            project_name=cfg.project,
            workspace=cfg.workspace,
            online=online,
            experiment_config=comet_ml.ExperimentConfig(
                name=name,
                tags=tags or [],
                offline_directory=str(offline_dir),
                log_code=False,
                log_graph=False,
                parse_args=False,
                log_git_metadata=False,
                log_git_patch=False,
                log_env_details=False,
                log_env_gpu=False,
                log_env_host=False,
                log_env_cpu=False,
                log_env_network=False,
                log_env_disk=False,
                auto_output_logging=False,  # type: ignore[arg-type]  # documented: False turns it off
                auto_param_logging=False,
                auto_metric_logging=False,
                auto_log_co2=False,
                display_summary_level=0,
            ),
        )
    except Exception as exc:  # noqa: BLE001
        log.warning("Comet tracking disabled for this run: %s", exc)
        return Tracker()
    log.info("Comet experiment %s (%s)", name, "online" if online else f"offline archive in {offline_dir}")
    return Tracker(experiment, offline_dir, online)


def trainer_callback(tracker: Tracker, prefix: str = "sft") -> Any:
    """A transformers TrainerCallback that forwards every log row (loss, lr, eval_loss) to the tracker."""
    from transformers import TrainerCallback

    class _CometForward(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
            if logs:
                numeric = {k: float(v) for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
                tracker.log_metrics(numeric, step=int(state.global_step), prefix=prefix)

    return _CometForward()
