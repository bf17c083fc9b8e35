"""As-of join: each label sees only feature values that existed at its event time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from tiny_feature_store.history import FeatureHistory


@dataclass(frozen=True)
class LabelRow:
    entity: str
    event_ts: datetime
    label: Any


def as_of_join(labels: Iterable[LabelRow], history: FeatureHistory, features: list[str]) -> list[dict[str, Any]]:
    """Training rows with point-in-time correct feature values (None when not yet known)."""
    rows = []
    for row in labels:
        values = {name: history.as_of(name, row.entity, row.event_ts) for name in features}
        rows.append({"entity": row.entity, "event_ts": row.event_ts, "label": row.label, **values})
    return rows
