"""Instruct dataset building on a real (tmp, local-mode) Qdrant feature store."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_twin.config import DatasetConfig, EmbeddingConfig, InfraConfig, ModelConfig, load_group
from llm_twin.config.dataset import WindowConfig
from llm_twin.connections import Connections, llm_client
from llm_twin.domain.datasets import InstructSample
from llm_twin.llm_client import LLMError
from llm_twin.training.dataset_builder import (
    AugmentContext,
    build_instruct_dataset,
    dedupe,
    split_by_document,
)
from llm_twin.training.instructions import TemplateGenerator, keyphrases, make_generator
from llm_twin.training.windowing import window_text


def _store(path: Path) -> Connections:
    return Connections.of(load_group("infra", schema=InfraConfig).model_copy(update={"qdrant_path": str(path)}))


def test_windows_respect_paragraphs_and_size() -> None:
    text = "\n\n".join(" ".join(f"w{p}x{i}" for i in range(40)) for p in range(5))
    windows = window_text(text, "articles", WindowConfig(max_words=100, overlap_words=0))
    assert [len(w.split()) for w in windows] == [80, 80, 40]
    assert all("\n\n" in w for w in windows[:2])
    long = " ".join(f"s{i}." for i in range(250))
    assert max(len(w.split()) for w in window_text(long, "posts", WindowConfig(max_words=60, overlap_words=0))) <= 60


def test_template_instructions_name_platform_and_topic() -> None:
    text = "Feature stores keep training and serving consistent. A feature store is a contract. Feature stores rock."
    assert "feature" in " ".join(keyphrases(text, 3))
    gen = TemplateGenerator(3)
    post = gen.instruction(text, data_type="posts", platform="linkedin", title="")
    assert post.startswith("Write a LinkedIn post about") and "feature" in post
    art = gen.instruction(text, data_type="articles", platform="medium", title="Stores")
    assert '"Stores"' in art and "Medium" in art


def test_llm_generator_without_endpoint_fails_clearly(dataset_cfg: DatasetConfig) -> None:
    endpoint = dataset_cfg.generator.llm
    with pytest.raises(LLMError, match="base_url"):
        llm_client(endpoint.model_copy(update={"base_url": None}))
    unreachable = endpoint.model_copy(update={"base_url": "http://127.0.0.1:9/v1", "timeout_s": 0.5, "retries": 0})
    with pytest.raises(LLMError, match="failed after"):
        llm_client(unreachable).chat([{"role": "user", "content": "hi"}])
    assert make_generator(dataset_cfg.generator).name == "template"


def _sample(doc: str, idx: int, answer: str) -> InstructSample:
    return InstructSample(id=f"{doc}:{idx}", data_type="posts", document_id=doc, window_index=idx, instruction="x", answer=answer)


def test_dedupe_and_grouped_seeded_split() -> None:
    samples = [_sample(f"d{i}", j, f"text {i} {j}") for i in range(10) for j in range(2)]
    kept, dropped = dedupe(samples + [_sample("dX", 0, "TEXT 3   1")])
    assert dropped == 1 and len(kept) == 20
    train, test = split_by_document(kept, 0.2, seed=1)
    assert {s.document_id for s in train}.isdisjoint({s.document_id for s in test})
    assert 2 <= len(test) <= 6 and len(train) + len(test) == 20
    assert split_by_document(kept, 0.2, seed=1) == (train, test)  # reproducible


def test_build_from_feature_store(small_feature_store: Path, dataset_cfg: DatasetConfig, smollm2_cfg: ModelConfig,
                                  smollm2_dir: Path, embedding_cfg: EmbeddingConfig) -> None:
    model_cfg = smollm2_cfg.model_copy(update={"local_path": str(smollm2_dir)})
    ds = build_instruct_dataset(_store(small_feature_store), dataset_cfg, model_cfg, embedding_cfg)
    meta = ds.metadata
    assert meta.documents == 18 and meta.generator == "template" and len(meta.dataset_hash) == 64
    assert meta.counts["train"] == len(ds.train) and meta.counts["test"] == len(ds.test) and ds.test
    assert {"posts", "articles", "code"} <= {s.data_type for s in ds.train + ds.test}
    assert 0 < meta.token_stats.max <= model_cfg.max_seq_length
    augmented = [s for s in ds.train + ds.test if s.kind == "augmented"]
    assert augmented, "half of the windows should get retrieved context"
    assert all(s.context for s in augmented)
    hf = ds.to_hf()
    assert hf["train"][0]["completion"][0]["role"] == "assistant" and hf["train"][0]["prompt"][-1]["role"] == "user"
    again = build_instruct_dataset(_store(small_feature_store), dataset_cfg, model_cfg, embedding_cfg)
    assert again.metadata.dataset_hash == meta.dataset_hash  # deterministic


def test_retrieved_context_never_comes_from_the_target_document(small_feature_store: Path,
                                                                embedding_cfg: EmbeddingConfig) -> None:
    from llm_twin.domain.documents import DataType
    from llm_twin.feature_store.qdrant import FeatureStore

    with FeatureStore(_store(small_feature_store), embedding_cfg.dimension) as store:
        docs = store.cleaned_documents(DataType.ARTICLE)
        retriever = AugmentContext(store, embedding_cfg)
        for doc in docs:
            chunks = retriever.retrieve(doc.text, "articles", doc.document_id, top_k=3)  # query = the doc itself
            assert chunks and all(c.document_id != doc.document_id for c in chunks)


def test_empty_feature_store_is_a_clear_error(tmp_path: Path, dataset_cfg: DatasetConfig, smollm2_cfg: ModelConfig,
                                              smollm2_dir: Path, embedding_cfg: EmbeddingConfig) -> None:
    model_cfg = smollm2_cfg.model_copy(update={"local_path": str(smollm2_dir)})
    with pytest.raises(ValueError, match="run the features"):
        build_instruct_dataset(_store(tmp_path / "empty"), dataset_cfg, model_cfg, embedding_cfg)
