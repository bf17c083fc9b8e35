"""LLM Twin entry point: `python run.py pipeline=<name> [model=<name>] [stack=<name>] [infra=<name>] [key=value ...]`.

Hydra composes `conf/` into one config, `llm_twin.runner` turns it into a ZenML pipeline run.
`python run.py --cfg job ...` prints the composed config; `python run.py -m model.lora.r=8,16` sweeps.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from dotenv import load_dotenv
from omegaconf import DictConfig

from llm_twin.config import ConfigChoiceError, validate_choices
from llm_twin.paths import PROJECT_ROOT
from llm_twin.zenml_env import configure_zenml_env

load_dotenv(PROJECT_ROOT / ".env")  # secrets and cloud URIs; never committed
configure_zenml_env()  # before anything imports zenml
log = logging.getLogger("llm_twin")


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from llm_twin.infra.services import ServiceError
    from llm_twin.runner import RunError, run_pipeline

    try:
        run = run_pipeline(cfg)
    except (RunError, ServiceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    if run is not None:
        print(f"\nrun {run.name}: {run.status}  (inspect: zenml pipeline runs list; dashboard: zenml login --local)")
        if str(run.status) not in ("completed", "ExecutionStatus.COMPLETED"):
            sys.exit(1)


def _extra_config_dirs(argv: list[str]) -> list[Path]:
    """Hydra's `--config-dir DIR` (`-cd DIR`, `--config-dir=DIR`) adds options beside conf/."""
    dirs = []
    for i, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and i + 1 < len(argv):
            dirs.append(Path(argv[i + 1]))
        elif arg.startswith("--config-dir="):
            dirs.append(Path(arg.split("=", 1)[1]))
    return dirs


if __name__ == "__main__":
    try:
        validate_choices([arg for arg in sys.argv[1:] if not arg.startswith("-")], _extra_config_dirs(sys.argv[1:]))
    except ConfigChoiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    main()
