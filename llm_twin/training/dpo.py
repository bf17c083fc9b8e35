"""Optional DPO stage on top of the SFT twin: QLoRA again (NF4 of the merged SFT model + a new LoRA),
trained on (author text ≻ base model answer) pairs, then merged into the full-precision SFT model.
With peft and no explicit ref_model, trl uses the adapter-disabled model as the reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_twin.config.model import ModelConfig
from llm_twin.config.training import TrainingConfig
from llm_twin.domain.datasets import PreferenceDataset
from llm_twin.models.loading import has_cuda, load_tokenizer
from llm_twin.training.sft import load_base_for_training, lora_config


def train_dpo(
    preference: PreferenceDataset,
    sft_merged_dir: Path,
    model_cfg: ModelConfig,
    cfg: TrainingConfig,
    output_dir: Path,
    callbacks: list[Any] | None = None,
) -> tuple[Path, list[dict[str, float]]]:
    from trl import DPOConfig, DPOTrainer

    if not preference.samples:
        raise ValueError("DPO is enabled but the preference dataset is empty (dataset.preference.enabled?)")
    tok = load_tokenizer(sft_merged_dir)
    model = load_base_for_training(sft_merged_dir, model_cfg)
    args = DPOConfig(
        output_dir=str(output_dir / "dpo_checkpoints"),
        num_train_epochs=cfg.dpo.epochs,
        max_steps=cfg.dpo.max_steps,
        learning_rate=cfg.dpo.learning_rate,
        beta=cfg.dpo.beta,
        per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        logging_steps=cfg.logging_steps,
        save_strategy="no",
        report_to="none",
        max_length=model_cfg.max_seq_length,
        seed=cfg.seed,
        use_cpu=not has_cuda(),
    )
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=preference.to_hf(),
        processing_class=tok,
        peft_config=lora_config(model_cfg),
        callbacks=callbacks or [],
    )
    trainer.train()
    adapter_dir = output_dir / "adapter_dpo"
    trainer.save_model(str(adapter_dir))  # a PeftModel saves only its adapter
    tok.save_pretrained(str(adapter_dir))
    history = [{k: float(v) for k, v in r.items() if isinstance(v, (int, float))} for r in trainer.state.log_history]
    return adapter_dir, history
