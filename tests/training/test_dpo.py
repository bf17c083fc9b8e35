"""The real optional DPO stage on CPU: trl DPOTrainer + peft LoRA on the 4-bit NF4 tiny random Mistral
(built in code), for 2 steps; then the DPO adapter is merged into the full-precision "SFT" model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from llm_twin.config import ModelConfig, TrainingConfig
from llm_twin.domain.datasets import PreferenceDataset, PreferenceSample
from llm_twin.training.dpo import train_dpo
from llm_twin.training.merge import merge_adapter

pytestmark = pytest.mark.slow


def _preference(n: int = 4) -> PreferenceDataset:
    samples = [
        PreferenceSample(
            id=f"p{i}",
            prompt=[
                {"role": "system", "content": "You are Ada's writing twin."},
                {"role": "user", "content": f"Write a short post about topic number {i}: vector databases."},
            ],
            chosen=f"Vector databases matter because retrieval beats memorisation, part {i}. Ship it small.",
            rejected=f"As an AI language model I cannot have opinions about topic {i}.",
        )
        for i in range(n)
    ]
    return PreferenceDataset(samples=samples, base_model="tiny-mistral")


def test_dpo_tiny_mistral_trains_and_merges(
    tmp_path: Path, mistral_cfg: ModelConfig, fast_training_cfg: TrainingConfig, tiny_mistral_dir: Path
) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    # A learning rate large enough that 2 steps move the LoRA B matrices visibly away from zero.
    cfg = fast_training_cfg.model_copy(
        update={"dpo": fast_training_cfg.dpo.model_copy(update={"enabled": True, "max_steps": 2, "learning_rate": 1e-2})}
    )
    assert mistral_cfg.load_in_4bit and mistral_cfg.bnb_4bit_quant_type == "nf4"  # the QLoRA path
    sft_dir = tiny_mistral_dir  # stands in for the merged SFT model
    adapter_dir, history = train_dpo(_preference(), sft_dir, mistral_cfg, cfg, tmp_path / "work")

    adapter_cfg = json.loads((adapter_dir / "adapter_config.json").read_text())
    assert adapter_cfg["peft_type"] == "LORA" and {"q_proj", "v_proj"} <= set(adapter_cfg["target_modules"])
    weights = load_file(str(adapter_dir / "adapter_model.safetensors"))
    lora_b = [t for k, t in weights.items() if "lora_B" in k]
    assert lora_b and any(t.abs().sum() > 0 for t in lora_b)  # B starts at zero: it was trained

    train_rows = [r for r in history if "loss" in r and "rewards/margins" in r]
    assert train_rows, history
    assert all(math.isfinite(r["loss"]) for r in train_rows)
    assert {"rewards/chosen", "rewards/rejected"} <= set(train_rows[0])
    # Step 1: the policy IS the reference (LoRA B = 0, adapter-disabled reference), so loss = ln 2, margin 0.
    assert train_rows[0]["loss"] == pytest.approx(math.log(2), abs=1e-3)
    assert train_rows[0]["rewards/margins"] == pytest.approx(0.0, abs=1e-3)
    assert max(r.get("step", 0) for r in history) == 2

    merged_dir = merge_adapter(sft_dir, adapter_dir, tmp_path / "merged_dpo", mistral_cfg)
    config = json.loads((merged_dir / "config.json").read_text())
    assert config["model_type"] == "mistral" and "quantization_config" not in config
    merged = AutoModelForCausalLM.from_pretrained(str(merged_dir), dtype=torch.float32)
    sft = AutoModelForCausalLM.from_pretrained(str(sft_dir), dtype=torch.float32)
    merged_sd, sft_sd = merged.state_dict(), sft.state_dict()
    assert merged_sd.keys() == sft_sd.keys()
    changed = [k for k in sft_sd if not torch.equal(merged_sd[k], sft_sd[k])]
    assert changed and all(any(m in k for m in adapter_cfg["target_modules"]) for k in changed)
    ids = torch.tensor([[1, 2, 3, 4]])
    assert torch.isfinite(merged(input_ids=ids).logits).all()
