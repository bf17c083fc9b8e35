"""Write a merged Hugging Face model folder (safetensors) of the llama, mistral or qwen2 family into an
F32/F16 GGUF file.

Why not llama.cpp's convert script: it is not shipped on PyPI. The `gguf` package has what it needs: the
tensor-name map of each llama.cpp architecture and a writer. The family table (`models.families`) says
which architecture (llama and mistral are llama.cpp's `llama`, qwen2 its own `qwen2`, with q/k/v biases)
and whether q_proj/k_proj are permuted into llama.cpp's interleaved rotary layout (llama: yes; qwen2 uses
NEOX rotary, HF's layout as it is). `lm_head` is skipped when embeddings are tied (llama.cpp reuses
`token_embd`), and Llama 3.1+'s rotary scaling becomes the `rope_freqs` tensor.

Metadata: when the base model came as a GGUF (packaged SmolLM2, a file from Ollama or LM Studio), its
key/value metadata is copied (tokenizer included, except architecture and file type), after checking that
its hyper-parameters describe the merged model; otherwise (a Hugging Face folder) it is written from the
folder's config and tokenizer (`gguf_metadata`), the tokenizer checked against llama.cpp on probe texts.

A wrong permutation still loads and generates text, so the perplexity comparison in `export.py` is what
proves an export right.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from llm_twin.inference import gguf_metadata
from llm_twin.models.families import (
    Family,
    UnsupportedFamily,
    family_of_model_type,
    llama3_rope_factors,
    rope_parameters,
)

log = logging.getLogger(__name__)

# GGUF keys the writer sets itself or that describe the source file rather than the model.
_SKIP_KEYS = {"general.architecture", "general.file_type", "general.quantization_version"}
_FILE_TYPES = {"f32": 0, "f16": 1}  # llama_ftype: LLAMA_FTYPE_ALL_F32, LLAMA_FTYPE_MOSTLY_F16
ROPE_FREQS = "rope_freqs.weight"


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


def model_family(cfg: dict[str, Any]) -> Family:
    try:
        return family_of_model_type(cfg.get("model_type"))
    except UnsupportedFamily as exc:
        raise ExportError(f"GGUF export: {exc}") from exc


def _check_config(cfg: dict[str, Any], reader: Any) -> None:
    """The base GGUF's hyper-parameters are reused, so they must describe the merged model."""
    family = model_family(cfg)
    arch = str(reader.fields["general.architecture"].contents())
    if arch != family.gguf_arch:
        raise ExportError(
            f"the merged model is {cfg.get('model_type')} (GGUF architecture {family.gguf_arch!r}) but the base "
            f"GGUF is {arch!r}: export with the GGUF the model was trained from"
        )
    expected = {
        "block_count": cfg["num_hidden_layers"],
        "embedding_length": cfg["hidden_size"],
        "feed_forward_length": cfg["intermediate_size"],
        "attention.head_count": cfg["num_attention_heads"],
        "attention.head_count_kv": cfg.get("num_key_value_heads") or cfg["num_attention_heads"],
    }
    for key, want in expected.items():
        field = reader.fields.get(f"{arch}.{key}")
        if field is not None and int(field.contents()) != int(want):
            raise ExportError(f"base GGUF {arch}.{key}={field.contents()} but merged model has {want}")
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    if tokens is not None and len(tokens.data) != int(cfg["vocab_size"]):
        raise ExportError(f"base GGUF has {len(tokens.data)} tokens but merged model a vocabulary of {cfg['vocab_size']}")


def _load_state_dict(model_dir: Path) -> dict[str, np.ndarray]:
    """All safetensors shards as float32 numpy arrays (bf16 shards go through torch)."""
    from safetensors import safe_open

    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise ExportError(f"no *.safetensors in {model_dir}")
    tensors: dict[str, np.ndarray] = {}
    for file in files:
        with safe_open(str(file), framework="pt") as handle:
            for name in handle.keys():  # noqa: SIM118 - a safe_open handle is not iterable
                tensors[name] = handle.get_tensor(name).float().numpy()
    return tensors


def _write_hf_metadata(writer: Any, model_dir: Path, config: Any, family: Family, tokenizer: Any,
                       tok: gguf_metadata.HfTokenizer, variant: gguf_metadata.TokenizerVariant) -> None:
    writer.add_name(model_dir.name)
    gguf_metadata.write_hparams(writer, config, family)
    gguf_metadata.write_tokenizer(writer, model_dir, tok, tokenizer, variant)


def choose_tokenizer_variant(model_dir: Path, config: Any, family: Family, tokenizer: Any,
                             tok: gguf_metadata.HfTokenizer) -> gguf_metadata.TokenizerVariant:
    """The first tokenizer variant (pre-tokenizer name, space prefix) under which llama.cpp tokenizes the
    probe texts exactly like the HF tokenizer (each written as a vocabulary-only GGUF and loaded)."""
    import gguf

    from llm_twin.models.tokenizer_check import compare_tokenization, describe

    tried: list[str] = []
    with tempfile.TemporaryDirectory(prefix="llm-twin-vocab-") as tmp:
        for i, variant in enumerate(gguf_metadata.variants(family, tok)):
            probe = Path(tmp) / f"vocab-{i}.gguf"
            writer = gguf.GGUFWriter(str(probe), family.gguf_arch)
            _write_hf_metadata(writer, model_dir, config, family, tokenizer, tok, variant)
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_tensors_to_file(progress=False)
            writer.close()
            try:
                mismatches = compare_tokenization(probe, tokenizer)
            except Exception as exc:  # noqa: BLE001 - this llama.cpp build does not know the name
                tried.append(f"{variant}: not loadable ({exc})")
                continue
            if not mismatches:
                log.info("tokenizer %s: llama.cpp tokenizes the probe texts like %s", variant, model_dir)
                return variant
            tried.append(f"{variant}: {describe(mismatches[0], tokenizer)}")
    raise ExportError(
        "llama.cpp tokenizes differently from the model's tokenizer under every pre-tokenizer tried, so "
        "the served twin would not read text as it was trained: " + "; ".join(tried)
    )


def export_gguf(
    model_dir: Path, base_gguf: Path | None, out_path: Path, out_type: str = "f32", permute_qk: bool = True
) -> Path:
    """Export `model_dir` (a merged HF llama/mistral/qwen2 folder) to `out_path` as an F32 or F16 GGUF.

    `base_gguf` is the GGUF the base model came from (its metadata and tokenizer are reused), or None when
    the base model was a Hugging Face folder (metadata written from `model_dir`). `permute_qk=False`
    writes a deliberately wrong llama-architecture file (tests use it to prove the perplexity check
    catches a bad export).

    Written to a temporary name and renamed, so a crash never leaves a half-written file that a later
    quantization would pick up.
    """
    import gguf
    from transformers import AutoConfig

    from llm_twin.models.loading import load_tokenizer

    if out_type not in _FILE_TYPES:
        raise ExportError(f"out_type must be one of {sorted(_FILE_TYPES)}, got {out_type!r}")
    model_dir, out_path = Path(model_dir), Path(out_path)
    cfg = json.loads((model_dir / "config.json").read_text())
    family = model_family(cfg)
    reader = gguf.GGUFReader(str(base_gguf)) if base_gguf is not None else None
    if reader is not None:
        _check_config(cfg, reader)
    config = AutoConfig.from_pretrained(str(model_dir))

    n_layers = int(cfg["num_hidden_layers"])
    n_head = int(cfg["num_attention_heads"])
    n_head_kv = int(cfg.get("num_key_value_heads") or n_head)
    tied = bool(getattr(config, "tie_word_embeddings", False))
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH[family.gguf_arch.upper()], n_layers)
    permute = permute_qk and family.permute_qk

    out_path.parent.mkdir(parents=True, exist_ok=True)
    if reader is not None:
        tok_meta, variant = None, None
    else:
        tokenizer = load_tokenizer(model_dir)
        try:
            tok_meta = gguf_metadata.read_tokenizer(model_dir, tokenizer, int(cfg["vocab_size"]))
        except gguf_metadata.MetadataError as exc:
            raise ExportError(f"GGUF export of {model_dir}: {exc}") from exc
        variant = choose_tokenizer_variant(model_dir, config, family, tokenizer, tok_meta)
    tmp = out_path.with_name(out_path.name + ".partial")
    writer = gguf.GGUFWriter(str(tmp), family.gguf_arch)
    if reader is not None:
        copied = _copy_metadata(reader, writer)
    else:
        assert tok_meta is not None and variant is not None
        _write_hf_metadata(writer, model_dir, config, family, tokenizer, tok_meta, variant)
        copied = 0
    writer.add_file_type(_FILE_TYPES[out_type])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    rope = rope_parameters(config)
    if family.gguf_arch == "llama" and rope.get("rope_type") == "llama3":
        head_dim = int(getattr(config, "head_dim", None) or cfg["hidden_size"] // n_head)
        writer.add_tensor(ROPE_FREQS, np.asarray(llama3_rope_factors(rope, head_dim), dtype=np.float32))

    state = _load_state_dict(model_dir)
    written = 0
    for hf_name, data in state.items():
        if hf_name == "lm_head.weight" and tied:
            continue  # llama.cpp reuses token_embd for the output when there is no `output.weight`
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise ExportError(f"no GGUF name for tensor {hf_name!r} of a {family.name} model")
        if permute and hf_name.endswith("self_attn.q_proj.weight"):
            data = permute_rotary(data, n_head)
        elif permute and hf_name.endswith("self_attn.k_proj.weight"):
            data = permute_rotary(data, n_head_kv)
        # Norms, biases and other 1-D tensors stay F32 (llama.cpp requires it); matrices follow out_type.
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
    log.info("exported %s (%s) -> %s (%d tensors, %d metadata keys copied)", model_dir, family.name, out_path,
             written, copied)
    return out_path
