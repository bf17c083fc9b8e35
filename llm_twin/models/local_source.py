"""What a model config's `local_path` points at: a Hugging Face folder or a GGUF file, found where the user's
tools keep them.

Accepted, so that a model a user already has works with one YAML line:
- a Hugging Face folder (config.json, tokenizer, safetensors), e.g. a `huggingface-cli download` target;
- a GGUF file, with or without the `.gguf` suffix: LM Studio keeps them as
  `~/.lmstudio/models/<publisher>/<repo>/<file>.gguf`, Ollama as `~/.ollama/models/blobs/sha256-<hex>`;
- a folder holding exactly one `.gguf` (an LM Studio model folder);
- an Ollama manifest file (`~/.ollama/models/manifests/registry.ollama.ai/library/<model>/<tag>`), or
  `ollama:<model>[:<tag>]` for the same thing by name (under `$OLLAMA_MODELS`, default ~/.ollama/models):
  the manifest's model layer is the GGUF blob.
`~` and environment variables are expanded. Anything else is an error that says what was found.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

GGUF_MAGIC = b"GGUF"
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_ADAPTER_LAYER = "application/vnd.ollama.image.adapter"


class LocalModelError(ValueError):
    """`local_path` does not lead to a usable model; the message says what was found and what to do."""


class LocalSource(BaseModel):
    kind: Literal["hf_folder", "gguf"]
    path: Path  # the folder, or the GGUF file itself
    given: str  # what the config said


def is_gguf_file(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


def ollama_models_root() -> Path:
    return Path(os.environ.get("OLLAMA_MODELS") or Path.home() / ".ollama" / "models").expanduser()


def ollama_manifest_path(name: str, root: Path | None = None) -> Path:
    """`llama3.2`, `llama3.2:1b`, `user/model:tag` or `host/user/model:tag` → its manifest file."""
    model, _, tag = name.partition(":")
    if not model:
        raise LocalModelError("`ollama:` needs a model name, e.g. local_path: ollama:llama3.2:1b")
    parts = model.split("/")
    if len(parts) == 1:
        parts = ["registry.ollama.ai", "library", *parts]
    elif len(parts) == 2:
        parts = ["registry.ollama.ai", *parts]
    return (root or ollama_models_root()) / "manifests" / Path(*parts) / (tag or "latest")


def blob_of_manifest(manifest: Path) -> Path:
    """The GGUF blob an Ollama manifest names as its model layer."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        layers = list(data["layers"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LocalModelError(f"{manifest} is not an Ollama manifest (JSON with `layers`): {exc}") from exc
    if any(layer.get("mediaType") == OLLAMA_ADAPTER_LAYER for layer in layers):
        raise LocalModelError(f"the Ollama model of {manifest} carries a LoRA adapter layer: point local_path at "
                              "its base model instead (the twin trains its own adapter)")
    models = [layer for layer in layers if layer.get("mediaType") == OLLAMA_MODEL_LAYER]
    if len(models) != 1:
        raise LocalModelError(f"{manifest} has {len(models)} model layers ({OLLAMA_MODEL_LAYER}); expected one")
    digest = str(models[0].get("digest", ""))
    root = next((p.parent for p in manifest.parents if p.name == "manifests"), None)
    if root is None:
        raise LocalModelError(f"{manifest} is not under an Ollama `manifests` folder, so its blobs cannot be found")
    blob = root / "blobs" / digest.replace(":", "-")
    if not blob.is_file():
        raise LocalModelError(f"the model blob {blob} named by {manifest} is missing (run `ollama pull` again)")
    return blob


def resolve_local_path(given: str) -> LocalSource:
    """Classify `local_path`; a missing or unrecognised path is a LocalModelError."""
    text = given.strip()
    if text.startswith("ollama:"):
        manifest = ollama_manifest_path(text[len("ollama:"):])
        if not manifest.is_file():
            raise LocalModelError(f"no Ollama model {text[7:]!r}: {manifest} does not exist (`ollama list` shows "
                                  "what is installed; set OLLAMA_MODELS if Ollama keeps models elsewhere)")
        return LocalSource(kind="gguf", path=blob_of_manifest(manifest), given=given)
    path = Path(os.path.expandvars(text)).expanduser()
    if not path.exists():
        raise LocalModelError(f"local_path {given!r} does not exist ({path})")
    if path.is_dir():
        if (path / "config.json").is_file():
            return LocalSource(kind="hf_folder", path=path, given=given)
        ggufs = sorted(p for p in path.iterdir() if p.suffix == ".gguf" and p.is_file())
        if len(ggufs) == 1:
            return LocalSource(kind="gguf", path=ggufs[0], given=given)
        if ggufs:
            names = ", ".join(p.name for p in ggufs)
            raise LocalModelError(f"{path} holds several GGUF files ({names}): point local_path at one of them")
        raise LocalModelError(f"{path} is neither a Hugging Face model folder (no config.json) nor holds a .gguf file")
    if is_gguf_file(path):
        return LocalSource(kind="gguf", path=path, given=given)
    if path.stat().st_size < 1_000_000 and path.read_bytes()[:1] == b"{":
        return LocalSource(kind="gguf", path=blob_of_manifest(path), given=given)
    raise LocalModelError(f"{path} is not a GGUF file (it does not start with the GGUF magic bytes), an Ollama "
                          "manifest, or a Hugging Face folder")
