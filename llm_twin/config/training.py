"""`conf/training/<name>.yaml`: SFT (and optional DPO) hyperparameters and experiment tracking.

Model-specific settings (quantization, LoRA) live in `conf/model/<name>.yaml`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llm_twin.config.base import Schema


class DpoConfig(Schema):
    enabled: bool
    beta: float = Field(gt=0)
    epochs: float = Field(gt=0)
    learning_rate: float = Field(gt=0)
    max_steps: int


class CometConfig(Schema):
    """`online: auto` = online when COMET_API_KEY is set, offline archives under .twin/comet otherwise."""

    enabled: bool
    project: str
    workspace: str | None
    online: Literal["auto", "always", "never"]


class TrainingConfig(Schema):
    epochs: float = Field(gt=0)
    max_steps: int = Field(description="> 0 overrides epochs")
    learning_rate: float = Field(gt=0)
    per_device_batch_size: int = Field(ge=1)
    gradient_accumulation_steps: int = Field(ge=1)
    warmup_steps: float = Field(ge=0, description="< 1: a ratio of all steps")
    lr_scheduler: str
    weight_decay: float = Field(ge=0)
    logging_steps: int = Field(ge=1)
    gradient_checkpointing: bool
    eval_strategy: Literal["epoch", "end", "no"] = Field(
        description="held-out loss: after every epoch, once after training, or never (the evaluate step "
        "scores held-out perplexity anyway)")
    token_metrics: bool | Literal["auto"] = Field(
        description="trl's per-step entropy and token accuracy (its fused LM head); auto: on CUDA only")
    train_sampling: Literal["random", "group_by_length"] = Field(
        description="group_by_length: batches of similar lengths, so less padding is computed")
    use_augmented: bool = Field(description="train on augmented prompts as well as plain ones")
    seed: int
    torch_threads: int | Literal["auto"]
    cpu_mixed_precision: Literal["auto", "bf16", "off"] = Field(
        description="on a machine without CUDA: bf16 autocast (fp32 weights and optimizer, bf16 matmuls); "
        "auto = on when the CPU has native bf16 instructions (AVX512-BF16 or AMX)")
    sample_generations: int = Field(ge=0)
    max_new_tokens: int = Field(ge=1)
    dpo: DpoConfig
    comet: CometConfig
