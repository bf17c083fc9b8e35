"""The runs the release process starts: `python run.py pipeline=deploy|train ...` in a child process, with
the same Hydra overrides the release process was given (model, stack, infra, serving...), so a deploy on
promotion is exactly what a person (or a CI job) would run by hand."""

from __future__ import annotations

import sys
from pathlib import Path

from llm_twin.paths import PROJECT_ROOT

# Keys that belong to the release process itself and are not passed on to the runs it starts.
_OWN = ("pipeline", "release", "retrain", "run_name", "hydra")


def passthrough_overrides() -> list[str]:
    """The Hydra overrides of this run (when run through `run.py`), minus the release process's own."""
    try:
        from hydra.core.hydra_config import HydraConfig

        overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
    except ValueError:
        overrides = []
    kept = []
    for override in overrides:
        key = override.lstrip("+~").split("=", 1)[0]
        if key.split(".", 1)[0] not in _OWN:
            kept.append(override)
    return kept


def config_dir_args(argv: list[str] | None = None) -> list[str]:
    """`--config-dir DIR` options of this process (a user's own config groups), to pass on as they are."""
    argv = sys.argv[1:] if argv is None else argv
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and i + 1 < len(argv):
            out += ["--config-dir", argv[i + 1]]
        elif arg.startswith("--config-dir="):
            out.append(arg)
    return out


def run_argv(pipeline: str, overrides: list[str]) -> list[str]:
    return [sys.executable, str(Path(PROJECT_ROOT) / "run.py"), *config_dir_args(), f"pipeline={pipeline}", *overrides]
