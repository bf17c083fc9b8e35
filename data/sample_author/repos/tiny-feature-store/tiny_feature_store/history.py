"""An append-only log of feature values.

Values are never updated in place: a change is a new row with a later `valid_from`. That is what makes
it possible to rebuild any past training set exactly.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, order=True)
class FeatureValue:
    valid_from: datetime
    value: Any = field(compare=False)


class FeatureHistory:
    def __init__(self) -> None:
        self._log: dict[tuple[str, str], list[FeatureValue]] = {}

    def append(self, feature: str, entity: str, value: Any, valid_from: datetime) -> None:
        """Record a value; out-of-order appends are fine, the log stays sorted by time."""
        if valid_from.tzinfo is None:
            raise ValueError("valid_from must be timezone-aware: naive timestamps are how leakage starts")
        bisect.insort(self._log.setdefault((feature, entity), []), FeatureValue(valid_from, value))

    def as_of(self, feature: str, entity: str, when: datetime) -> Any | None:
        """The latest value with valid_from <= when, or None if the feature did not exist yet."""
        values = self._log.get((feature, entity), [])
        index = bisect.bisect_right([v.valid_from for v in values], when)
        return values[index - 1].value if index else None

    def __len__(self) -> int:
        return sum(len(v) for v in self._log.values())
