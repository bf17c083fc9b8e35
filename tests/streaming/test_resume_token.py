"""A resume token that fell off the change stream history: the watcher snapshots instead of looping."""

from __future__ import annotations

import pytest

from llm_twin.cdc.reconcile import check_sync
from llm_twin.cdc.watcher import drain_changes
from llm_twin.domain.documents import DataType
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.streaming.app import run_stream
from tests.streaming.conftest import post, warehouse

pytestmark = pytest.mark.services


def test_a_lost_resume_token_falls_back_to_a_logged_snapshot(stream_settings, caplog, monkeypatch):
    """MongoDB refuses a resume token that fell off the oplog (ChangeStreamHistoryLost, code 286). The local
    MongoDB-wire server keeps no bounded history and never says so, so that answer is injected at pymongo's
    `watch`; the watcher's handling of it (a snapshot, not an endless retry) runs for real."""
    from pymongo.collection import Collection
    from pymongo.errors import OperationFailure

    db = warehouse(stream_settings)
    before = post(41)
    db.posts.insert_one(before.to_mongo())
    drain_changes(stream_settings.connections, stream_settings.cdc)
    real_watch = Collection.watch

    def watch(self, *args, **kwargs):
        if kwargs.get("resume_after") is not None and self.name == "posts":
            raise OperationFailure("Resume of change stream was not possible, as the resume point may no longer "
                                   "be in the oplog.", code=286)
        return real_watch(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "watch", watch)
    after = post(42)
    db.posts.insert_one(after.to_mongo())
    with caplog.at_level("WARNING"):
        stats = drain_changes(stream_settings.connections, stream_settings.cdc)
    assert stats.history_lost == {"posts": 1} and stats.snapshot.get("posts") == 2, stats
    assert any("no longer in the change stream history" in r.getMessage() for r in caplog.records)
    run_stream(stream_settings.with_stream(bounded=True))
    with FeatureStore(stream_settings.connections, 384) as store:
        assert set(store.cleaned_hashes(DataType.POST)) == {before.id, after.id}
    sync = check_sync(stream_settings.connections, 384, list(stream_settings.cdc.collections))
    assert sync.in_sync, sync.drift
