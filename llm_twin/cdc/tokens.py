"""Resume tokens kept in the warehouse itself, saved only after RabbitMQ confirmed the messages.

Keeping the token next to the data (not in a local file) means any host can take over the watcher, and
saving it only after the publisher confirms is what makes a crash lose nothing: a restarted watcher
resumes after the last confirmed change and at worst republishes a few (idempotent downstream).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database


class ResumeTokenStore:
    def __init__(self, db: Database, collection: str, watcher_name: str) -> None:
        self.collection = db[collection]
        self.watcher_name = watcher_name

    def _key(self, watched: str) -> str:
        return f"{self.watcher_name}:{watched}"

    def load(self, watched: str) -> dict[str, Any] | None:
        doc = self.collection.find_one({"_id": self._key(watched)})
        return doc["token"] if doc else None

    def save(self, watched: str, token: Mapping[str, Any], published: int = 0) -> None:
        self.collection.update_one(
            {"_id": self._key(watched)},
            {"$set": {"token": token, "updated_at": datetime.now(UTC)}, "$inc": {"published": published}},
            upsert=True,
        )

    def clear(self) -> None:
        self.collection.delete_many({"_id": {"$regex": f"^{self.watcher_name}:"}})

    def forget(self, watched: str) -> None:
        """Drop one collection's token (its history is lost): the next open starts over with a snapshot."""
        self.collection.delete_one({"_id": self._key(watched)})
