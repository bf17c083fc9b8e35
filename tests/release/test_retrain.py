"""The retraining trigger, end to end: the author publishes new posts (written to the real warehouse, and
to the feature store as the CDC stream would), and a bounded release run (`python run.py pipeline=release
release.max_cycles=1`) counts them against the production version's dataset snapshot, decides to retrain,
and runs `pipeline=train` (tiny model, a few steps): a new version is registered in the Model Control
Plane with the decision and its inputs as metadata, and its own dataset snapshot holds the new posts."""

from __future__ import annotations

import pytest

from llm_twin.domain.documents import Article, DataType, Document, Post
from llm_twin.domain.features import CleanedPayload
from tests.release.conftest import ReleaseEnv

pytestmark = pytest.mark.slow

FAST = [
    "training.max_steps=2", "training.per_device_batch_size=2", "training.gradient_accumulation_steps=1",
    "training.sample_generations=1", "training.max_new_tokens=4", "training.comet.enabled=false",
    "dataset.preference.max_samples=2", "dataset.preference.max_new_tokens=4",
    "dataset.test_size=0.3", "evaluation.max_samples=2", "evaluation.max_new_tokens=4",
    "evaluation.gate.max_perplexity_ratio=100", "evaluation.gate.min_style_gain=-1",
    "evaluation.gate.production_tolerance=100",
]


def publish(env: ReleaseEnv, docs: list[CleanedPayload], prefix: str) -> dict[str, str]:
    """Write the documents to the warehouse and their cleaned features (same id and content hash, as the
    feature pipelines carry them) to the feature store; returns {id: content hash}."""
    from llm_twin.warehouse.repository import Warehouse
    from tests.training.corpus import load_into_qdrant

    written: list[CleanedPayload] = []
    with Warehouse(env.connections) as warehouse:  # type: ignore[attr-defined]
        user = warehouse.get_or_create_user(docs[0].author_full_name)
        for doc in docs:
            common = {"platform": doc.platform, "link": f"https://example.com/{prefix}{doc.document_id}",
                      "author_id": user.id, "author_full_name": user.full_name}
            stored: Document = (Article(content={"title": doc.title, "text": doc.text}, **common)
                                if doc.data_type == DataType.ARTICLE else Post(content={"text": doc.text}, **common))
            warehouse.upsert(stored)
            written.append(doc.model_copy(update={"document_id": stored.id, "content_hash": stored.content_hash,
                                                  "author_id": user.id, "link": stored.link}))
    load_into_qdrant(env.home / "qdrant", written)
    return {d.document_id: d.content_hash for d in written}


def test_new_documents_beyond_the_threshold_register_a_new_candidate(release_env: ReleaseEnv, tiny_models) -> None:
    from tests.training.corpus import make_corpus

    env = release_env
    first = publish(env, make_corpus(n_posts=8, n_articles=2, n_code=0, seed=5), "v1-")
    # version 1 in production, trained on exactly these documents (the snapshot a training run records)
    env.register("1", tiny_models["a"], stage="production",
                 metadata={"dataset_snapshot": {"documents": first, "count": len(first)}})
    new = publish(env, make_corpus(n_posts=4, n_articles=0, n_code=0, seed=11), "new-")
    assert len(new) == 4

    run = env.run_py("release", "release.service_url=null", "release.max_cycles=1", "retrain.min_new_documents=4",
                     "retrain.min_corpus_share=null", "retrain.train_overrides=['training.logging_steps=1']",
                     *FAST, timeout=1500)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
    assert "retraining triggered: 4 new or changed of 14 documents" in run.stdout, run.stdout[-5000:]

    versions = {v["name"]: v for v in env.versions()}
    assert set(versions) == {"1", "2"}, "the triggered training run registered version 2"
    trigger = versions["2"]["metadata"]["retrain_trigger"]
    assert trigger["triggered"] and (trigger["new"], trigger["changed"], trigger["corpus"]) == (4, 0, 14)
    assert trigger["baseline_version"] == "1" and trigger["min_new_documents"] == 4
    snapshot = versions["2"]["metadata"]["dataset_snapshot"]
    assert set(new) <= set(snapshot["documents"]) and snapshot["count"] == 14
    assert {"training", "evaluation", "promotion"} <= set(versions["2"]["metadata"]), "through the same gate"
    status = env.status()
    assert status["training"]["exit_code"] == 0 and status["training"]["model_version"] == "2"
    assert status["retrain"]["triggered"] and status["serving"] == "1"
