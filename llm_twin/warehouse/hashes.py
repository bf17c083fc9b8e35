"""Content hashes read straight from the warehouse collections: what reconciliation and the feature writer's
version check compare the feature store with (one projection query, no document bodies unless a hash is
missing)."""

from __future__ import annotations

from pymongo.database import Database

from llm_twin.domain.documents import DataType, content_hash


def warehouse_hashes(db: Database, data_type: DataType, document_ids: list[str] | None = None) -> dict[str, str]:
    """document_id → content_hash in the warehouse (of these documents, or all); computed where not stored."""
    query = {} if document_ids is None else {"_id": {"$in": document_ids}}
    collection = db[data_type.value]
    hashes: dict[str, str] = {}
    unhashed: list[str] = []
    for raw in collection.find(query, {"content_hash": 1}):
        if raw.get("content_hash"):
            hashes[str(raw["_id"])] = raw["content_hash"]
        else:
            unhashed.append(raw["_id"])
    for raw in collection.find({"_id": {"$in": unhashed}}, {"content": 1}) if unhashed else ():
        content = raw.get("content")
        hashes[str(raw["_id"])] = content_hash(content) if isinstance(content, dict) else ""
    return hashes
