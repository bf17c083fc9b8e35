"""The retraining policy and the rollback target, on the Model Control Plane's view of versions (plain
data: the functions the release process calls with what ZenML returns)."""

from __future__ import annotations

import pytest

from llm_twin.config import RetrainConfig
from llm_twin.release.registry import VersionRef
from llm_twin.release.rollback import previous_version
from llm_twin.release.trigger import decide, delta
from tests.configs import configured


def version(number: int, stage: str | None, documents: dict[str, str] | None = None, **meta) -> VersionRef:
    metadata = dict(meta)
    if documents is not None:
        metadata["dataset_snapshot"] = {"documents": documents, "count": len(documents)}
    return VersionRef(name=str(number), number=number, id=f"id-{number}", stage=stage, metadata=metadata)


def policy(**changes) -> RetrainConfig:
    return configured("retrain", **changes)


BASE = {f"d{i}": f"h{i}" for i in range(10)}


def test_delta_counts_new_and_changed_documents() -> None:
    now = {**BASE, "d3": "changed", "new1": "x", "new2": "y"}
    d = delta(now, BASE)
    assert (d.new, d.changed, d.corpus, d.count) == (2, 1, 12, 3) and d.share == 0.25


def test_below_the_thresholds_does_not_trigger() -> None:
    now = {**BASE, "new1": "x"}
    decision = decide(now, [version(1, "production", BASE)], "production",
                      policy(min_new_documents=5, min_corpus_share=0.5), "Jane Doe")
    assert not decision.triggered and "below the policy" in decision.reason
    assert (decision.new, decision.changed, decision.baseline_version, decision.baseline_documents) == (1, 0, "1", 10)


@pytest.mark.parametrize(("count", "share", "triggered"), [(3, None, True), (4, None, False), (None, 0.2, True),
                                                          (None, 0.3, False), (4, 0.2, True)])
def test_either_threshold_triggers(count, share, triggered) -> None:
    now = {**BASE, "d0": "changed", "new1": "x", "new2": "y"}  # 3 of 12 = 25 %
    decision = decide(now, [version(1, "production", BASE)], "production",
                      policy(min_new_documents=count, min_corpus_share=share), None)
    assert decision.triggered is triggered, decision.reason


def test_a_candidate_already_trained_on_the_content_waits_for_promotion() -> None:
    now = {**BASE, **{f"n{i}": "x" for i in range(5)}}
    versions = [version(2, "staging", now), version(1, "production", BASE)]  # newest first
    decision = decide(now, versions, "production", policy(min_new_documents=3, min_corpus_share=None), None)
    assert not decision.triggered and "candidate version 2" in decision.reason and decision.candidate_version == "2"
    more = {**now, **{f"m{i}": "y" for i in range(3)}}  # new content beyond the candidate's dataset too
    assert decide(more, versions, "production", policy(min_new_documents=3, min_corpus_share=None), None).triggered


def test_no_version_yet_counts_everything_and_no_snapshot_says_so() -> None:
    assert decide(BASE, [], "production", policy(min_new_documents=5), None).triggered
    unknown = decide(BASE, [version(1, "production")], "production", policy(min_new_documents=5), None)
    assert not unknown.triggered and "has no dataset_snapshot" in unknown.reason


def test_policy_needs_a_threshold() -> None:
    with pytest.raises(ValueError, match="needs a threshold"):
        policy(min_new_documents=None, min_corpus_share=None)


def test_rollback_target_is_the_version_served_before() -> None:
    versions = [version(3, "production", release={"deployed_at": "2026-01-03T00:00:00+00:00"}),
                version(2, "archived"),  # never served
                version(1, "archived", release={"deployed_at": "2026-01-01T00:00:00+00:00"})]
    assert previous_version(versions, "3", []) == "1"
    assert previous_version([version(2, "production"), version(1, None)], "2", ["1", "2"]) == "1"
    assert previous_version([version(1, "production")], "1", ["1"]) is None
