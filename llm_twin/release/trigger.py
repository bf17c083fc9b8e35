"""The retraining policy: is the author's new content worth a training run?

Counted in the warehouse, per document (id → content hash, the same hash the feature pipelines carry into
`cleaned_<type>`): documents that are new or changed since the dataset of the production version, whose
snapshot the training run logs on its model version (`dataset_snapshot`). `retrain.min_new_documents`
and `retrain.min_corpus_share` (of the author's documents now in the warehouse) are alternatives: either
one met triggers `pipeline=train`, whose candidate then goes through the promotion gate as always.

A candidate newer than production that already saw this content (trained, not promoted) is not trained
again for it: the count against that candidate's snapshot must pass the threshold too.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

from llm_twin.config import RetrainConfig
from llm_twin.release.registry import VersionRef
from llm_twin.release.status import utc_now

log = logging.getLogger("llm_twin.release")

SNAPSHOT_KEY = "dataset_snapshot"


class Delta(BaseModel):
    new: int
    changed: int
    corpus: int

    @property
    def count(self) -> int:
        return self.new + self.changed

    @property
    def share(self) -> float:
        return round(self.count / self.corpus, 4) if self.corpus else 0.0


class RetrainDecision(BaseModel):
    triggered: bool
    reason: str
    checked_at: str
    author: str | None
    corpus: int                       # the author's documents in the warehouse now
    new: int                          # ... not in the baseline dataset
    changed: int                      # ... in it, with another content hash
    share: float
    baseline_version: str | None      # the version whose dataset is the baseline (production, else latest)
    baseline_documents: int
    candidate_version: str | None     # a newer, unpromoted version already trained on recent content
    min_new_documents: int | None
    min_corpus_share: float | None


def snapshot_of(version: VersionRef | None) -> dict[str, str] | None:
    """The version's dataset snapshot (document id → content hash), or None if it has none."""
    if version is None:
        return None
    snapshot = version.metadata.get(SNAPSHOT_KEY)
    if isinstance(snapshot, dict) and isinstance(snapshot.get("documents"), dict):
        return {str(k): str(v) for k, v in snapshot["documents"].items()}
    return None


def delta(current: dict[str, str], baseline: dict[str, str]) -> Delta:
    new = sum(1 for doc_id in current if doc_id not in baseline)
    changed = sum(1 for doc_id, digest in current.items() if doc_id in baseline and baseline[doc_id] != digest)
    return Delta(new=new, changed=changed, corpus=len(current))


def meets(d: Delta, cfg: RetrainConfig) -> bool:
    by_count = cfg.min_new_documents is not None and d.count >= cfg.min_new_documents
    by_share = cfg.min_corpus_share is not None and d.corpus > 0 and d.share >= cfg.min_corpus_share
    return d.count > 0 and (by_count or by_share)


def decide(current: dict[str, str], versions: list[VersionRef], stage: str, cfg: RetrainConfig,
           author: str | None) -> RetrainDecision:
    """Apply the policy to the warehouse's documents and the model's versions (newest first)."""
    production = next((v for v in versions if v.stage == stage), None)
    baseline_version = production or next((v for v in versions if snapshot_of(v) is not None), None)
    baseline = snapshot_of(baseline_version) or {}
    d = delta(current, baseline)
    candidate = None
    if production is not None:
        candidate = next((v for v in versions if v.number > production.number and snapshot_of(v) is not None), None)
    common: dict[str, Any] = {
        "checked_at": utc_now(), "author": author, "corpus": d.corpus, "new": d.new, "changed": d.changed, "share": d.share,
        "baseline_version": baseline_version.name if baseline_version else None, "baseline_documents": len(baseline),
        "candidate_version": candidate.name if candidate else None,
        "min_new_documents": cfg.min_new_documents, "min_corpus_share": cfg.min_corpus_share,
    }
    thresholds = f"min_new_documents={cfg.min_new_documents}, min_corpus_share={cfg.min_corpus_share}"
    where = f"since the dataset of version {baseline_version.name}" if baseline_version else "(no trained version yet)"
    summary = f"{d.count} new or changed of {d.corpus} documents ({d.share:.1%}) {where}"
    if production is not None and snapshot_of(production) is None:
        return RetrainDecision(triggered=False, **common, reason=(
            f"production version {production.name} has no {SNAPSHOT_KEY} (trained before snapshots were recorded): "
            f"nothing to compare with; the next training run records one"))
    if not meets(d, cfg):
        return RetrainDecision(triggered=False, **common, reason=f"{summary}: below the policy ({thresholds})")
    if candidate is not None:
        since_candidate = delta(current, snapshot_of(candidate) or {})
        if not meets(since_candidate, cfg):
            return RetrainDecision(triggered=False, **common, reason=(
                f"{summary}, but candidate version {candidate.name} (stage {candidate.stage or 'none'}) was already "
                f"trained on it ({since_candidate.count} new since): awaiting its promotion"))
    return RetrainDecision(triggered=True, **common, reason=f"{summary}: meets the policy ({thresholds})")


def warehouse_documents(connections: Any, author: str | None, data_types: list[str]) -> dict[str, str]:
    """{document id: content hash} of the author's documents in the warehouse collections `data_types`."""
    from llm_twin.warehouse.repository import Warehouse

    query = {"author_full_name": author} if author else {}
    out: dict[str, str] = {}
    with Warehouse(connections) as warehouse:
        for data_type in data_types:
            for row in warehouse.collection(data_type).find(query, {"_id": 1, "content_hash": 1}):
                out[str(row["_id"])] = str(row.get("content_hash", ""))
    return out
