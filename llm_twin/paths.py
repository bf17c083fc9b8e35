"""Where the project keeps its state.

Everything the local stack writes (warehouse file, Qdrant storage, ZenML state, Comet archives, logs,
model caches) lives under one `.twin/` folder in the project, so a clone is self-contained and
`rm -rf .twin` is a full reset. `LLM_TWIN_HOME` moves it (tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = PROJECT_ROOT / "conf"


def twin_home() -> Path:
    """The state folder; read on each call so tests can redirect it with the environment."""
    home = Path(os.environ.get("LLM_TWIN_HOME", PROJECT_ROOT / ".twin")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def state_dir(*parts: str) -> Path:
    """A sub-folder of the state folder, created on first use."""
    path = twin_home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
