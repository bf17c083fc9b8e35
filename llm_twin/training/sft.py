"""QLoRA supervised fine-tuning: 4-bit NF4 base (bitsandbytes) + LoRA (peft) + trl's SFTTrainer.

The dataset is in trl's conversational prompt-completion format, so the base model's own chat template
renders it and the loss is computed on the completion (the author's text) only. The same code runs
SmolLM2 on a laptop CPU and Mistral-7B on a GPU step operator; only `conf/model` changes.

`build_trainer` is the whole set-up without the training itself, so `bench/train.py` measures the very
code path that `train_sft` runs (trained tokens/s) next to a bare peft loop on the same batches.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from llm_twin.config.model import ModelConfig
from llm_twin.config.training import TrainingConfig
from llm_twin.domain.datasets import InstructDataset
from llm_twin.models.loading import cpu_has_native_bf16, has_cuda, load_tokenizer, torch_dtype, trains_in_4bit

log = logging.getLogger(__name__)


class TrainingResult(BaseModel):
    adapter_dir: str
    train_loss: float | None = None
    eval_loss: float | None = None
    steps: int = 0
    train_examples: int = 0
    duration_s: float = 0.0
    trained_tokens: int = Field(default=0, description="non-padding tokens through forward + backward")
    train_runtime_s: float = Field(default=0.0, description="wall time of the training loop itself")
    tokens_per_s: float = 0.0
    log_history: list[dict[str, float]] = Field(default_factory=list)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


def bnb_config(model_cfg: ModelConfig) -> Any:
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=model_cfg.bnb_4bit_quant_type,
        bnb_4bit_compute_dtype=torch_dtype(model_cfg.bnb_4bit_compute_dtype),
        bnb_4bit_use_double_quant=model_cfg.bnb_4bit_use_double_quant,
    )


def load_base_for_training(base_dir: Path | str, model_cfg: ModelConfig) -> Any:
    """The base model, 4-bit NF4 quantized when `trains_in_4bit` (bitsandbytes works on CPU too)."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch_dtype(model_cfg.dtype)}
    if trains_in_4bit(model_cfg):
        kwargs["quantization_config"] = bnb_config(model_cfg)
        kwargs["device_map"] = {"": 0} if has_cuda() else {"": "cpu"}
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), **kwargs)
    model.config.use_cache = False
    return model


def lora_config(model_cfg: ModelConfig) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=model_cfg.lora.r,
        lora_alpha=model_cfg.lora.alpha,
        lora_dropout=model_cfg.lora.dropout,
        target_modules=list(model_cfg.lora.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def sft_config(output_dir: Path, model_cfg: ModelConfig, cfg: TrainingConfig, has_eval: bool) -> Any:
    from trl import SFTConfig

    cuda = has_cuda()
    return SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.per_device_batch_size,
        per_device_eval_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        # `end`: one evaluation after training (train_sft) instead of one per epoch inside the loop
        eval_strategy="epoch" if has_eval and cfg.eval_strategy == "epoch" else "no",
        save_strategy="no",
        report_to="none",  # explicit: Comet is driven by our own callback (see tracking.py)
        seed=cfg.seed,
        data_seed=cfg.seed,
        max_length=model_cfg.max_seq_length,
        completion_only_loss=True,  # loss on the author's text only
        packing=False,
        # batches of similar lengths: padding is compute that trains nothing (bench/train.py)
        train_sampling_strategy=cfg.train_sampling,
        include_num_input_tokens_seen="non_padding",
        gradient_checkpointing=cfg.gradient_checkpointing,
        use_cpu=not cuda,
        bf16=(model_cfg.dtype == "bfloat16") if cuda else cpu_autocasts_bf16(cfg),
        fp16=cuda and model_cfg.dtype == "float16",
        dataloader_num_workers=0,
        disable_tqdm=False,
    )


def cpu_autocasts_bf16(cfg: TrainingConfig) -> bool:
    """Whether CPU training runs under bf16 autocast: the weights, LoRA adapter and AdamW stay fp32 and
    the matmuls run in bf16. Measured on a 2-core AVX512-BF16 machine: bf16 GEMMs at ~4.3x the fp32 rate
    (bench/train.py, README Benchmarks)."""
    if cfg.cpu_mixed_precision == "auto":
        return cpu_has_native_bf16()
    return cfg.cpu_mixed_precision == "bf16"


def trainer_class(cfg: TrainingConfig) -> Any:
    """trl's SFTTrainer, or (`token_metrics` off) one that trains on the model's own loss.

    trl computes the loss through a fused LM head that also yields per-token entropy and top-1 accuracy
    for its logs. On CPU it scores every position, computes the entropy over the whole vocabulary and
    recomputes the head in the backward pass: torch.profiler put it at ~40 % of a SmolLM2 training step
    (bench/train.py --profile). On CUDA its Triton kernels score only the completion tokens and save the
    memory of the full logits, so `auto` keeps it there."""
    from transformers import Trainer
    from trl import SFTTrainer

    metrics = has_cuda() if cfg.token_metrics == "auto" else bool(cfg.token_metrics)
    if metrics:
        return SFTTrainer

    class ModelLossSFTTrainer(SFTTrainer):
        """SFTTrainer whose loss is the causal-LM loss of the model's own forward on the completion labels,
        with the LM head applied only where a label is: the prompt's positions never reach the 49k-wide
        vocabulary projection and its log-softmax (the same loss, less compute; bench/train.py)."""

        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            inputs["use_cache"] = False
            if not model.training or "labels" not in inputs:
                return Trainer.compute_loss(self, model, inputs, return_outputs=return_outputs,
                                            num_items_in_batch=num_items_in_batch)
            if "attention_mask" in inputs:
                self._total_train_tokens += int(inputs["attention_mask"].sum())
                self._metrics["train"]["num_tokens"] = [self._total_train_tokens]
            loss, outputs = completion_loss(model, inputs, num_items_in_batch)
            return (loss, outputs) if return_outputs else loss

    return ModelLossSFTTrainer


def completion_loss(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> tuple[Any, Any]:
    """Next-token cross-entropy over the labelled positions only, normalised as transformers' causal-LM
    loss is (a sum ÷ the labelled tokens of the whole accumulated batch, when the trainer counts them)."""
    import torch
    from torch.nn import functional

    labels = inputs["labels"]
    targets = functional.pad(labels, (0, 1), value=-100)[:, 1:]  # position p predicts token p + 1
    keep = targets != -100
    forward = {k: v for k, v in inputs.items() if k != "labels"}
    outputs = model(**forward, logits_to_keep=keep)  # logits: (labelled positions, vocabulary)
    loss = functional.cross_entropy(outputs.logits.float(), targets[keep], reduction="sum")
    denominator = num_items_in_batch if num_items_in_batch is not None else keep.sum()
    if torch.is_tensor(denominator):
        denominator = denominator.to(loss.device)
    return loss / denominator, outputs


@dataclass
class SFTSetup:
    """A ready trainer and what it was built from (`build_trainer`)."""

    trainer: Any
    tokenizer: Any
    train_ds: Any
    eval_ds: Any | None


def build_trainer(
    dataset: InstructDataset,
    base_dir: Path | str,
    model_cfg: ModelConfig,
    cfg: TrainingConfig,
    output_dir: Path,
    callbacks: list[Any] | None = None,
) -> SFTSetup:
    """Everything `train_sft` does before `trainer.train()`: data, tokenizer, base, LoRA, SFTTrainer."""
    hf = dataset.to_hf(include_augmented=cfg.use_augmented)
    train_ds = hf["train"].select_columns(["prompt", "completion"])
    eval_ds = hf["test"].select_columns(["prompt", "completion"]) if len(hf["test"]) else None
    if len(train_ds) == 0:
        raise ValueError("the instruct dataset has no training examples")
    tokenizer = load_tokenizer(base_dir)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"the tokenizer in {base_dir} has no chat template: it is needed to render prompts")
    model = load_base_for_training(base_dir, model_cfg)
    args = sft_config(output_dir / "checkpoints", model_cfg, cfg, has_eval=eval_ds is not None)
    trainer = trainer_class(cfg)(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=lora_config(model_cfg),
        callbacks=callbacks or [],
    )
    return SFTSetup(trainer=trainer, tokenizer=tokenizer, train_ds=train_ds, eval_ds=eval_ds)


def _history_row(row: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def train_sft(
    dataset: InstructDataset,
    base_dir: Path | str,
    model_cfg: ModelConfig,
    cfg: TrainingConfig,
    output_dir: Path,
    callbacks: list[Any] | None = None,
) -> TrainingResult:
    """Train a LoRA adapter on the instruct dataset; the adapter (and tokenizer) land in output_dir/adapter."""
    started = time.perf_counter()
    setup = build_trainer(dataset, base_dir, model_cfg, cfg, output_dir, callbacks)
    trainer, tokenizer = setup.trainer, setup.tokenizer
    output = trainer.train()
    runtime = float(output.metrics.get("train_runtime", 0.0))
    tokens = int(trainer.state.num_input_tokens_seen or 0)
    eval_loss = None
    if setup.eval_ds is not None and cfg.eval_strategy != "no":
        eval_loss = float(trainer.evaluate()["eval_loss"])
    adapter_dir = output_dir / "adapter"
    trainer.save_model(str(adapter_dir))  # a PeftModel saves only its adapter
    tokenizer.save_pretrained(str(adapter_dir))
    history = [_history_row(r) for r in trainer.state.log_history]
    result = TrainingResult(
        adapter_dir=str(adapter_dir),
        train_loss=float(output.training_loss) if output.training_loss is not None and math.isfinite(output.training_loss) else None,
        eval_loss=eval_loss,
        steps=int(trainer.state.global_step),
        train_examples=len(setup.train_ds),
        duration_s=round(time.perf_counter() - started, 1),
        trained_tokens=tokens,
        train_runtime_s=round(runtime, 2),
        tokens_per_s=round(tokens / runtime, 1) if runtime > 0 else 0.0,
        log_history=history,
        hyperparameters={
            "model": model_cfg.name,
            "base_model_id": model_cfg.base_model_id,
            "load_in_4bit": trains_in_4bit(model_cfg),
            "quant_type": model_cfg.bnb_4bit_quant_type,
            "lora_r": model_cfg.lora.r,
            "lora_alpha": model_cfg.lora.alpha,
            "lora_dropout": model_cfg.lora.dropout,
            "target_modules": ",".join(model_cfg.lora.target_modules),
            "max_seq_length": model_cfg.max_seq_length,
            **{k: v for k, v in cfg.model_dump().items() if k not in ("dpo", "comet")},
        },
    )
    del trainer, setup
    return result
