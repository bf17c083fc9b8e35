"""One schema per config group: every `conf/<group>/*.yaml` validates, the YAML files are the only
source of defaults, and a new embedding model, base model or stack is one YAML file (no code)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from llm_twin.config import GROUP_SCHEMAS, SELECTABLE_GROUPS, compose, group, group_choices
from llm_twin.config.author import ExportSpec, LocalRepository
from llm_twin.paths import CONF_DIR, PROJECT_ROOT

CLOUD_ENV = {"MONGODB_URI": "mongodb://u:p@db.example", "RABBITMQ_URL": "amqp://u:p@mq.example/",
             "KAFKA_BOOTSTRAP_SERVERS": "k.example:9092", "QDRANT_URL": "https://q.example:6333"}
LIST_ENTRIES = (ExportSpec, LocalRepository)  # per-entry options of a list may be left out


@pytest.mark.parametrize(("name", "choice"), [(g, c) for g in GROUP_SCHEMAS for c in group_choices(g)])
def test_every_yaml_validates_against_its_group_schema(name: str, choice: str, monkeypatch) -> None:
    for key, value in CLOUD_ENV.items():
        monkeypatch.setenv(key, value)
    model = group(compose([f"{name}={choice}"]), name)
    assert isinstance(model, GROUP_SCHEMAS[name])


def test_every_conf_folder_is_a_registered_group() -> None:
    folders = {p.name for p in CONF_DIR.iterdir() if p.is_dir()}
    assert folders == set(GROUP_SCHEMAS), "a conf/ folder without a schema (or a schema without a folder)"
    assert set(SELECTABLE_GROUPS) == set(GROUP_SCHEMAS)


def _fields_with_defaults(model: type[BaseModel], path: str) -> list[str]:
    found = []
    for name, field in model.model_fields.items():
        if not field.is_required():
            found.append(f"{path}.{name}")
        for nested in _models_in(field):
            if nested not in LIST_ENTRIES:
                found.extend(_fields_with_defaults(nested, f"{path}.{name}"))
    return found


def _models_in(field: FieldInfo) -> list[type[BaseModel]]:
    annotation = field.annotation
    candidates = [annotation, *getattr(annotation, "__args__", ())]
    out = []
    for candidate in candidates:
        for inner in (candidate, *getattr(candidate, "__args__", ())):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                out.append(inner)
    return out


@pytest.mark.parametrize("name", sorted(GROUP_SCHEMAS))
def test_schemas_have_no_defaults_of_their_own(name: str) -> None:
    """A default in code could disagree with the YAML: the YAML is the only source."""
    assert _fields_with_defaults(GROUP_SCHEMAS[name], name) == []


def test_a_typo_in_a_yaml_key_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "training").mkdir()
    text = (CONF_DIR / "training" / "default.yaml").read_text().replace("learning_rate:", "learnig_rate:")
    (tmp_path / "training" / "typo.yaml").write_text(text)
    with pytest.raises(Exception, match="learnig_rate"):
        group(compose(["training=typo"], config_dir=tmp_path), "training")


def _write(folder: Path, group_name: str, name: str, text: str) -> None:
    (folder / group_name).mkdir(parents=True, exist_ok=True)
    (folder / group_name / f"{name}.yaml").write_text(text)


def test_a_new_embedding_model_base_model_and_stack_are_one_yaml_file_each(tmp_path: Path) -> None:
    _write(tmp_path, "embedding", "minilm_long", (CONF_DIR / "embedding" / "minilm.yaml").read_text()
           .replace("max_seq_length: 256", "max_seq_length: 512").replace("batch_size: 32", "batch_size: 8"))
    _write(tmp_path, "model", "my_llama", (CONF_DIR / "model" / "smollm2.yaml").read_text()
           .replace("name: smollm2", "name: my_llama").replace("local_path: null", "local_path: /models/my-llama"))
    _write(tmp_path, "stack", "my_cluster", "name: my_cluster\nzenml_stack: my-cluster\nstep_operator: k8s-gpu\n"
           "gpu_steps: [train_model]\n")
    overrides = ["embedding=minilm_long", "model=my_llama", "stack=my_cluster"]
    cfg = compose(overrides, config_dir=tmp_path)
    assert group(cfg, "embedding").max_seq_length == 512
    assert group(cfg, "model").local_path == "/models/my-llama"
    assert group(cfg, "stack").step_operator == "k8s-gpu"
    from llm_twin.runner import pipeline_options

    assert pipeline_options(cfg)["steps"] == {"train_model": {"step_operator": "k8s-gpu"}}

    # ... and the entry point takes them with Hydra's --config-dir, no code involved
    result = subprocess.run([sys.executable, "run.py", "--config-dir", str(tmp_path), "--cfg", "job", *overrides],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "my-llama" in result.stdout and "k8s-gpu" in result.stdout and "max_seq_length: 512" in result.stdout


def test_the_readme_bring_your_own_model_yaml_validates(tmp_path: Path) -> None:
    """The README's example is what a user copies: it must compose as it is (every required key present)."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    start = readme.index("# conf/model/my_llama.yaml")
    block = readme[start:readme.index("```", start)]
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "my_llama.yaml").write_text(block)
    model = group(compose(["model=my_llama"], config_dir=tmp_path), "model")
    assert model.local_path == "ollama:llama3.2:1b"
    assert group(compose(["model=my_llama"], config_dir=tmp_path), "training").learning_rate == model.learning_rate
