"""The real QLoRA code path (bitsandbytes NF4 + peft LoRA + trl SFTTrainer, completion-only loss) for a
few steps on CPU: the packaged SmolLM2 and a tiny random Mistral built in code; then merge, tracking,
sample generation and evaluation of the merged model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from llm_twin.config import (
    DatasetConfig,
    EmbeddingConfig,
    EvaluationConfig,
    InfraConfig,
    ModelConfig,
    TrainingConfig,
    load_group,
)
from llm_twin.connections import Connections
from llm_twin.evaluation.evaluator import evaluate_models
from llm_twin.training.dataset_builder import build_instruct_dataset
from llm_twin.training.pipeline import run_training

pytestmark = pytest.mark.slow


@pytest.fixture
def small_dataset(small_feature_store: Path, dataset_cfg: DatasetConfig, smollm2_cfg: ModelConfig, smollm2_dir: Path,
                  embedding_cfg: EmbeddingConfig):
    model_cfg = smollm2_cfg.model_copy(update={"local_path": str(smollm2_dir)})
    infra = load_group("infra", schema=InfraConfig).model_copy(update={"qdrant_path": str(small_feature_store)})
    return build_instruct_dataset(Connections.of(infra), dataset_cfg, model_cfg, embedding_cfg)


def _check_outputs(out, tmp_path: Path) -> None:
    adapter = Path(out.adapter_dir)
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    assert (adapter / "adapter_model.safetensors").is_file() and cfg["peft_type"] == "LORA"
    merged = Path(out.merged_dir)
    assert (merged / "model.safetensors").is_file() and (merged / "tokenizer.json").is_file()
    assert "quantization_config" not in json.loads((merged / "config.json").read_text())  # full precision
    assert out.result.steps == 2 and math.isfinite(out.result.train_loss)
    assert any("loss" in row for row in out.result.log_history)
    assert Path(out.loss_plot).stat().st_size > 1000
    assert out.comet_archive and Path(out.comet_archive).suffix == ".zip"  # offline archive
    assert out.samples and "generated" in out.samples[0]


def test_qlora_smollm2_trains_merges_and_evaluates(
    tmp_path: Path, small_dataset, smollm2_cfg: ModelConfig, smollm2_dir: Path, fast_training_cfg: TrainingConfig,
    evaluation_cfg: EvaluationConfig, embedding_cfg: EmbeddingConfig, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLM_TWIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COMET_API_KEY", raising=False)
    model_cfg = smollm2_cfg.model_copy(update={"local_path": str(smollm2_dir)})
    out = run_training(small_dataset, model_cfg, fast_training_cfg, tmp_path / "work")
    _check_outputs(out, tmp_path)
    assert Path(out.comet_archive).parent == tmp_path / "home" / "comet"
    report = evaluate_models(
        small_dataset, out.merged_dir,
        evaluation_cfg.model_copy(update={"max_samples": 2, "max_new_tokens": 12, "batch_size": 2,  # no other authors here
                                          "attribution": evaluation_cfg.attribution.model_copy(update={"enabled": False})}),
        embedding_cfg,
        base_dir=smollm2_dir, max_length=model_cfg.max_seq_length,
    )
    assert report.base and math.isfinite(report.candidate.perplexity) and report.base.perplexity > 1
    assert len(report.candidate.samples) == 2 and 0 <= report.candidate.rouge_l <= 1
    assert -1 <= report.candidate.style_similarity <= 1


def test_qlora_tiny_mistral_code_path(
    tmp_path: Path, small_dataset, mistral_cfg: ModelConfig, fast_training_cfg: TrainingConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`model=mistral` on CPU: the same 4-bit + LoRA + SFT + merge path on a MistralForCausalLM."""
    monkeypatch.setenv("LLM_TWIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COMET_API_KEY", raising=False)
    assert mistral_cfg.name == "mistral" and mistral_cfg.load_in_4bit
    out = run_training(small_dataset, mistral_cfg, fast_training_cfg, tmp_path / "work")
    _check_outputs(out, tmp_path)
    assert json.loads((Path(out.merged_dir) / "config.json").read_text())["model_type"] == "mistral"
    targets = set(json.loads((Path(out.adapter_dir) / "adapter_config.json").read_text())["target_modules"])
    assert {"q_proj", "down_proj"} <= targets
