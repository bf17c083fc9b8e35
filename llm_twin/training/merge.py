"""Merge a LoRA adapter into the FULL-precision base model.

The adapter was trained against the NF4-quantized base, but NF4 inference of a small model degrades its
output, so evaluation and serving use base (fp32/bf16) + adapter merged into plain weights.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from llm_twin.config.model import ModelConfig
from llm_twin.models.loading import load_tokenizer, torch_dtype


def merge_adapter(base_dir: Path | str, adapter_dir: Path | str, out_dir: Path, model_cfg: ModelConfig) -> Path:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch_dtype(model_cfg.dtype))
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.config.use_cache = True
    tmp = out_dir.with_name(out_dir.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    merged.save_pretrained(str(tmp), safe_serialization=True)
    load_tokenizer(adapter_dir).save_pretrained(str(tmp))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return out_dir
