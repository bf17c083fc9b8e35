"""The ZenML pipelines for real (`run.py pipeline=train`, then `pipeline=evaluate`) in an isolated ZenML
state and feature store, with tiny step counts; checks the Model Control Plane afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import load_into_qdrant, make_corpus

from llm_twin.infra.processes import free_port
from llm_twin.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow

FAST = [
    "training.max_steps=2", "training.per_device_batch_size=2", "training.gradient_accumulation_steps=1",
    "training.sample_generations=1", "training.max_new_tokens=8",
    "dataset.preference.max_samples=2", "dataset.preference.max_new_tokens=8",
    "evaluation.max_samples=2", "evaluation.max_new_tokens=8",
    # a 2-step model need not beat the base: open the gate so promotion itself is exercised
    "evaluation.gate.max_perplexity_ratio=100", "evaluation.gate.min_style_gain=-1", "evaluation.gate.production_tolerance=100",
]


def _python(env: dict[str, str], *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


QUERY = """
from llm_twin.zenml_env import configure_zenml_env; configure_zenml_env()
import json
from zenml.client import Client
from llm_twin.models.registry import load_model_version
versions = Client().list_model_versions("llm_twin").items
path, name = load_model_version("production")
out = [{"name": v.name, "stage": str(v.stage), "meta": sorted(v.run_metadata)} for v in versions]
print("RESULT" + json.dumps({"versions": out, "production": [str(path), name],
      "artifacts": sorted(Client().get_model_version("llm_twin", "production").model_artifact_ids)}))
"""


def test_train_then_evaluate_pipeline(tmp_path: Path, smollm2_dir: Path) -> None:
    home = tmp_path / "twin"
    (home / "models").mkdir(parents=True)
    os.symlink(smollm2_dir, home / "models" / "smollm2-base")  # reuse the session's converted base
    load_into_qdrant(home / "qdrant", make_corpus(n_posts=8, n_articles=2, n_code=1, seed=5))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENML_", "COMET_"))}
    env["LLM_TWIN_HOME"] = str(home)
    # The warehouse (attribution imports the reference authors into it) on a port of its own.
    ports = [f"infra.mongo_port={free_port()}", f"infra.kafka_port={free_port()}"]
    try:
        train = _python(env, "run.py", "pipeline=train", *FAST, *ports)
        assert train.returncode == 0, train.stdout[-4000:] + train.stderr[-4000:]
        assert "evaluation_summary" in train.stdout and "PASSED" in train.stdout and "production" in train.stdout
        assert "attribution" in train.stdout and "marker_leak_rate" in train.stdout
        assert list((home / "comet").glob("*.zip")), "Comet offline archives are written under the state folder"

        evaluate = _python(env, "run.py", "pipeline=evaluate", "evaluation.max_samples=2", "evaluation.max_new_tokens=8",
                           *ports)
        assert evaluate.returncode == 0, evaluate.stdout[-4000:] + evaluate.stderr[-4000:]
        assert "evaluation_summary" in evaluate.stdout
    finally:
        _python(env, "-m", "llm_twin.infra", "stop", *ports, timeout=120)

    query = _python(env, "-c", QUERY, timeout=300)
    assert query.returncode == 0, query.stderr[-3000:]
    result = json.loads(query.stdout.split("RESULT", 1)[1])
    (version,) = result["versions"]
    assert version["stage"].endswith("production")
    assert {"training", "evaluation", "promotion"} <= set(version["meta"])
    assert {"lora_adapter", "merged_model"} <= set(result["artifacts"])
    merged = Path(result["production"][0])
    assert (merged / "model.safetensors").is_file() and result["production"][1] == version["name"]

    listing = _python(env, "-m", "llm_twin.training.versions", timeout=300)
    assert listing.returncode == 0, listing.stderr[-3000:]
    row = listing.stdout.strip().splitlines()[-1].split()
    assert row[0] == version["name"] and row[1] == "production" and row[-1] == "passed"

    as_json = _python(env, "-m", "llm_twin.training.versions", "--json", timeout=300)
    assert as_json.returncode == 0, as_json.stderr[-3000:]
    (entry,) = json.loads(as_json.stdout)
    assert entry["version"] == version["name"] and entry["stage"] == "production"
    keys = {"perplexity", "style_similarity", "attribution", "invented_link_rate", "marker_leak_rate"}
    for model in ("base", "twin"):
        assert keys <= set(entry[model]) and all(entry[model][k] is not None for k in keys), entry
