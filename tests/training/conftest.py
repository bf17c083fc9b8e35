"""Fixtures of the training tests: a tmp feature store with the synthetic author, the packaged SmolLM2
converted once per session, and a tiny random Mistral-architecture model built in code."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import load_into_qdrant, make_corpus

from llm_twin.config import (
    DatasetConfig,
    EmbeddingConfig,
    EvaluationConfig,
    ModelConfig,
    TrainingConfig,
    compose,
)


@pytest.fixture(scope="session")
def composed():
    return compose(["pipeline=train"])


@pytest.fixture(scope="session")
def smollm2_cfg(composed) -> ModelConfig:
    return ModelConfig.of(composed.model)


@pytest.fixture(scope="session")
def embedding_cfg(composed) -> EmbeddingConfig:
    return EmbeddingConfig.of(composed.embedding)


@pytest.fixture(scope="session")
def evaluation_cfg(composed) -> EvaluationConfig:
    return EvaluationConfig.of(composed.evaluation)


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory: pytest.TempPathFactory, smollm2_cfg: ModelConfig) -> Path:
    from llm_twin.models.base import ensure_base_model

    return ensure_base_model(smollm2_cfg, cache_root=tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def small_feature_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 posts, 4 articles, 2 code snippets in cleaned_* and embedded_* collections."""
    path = tmp_path_factory.mktemp("qdrant") / "store"
    load_into_qdrant(path, make_corpus(n_posts=12, n_articles=4, n_code=2, seed=3))
    return path


@pytest.fixture
def dataset_cfg(composed) -> DatasetConfig:
    return DatasetConfig.of(composed.dataset)


@pytest.fixture
def fast_training_cfg(composed) -> TrainingConfig:
    cfg = TrainingConfig.of(composed.training)
    return cfg.model_copy(update={
        "max_steps": 2, "per_device_batch_size": 2, "gradient_accumulation_steps": 1, "logging_steps": 1,
        "sample_generations": 1, "max_new_tokens": 8, "comet": cfg.comet.model_copy(update={"enabled": True}),
    })


@pytest.fixture(scope="session")
def tiny_mistral_dir(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Path:
    """A random 2-layer MistralForCausalLM with SmolLM2's tokenizer (and chat template)."""
    from transformers import AutoTokenizer, MistralConfig, MistralForCausalLM

    tok = AutoTokenizer.from_pretrained(str(smollm2_dir))
    config = MistralConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, max_position_embeddings=512, sliding_window=None,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    import torch

    torch.manual_seed(0)
    model = MistralForCausalLM(config)
    out = tmp_path_factory.mktemp("tiny_mistral")
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out


@pytest.fixture
def mistral_cfg(composed, tiny_mistral_dir: Path) -> ModelConfig:
    mistral = ModelConfig.of(compose(["pipeline=train", "model=mistral"]).model)
    return mistral.model_copy(update={
        "local_path": str(tiny_mistral_dir), "dtype": "float32", "bnb_4bit_compute_dtype": "float32",
        "max_seq_length": 384, "lora": mistral.lora.model_copy(update={"r": 4}),
    })
