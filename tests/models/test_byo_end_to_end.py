"""A user's own base model of each family, from each place it may come from, through the real code path:
one YAML file (`local_path`) → base model folder → a few QLoRA steps (4-bit NF4 + LoRA + trl) → merge →
GGUF export checked by perplexity against PyTorch → quantization chosen by measurement → llama.cpp
generation through the serving generator."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from llm_twin.config import TrainingConfig, load_group
from llm_twin.domain.datasets import InstructDataset, InstructSample
from llm_twin.inference.export import build_served_gguf
from llm_twin.inference.generator import GenerationParams, LlamaGenerator
from llm_twin.inference.heldout import bundled_texts
from llm_twin.models.base import base_gguf, base_model_dir
from llm_twin.training.pipeline import run_training
from tests.configs import configured
from tests.models.conftest import user_model_config
from tests.models.tiny_models import FAMILIES

pytestmark = pytest.mark.slow


def tiny_dataset() -> InstructDataset:
    texts = bundled_texts()
    samples = [InstructSample(id=f"s{i}", data_type="articles", document_id=f"d{i}", instruction=f"Write about topic {i}.",
                              answer=text[:240]) for i, text in enumerate(texts)]
    return InstructDataset(train=samples[:6], test=samples[6:])


def fast_training() -> TrainingConfig:
    cfg = load_group("training", schema=TrainingConfig)
    return cfg.model_copy(update={
        "max_steps": 2, "per_device_batch_size": 2, "gradient_accumulation_steps": 1, "logging_steps": 1,
        "sample_generations": 1, "max_new_tokens": 4, "torch_threads": 2,
        "comet": cfg.comet.model_copy(update={"enabled": False}),
    })


@pytest.mark.parametrize("source", ["hf_folder", "ollama_gguf"])
@pytest.mark.parametrize("family", FAMILIES)
def test_own_base_model_trains_merges_exports_and_serves(family, source, tiny_hf, tiny_gguf, tmp_path,
                                                         clean_models_cache, monkeypatch):
    if source == "hf_folder":
        local_path = str(tiny_hf[family])
    else:
        monkeypatch.setenv("OLLAMA_MODELS", str(tiny_gguf[family]["ollama_root"]))
        local_path = f"ollama:tiny-{family}"
    model_cfg = user_model_config(tmp_path, f"my_{family}", local_path)
    assert model_cfg.load_in_4bit  # the QLoRA path: bitsandbytes NF4 on CPU

    base = base_model_dir(model_cfg)
    out = run_training(tiny_dataset(), model_cfg, fast_training(), tmp_path / "work")
    assert out.result.steps == 2 and math.isfinite(out.result.train_loss)
    merged = Path(out.merged_dir)
    merged_cfg = json.loads((merged / "config.json").read_text())
    assert "quantization_config" not in merged_cfg and merged_cfg["model_type"] == json.loads(
        (base / "config.json").read_text())["model_type"]
    adapter = json.loads((Path(out.adapter_dir) / "adapter_config.json").read_text())
    assert {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"} == set(adapter["target_modules"])
    assert out.samples and "generated" in out.samples[0]

    settings = configured("serving", quantization={"candidates": ["Q8_0"], "window_tokens": 128, "max_windows": 3,
                                                   "tolerance": 0.05}).quantization
    served_dir = tmp_path / "served"
    report = build_served_gguf(merged, base_gguf(model_cfg), served_dir, bundled_texts(), settings,
                               model_version=f"{family}-{source}", heldout_source="bundled")
    assert abs(report.f32_gguf_perplexity / report.pytorch_perplexity - 1) < settings.export_tolerance
    assert report.qtype == "Q8_0" and (served_dir / "twin.gguf").is_file()

    generator = LlamaGenerator(served_dir / "twin.gguf", n_ctx=512, threads=2)
    try:
        params = GenerationParams.of(configured("serving").generation, max_new_tokens=6, temperature=0.0, seed=3)
        answer = generator.generate([{"role": "user", "content": "Write a post about vector databases."}], params)
        assert answer.completion_tokens >= 1 and answer.prompt_tokens > 5
    finally:
        generator.close()
