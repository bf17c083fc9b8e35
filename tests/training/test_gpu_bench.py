"""`bench/gpu.py`, the benchmark that ran on the H200 (README, GPU stack), on this CPU machine.

No GPU runs here, so the CUDA-only calls (synchronize, the memory counters, the device's name) are
stubbed and the Mistral-7B shape is shrunk; the rest is the code that ran on CUDA: the project's
`build_trainer` (QLoRA through trl), the step clock, `merge_adapter`, and the service's `transformers_bnb`
generator loading the merged model unquantized, in 8-bit and in 4-bit (bitsandbytes' CPU backend).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from llm_twin.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow


def load_bench() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gpu", PROJECT_ROOT / "bench" / "gpu.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_gpu_the_cuda_parts_refuse_with_the_reason() -> None:
    result = subprocess.run([sys.executable, "bench/gpu.py", "train7b", "--tokenizer", "x"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 2
    assert "needs a CUDA GPU" in result.stderr


def test_train7b_path_trains_merges_and_serves_a_tiny_mistral(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                smollm2_dir: Path) -> None:
    import torch

    gpu = load_bench()
    for name in ("synchronize", "reset_peak_memory_stats", "empty_cache"):
        monkeypatch.setattr(torch.cuda, name, lambda *a, **k: None)
    for name in ("max_memory_allocated", "memory_allocated", "max_memory_reserved"):
        monkeypatch.setattr(torch.cuda, name, lambda *a, **k: 2**30)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "NVIDIA H200 (stubbed)")
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda *a: types.SimpleNamespace(major=9, minor=0, total_memory=141 * 2**30))
    monkeypatch.setattr(gpu, "DEVICE", "cpu")
    monkeypatch.setattr(gpu, "bf16_matmul_tflops", lambda *a, **k: 100.0)
    full_shape = gpu.mistral_7b_shaped

    def tiny_shape(tokenizer):
        config = full_shape(tokenizer)
        assert (config.num_hidden_layers, config.hidden_size, config.intermediate_size) == (32, 4096, 14336)
        config.update({"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                       "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16})
        return config

    monkeypatch.setattr(gpu, "mistral_7b_shaped", tiny_shape)
    out = tmp_path / "out"
    args = gpu.build_parser().parse_intermixed_args([
        "train7b", "--tokenizer", str(smollm2_dir), "--steps", "2", "--seq", "96", "--merge", "--new-tokens", "6",
        "--out", str(out), "training.per_device_batch_size=1", "training.gradient_accumulation_steps=1"])
    assert gpu.run(args) == 0

    training = json.loads((out / "train7b_training.json").read_text())
    result = json.loads((out / "train7b.json").read_text())
    assert training["steps"] == 2 and len(training["step_s"]) == 2 and training["tokens_per_s"] > 0
    assert training["seq"] == 96 and training["lora_r"] == 64  # conf/model/mistral.yaml
    assert 0 < training["mfu_vs_measured"] and training["datasheet_bf16_tflops"] == 989.0
    assert result["merge_s"] >= 0
    serving = result["serving"]
    for variant in ("bf16", "8bit", "4bit"):
        assert serving[variant]["tokens_per_s"] > 0, variant
    # a 2-layer model is mostly its (unquantized) embedding, so the saving is small but must be there
    assert serving["4bit_memory_ratio"] < 1 and serving["8bit_memory_ratio"] < 1
    assert not list(Path(args.out).glob("*.safetensors")), "no weights are left in the output folder"


def test_the_recorded_h200_figures_are_the_ones_in_the_readme() -> None:
    """The README's GPU section quotes bench/results/h200/*.json: keep the two in step."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    train = json.loads((PROJECT_ROOT / "bench/results/h200/train7b.json").read_text())
    smollm2 = json.loads((PROJECT_ROOT / "bench/results/h200/smollm2.json").read_text())
    assert f"{train['tokens_per_s']:,}" in readme and f"{train['peak_gib']}" in readme
    assert f"{smollm2['serving']['4bit_perplexity_ratio']}" in readme
