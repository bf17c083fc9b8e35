"""ZenML settings for an offline, self-contained project.

Must run before `zenml` is imported: ZenML reads these at import time. State goes under `.twin/zenml`
(not the home folder), analytics are off (its call is synchronous with a 15 s timeout offline) and the
dashboard is not opened in a browser.
"""

from __future__ import annotations

import os
from pathlib import Path

from llm_twin.paths import PROJECT_ROOT, state_dir

OFFLINE_DEFAULTS = {
    "ZENML_ANALYTICS_OPT_IN": "false",
    "ZENML_AUTO_OPEN_DASHBOARD": "false",
    "ZENML_ENABLE_RICH_TRACEBACK": "false",
    "ZENML_LOGGING_COLORS_DISABLED": "true",
    "BENTOML_DO_NOT_TRACK": "true",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "COMET_AUTO_LOG_ENV_DETAILS": "false",
    "COMET_ERROR_TRACKING_ENABLE": "false",
}


def configure_zenml_env(repo_root: Path = PROJECT_ROOT) -> Path:
    """Point ZenML at the project's state folder; return the repository root ZenML should use."""
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("ZENML_CONFIG_PATH", str(state_dir("zenml")))
    os.environ.setdefault("ZENML_REPOSITORY_PATH", str(repo_root))
    return repo_root


def ensure_repository(repo_root: Path = PROJECT_ROOT) -> None:
    """`zenml init` at the project root once, so steps and pipelines resolve from there."""
    if (repo_root / ".zen").is_dir():
        return
    from zenml.client import Client

    Client.initialize(root=repo_root)
