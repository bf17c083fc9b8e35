"""Write a merged Hugging Face Llama model folder (safetensors) into an F32/F16 GGUF file.

Why not llama.cpp's convert script: it is not shipped on PyPI, and the twin shares its tokenizer with the
base model anyway. So the export copies the base GGUF's key/value metadata (tokenizer included, except
architecture and file type), maps each HF tensor name with `gguf.get_tensor_name_map`, skips `lm_head`
when embeddings are tied, and permutes q_proj/k_proj into llama.cpp's rotary layout. A wrong permutation
still loads and generates text, so `perplexity.py` is what proves an export right.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# GGUF keys the writer sets itself or that describe the source file rather than the model.
_SKIP_KEYS = {"general.architecture", "general.file_type", "general.quantization_version"}
_FILE_TYPES = {"f32": 0, "f16": 1}  # llama_ftype: LLAMA_FTYPE_ALL_F32, LLAMA_FTYPE_MOSTLY_F16


class ExportError(RuntimeError):
    """The merged model cannot be exported (unsupported architecture, mismatching base GGUF...)."""


def permute_rotary(weights: np.ndarray, n_head: int) -> np.ndarray:
    """Reorder a q/k projection from HF's rotate-half layout to llama.cpp's interleaved rotary layout."""
    rows = weights.shape[0]
    return (
        weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _copy_metadata(reader: Any, writer: Any) -> int:
    """Copy every KV pair of the base GGUF except the ones the writer/export decides; returns the count."""
    import gguf

    copied = 0
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in _SKIP_KEYS:
            continue
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), vtype, sub_type=sub_type)
        copied += 1
    return copied


def _check_config(cfg: dict[str, Any], reader: Any) -> None:
    """The base GGUF's hyper-parameters are reused, so they must describe the merged model."""
    arch = str(reader.fields["general.architecture"].contents())
    if arch != "llama" or cfg.get("model_type") not in ("llama", "mistral"):
        raise ExportError(f"GGUF export supports llama-architecture models, got {cfg.get('model_type')}/{arch}")
    expected = {
        "block_count": cfg["num_hidden_layers"],
        "embedding_length": cfg["hidden_size"],
        "feed_forward_length": cfg["intermediate_size"],
        "attention.head_count": cfg["num_attention_heads"],
        "attention.head_count_kv": cfg.get("num_key_value_heads", cfg["num_attention_heads"]),
    }
    for key, want in expected.items():
        field = reader.fields.get(f"{arch}.{key}")
        if field is not None and int(field.contents()) != int(want):
            raise ExportError(f"base GGUF {arch}.{key}={field.contents()} but merged model has {want}")


def _load_state_dict(model_dir: Path) -> dict[str, np.ndarray]:
    """All safetensors shards as float32 numpy arrays (bf16 shards go through torch)."""
    from safetensors import safe_open

    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise ExportError(f"no *.safetensors in {model_dir}")
    tensors: dict[str, np.ndarray] = {}
    for file in files:
        with safe_open(str(file), framework="pt") as handle:
            for name in handle:
                tensors[name] = handle.get_tensor(name).float().numpy()
    return tensors


def export_gguf(
    model_dir: Path, base_gguf: Path, out_path: Path, out_type: str = "f32", permute_qk: bool = True
) -> Path:
    """Export `model_dir` (a merged HF llama folder) to `out_path` as an F32 or F16 GGUF.

    `permute_qk=False` writes a deliberately wrong file (tests use it to prove the perplexity check
    catches a bad export).

    Written to a temporary name and renamed, so a crash never leaves a half-written file that a later
    quantization would pick up.
    """
    import gguf

    if out_type not in _FILE_TYPES:
        raise ExportError(f"out_type must be one of {sorted(_FILE_TYPES)}, got {out_type!r}")
    model_dir, out_path = Path(model_dir), Path(out_path)
    cfg = json.loads((model_dir / "config.json").read_text())
    reader = gguf.GGUFReader(str(base_gguf))
    _check_config(cfg, reader)

    n_layers = int(cfg["num_hidden_layers"])
    n_head = int(cfg["num_attention_heads"])
    n_head_kv = int(cfg.get("num_key_value_heads", n_head))
    tied = bool(cfg.get("tie_word_embeddings", False))
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".partial")
    writer = gguf.GGUFWriter(str(tmp), "llama")
    copied = _copy_metadata(reader, writer)
    writer.add_file_type(_FILE_TYPES[out_type])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    state = _load_state_dict(model_dir)
    written = 0
    for hf_name, data in state.items():
        if hf_name == "lm_head.weight" and tied:
            continue  # llama.cpp reuses token_embd for the output when there is no `output.weight`
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise ExportError(f"no GGUF name for tensor {hf_name!r}")
        if permute_qk and hf_name.endswith("self_attn.q_proj.weight"):
            data = permute_rotary(data, n_head)
        elif permute_qk and hf_name.endswith("self_attn.k_proj.weight"):
            data = permute_rotary(data, n_head_kv)
        # Norms and other 1-D tensors stay F32 (llama.cpp requires it); matrices follow out_type.
        if out_type == "f16" and data.ndim == 2:
            data = data.astype(np.float16)
        else:
            data = data.astype(np.float32)
        writer.add_tensor(gguf_name, data)
        written += 1

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file(progress=False)
    writer.close()
    tmp.replace(out_path)
    log.info("exported %s -> %s (%d tensors, %d metadata keys copied)", model_dir, out_path, written, copied)
    return out_path
