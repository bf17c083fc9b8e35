"""The warehouse repository: the only code that writes users and documents to MongoDB.

Guarantees other stages rely on:
- one document per link per collection (unique index), so a re-crawl can never duplicate;
- upsert by content hash: unchanged → no write at all (no CDC event), changed → replaced in place keeping
  the document id (feature-store point ids derive from it), new → inserted;
- everything is validated (pydantic model, content hash, BSON size) before the first write, so a bad
  document or batch writes nothing;
- every call runs under client-side timeouts (`timeoutMS`, server selection, connect, socket).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Self

import bson
from pydantic import BaseModel
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from llm_twin.connections import Connections
from llm_twin.domain.documents import (
    DOCUMENT_CLASSES,
    DataType,
    Document,
    User,
    content_hash,
    document_from_mongo,
)

log = logging.getLogger(__name__)

USERS = "users"
MAX_BSON_BYTES = 16 * 1024 * 1024 - 64 * 1024  # MongoDB's limit, with headroom for the server's own fields


class WarehouseError(Exception):
    """A warehouse operation failed or was refused; nothing was written by the failing call."""


class UpsertStatus(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class UpsertResult(BaseModel):
    status: UpsertStatus
    id: str
    collection: str
    link: str


class Warehouse:
    """pymongo repository over the document contract in `llm_twin.domain.documents`."""

    def __init__(self, connections: Connections) -> None:
        self.client = connections.mongo_client()
        self.db = self.client[connections.mongo_database]
        self._indexed = False

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def collection(self, data_type: DataType | str) -> Collection:
        return self.db[DataType(data_type).value]

    # ---- setup -------------------------------------------------------------------------------------
    def ensure_indexes(self) -> None:
        """Unique link per document collection; unique (first, last) name for users. Idempotent."""
        if self._indexed:
            return
        try:
            for data_type in DataType:
                self.collection(data_type).create_index("link", unique=True)
                self.collection(data_type).create_index("author_id")
            self.db[USERS].create_index([("first_name", 1), ("last_name", 1)], unique=True)
        except PyMongoError as exc:
            raise WarehouseError(f"cannot create warehouse indexes: {exc}") from exc
        self._indexed = True

    # ---- users -------------------------------------------------------------------------------------
    def get_or_create_user(self, full_name: str) -> User:
        """The author with this full name, created on first use (race-safe through the unique index)."""
        self.ensure_indexes()
        wanted = User.from_full_name(full_name)
        query = {"first_name": wanted.first_name, "last_name": wanted.last_name}
        found = self.db[USERS].find_one(query)
        if found is None:
            try:
                self.db[USERS].insert_one({"_id": wanted.id, **query})
                return wanted
            except DuplicateKeyError:
                found = self.db[USERS].find_one(query)
        if found is None:
            raise WarehouseError(f"user {full_name!r} vanished while being created")
        return User(id=str(found["_id"]), first_name=found["first_name"], last_name=found["last_name"])

    def find_user(self, full_name: str) -> User | None:
        wanted = User.from_full_name(full_name)
        found = self.db[USERS].find_one({"first_name": wanted.first_name, "last_name": wanted.last_name})
        if found is None:
            return None
        return User(id=str(found["_id"]), first_name=found["first_name"], last_name=found["last_name"])

    # ---- validation ------------------------------------------------------------------------------------
    @staticmethod
    def validate(document: Document) -> dict[str, Any]:
        """Re-validate a document and return its Mongo form; raises `ValueError` naming the problem."""
        cls = DOCUMENT_CLASSES[DataType(document.data_type)]
        if not isinstance(document, cls):
            raise TypeError(f"{document.link}: a {type(document).__name__} cannot be stored as {document.data_type}")
        checked = cls.model_validate(document.model_dump())  # catches fields mutated after construction
        expected = content_hash(checked.content)
        if checked.content_hash != expected:
            raise ValueError(f"{document.link}: content_hash does not match the content")
        data = checked.to_mongo()
        size = len(bson.encode(data))
        if size > MAX_BSON_BYTES:
            raise ValueError(f"{document.link}: document is {size} bytes, over MongoDB's 16 MB limit")
        return data

    # ---- writes ------------------------------------------------------------------------------------
    def upsert(self, document: Document) -> UpsertResult:
        """Insert, update in place, or leave unchanged (by content hash); validated before any write."""
        data = self.validate(document)
        self.ensure_indexes()
        collection = self.collection(document.data_type)
        for _ in range(2):  # a concurrent insert of the same link turns our insert into an update
            existing = collection.find_one({"link": data["link"]}, {"_id": 1, "content_hash": 1, "author_id": 1})
            if existing is None:
                try:
                    collection.insert_one(data)
                    return self._result(UpsertStatus.NEW, data)
                except DuplicateKeyError:
                    continue
            if existing.get("author_id") not in (None, data["author_id"]):
                raise WarehouseError(
                    f"{data['link']} is already stored for another author (id {existing['author_id']}); refusing to "
                    "overwrite it"
                )
            data["_id"] = existing["_id"]
            if existing.get("content_hash") == data["content_hash"]:
                return self._result(UpsertStatus.UNCHANGED, data)
            collection.replace_one({"_id": existing["_id"]}, data)
            return self._result(UpsertStatus.UPDATED, data)
        raise WarehouseError(f"could not upsert {data['link']}: concurrent writers kept conflicting")

    def upsert_many(self, documents: Iterable[Document]) -> list[UpsertResult]:
        """Validate the whole batch first: one invalid document means nothing of the batch is written."""
        documents = list(documents)
        for document in documents:
            self.validate(document)
        links = [(d.data_type, d.link) for d in documents]
        if len(set(links)) != len(links):
            raise ValueError("batch contains the same link twice")
        return [self.upsert(document) for document in documents]

    @staticmethod
    def _result(status: UpsertStatus, data: dict[str, Any]) -> UpsertResult:
        return UpsertResult(status=status, id=str(data["_id"]), collection=str(data["data_type"]), link=data["link"])

    # ---- reads -------------------------------------------------------------------------------------
    def find(self, data_type: DataType | str, **filters: Any) -> list[Document]:
        collection = DataType(data_type).value
        return [document_from_mongo(collection, raw) for raw in self.collection(data_type).find(filters).sort("link", 1)]

    def get_by_link(self, data_type: DataType | str, link: str) -> Document | None:
        raw = self.collection(data_type).find_one({"link": link})
        return document_from_mongo(DataType(data_type).value, raw) if raw else None

    def count(self, data_type: DataType | str, **filters: Any) -> int:
        return self.collection(data_type).count_documents(filters)

    def counts(self, author_id: str | None = None) -> dict[str, int]:
        query = {"author_id": author_id} if author_id else {}
        return {t.value: self.collection(t).count_documents(query) for t in DataType}
