"""`conf/model/<name>.yaml`: the base model, and how it is quantized and adapted for training."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llm_twin.config.base import Schema

Dtype = Literal["float32", "bfloat16", "float16"]


class LoraConfig(Schema):
    r: int = Field(ge=1)
    alpha: int = Field(ge=1)
    dropout: float = Field(ge=0.0, lt=1.0)
    target_modules: list[str] = Field(min_length=1)


class ModelConfig(Schema):
    """Where the base model comes from: a GGUF shipped in a PyPI package (`gguf_package` + `gguf_file`),
    a local folder (`local_path`), or a hub id (`base_model_id`, GPU stacks)."""

    name: str = Field(min_length=1)
    base_model_id: str = Field(min_length=1)
    gguf_package: str | None
    gguf_file: str | None
    local_path: str | None
    max_seq_length: int = Field(ge=16)
    learning_rate: float = Field(gt=0, description="LoRA learning rate (training.learning_rate follows it): "
                                 "a small base needs a higher rate than a 7B one")
    dtype: Dtype
    load_in_4bit: bool = Field(description="QLoRA: train on a 4-bit NF4 base (bitsandbytes); the GPU default")
    cpu_load_in_4bit: bool = Field(
        description="on a machine without CUDA, still train on the 4-bit base (else full precision, `dtype`); "
        "only meaningful with load_in_4bit. Chosen per model by measurement (bench/train.py)")
    bnb_4bit_quant_type: Literal["nf4", "fp4"]
    bnb_4bit_compute_dtype: Dtype
    bnb_4bit_use_double_quant: bool
    lora: LoraConfig
