"""Warehouse repository on a real MongoDB-wire server (nx-27017)."""

from __future__ import annotations

import pytest
from pymongo.errors import DuplicateKeyError

from llm_twin.domain.documents import Article, DataType, Post, Repository
from llm_twin.warehouse import UpsertStatus, WarehouseError


def article(user, link="https://maya.dev/a", text="Boring infrastructure is a feature.") -> Article:
    return Article(platform="blog", link=link, author_id=user.id, author_full_name=user.full_name,
                   content={"title": "T", "subtitle": "", "text": text})


def test_user_found_or_created_by_full_name(warehouse):
    first = warehouse.get_or_create_user("Maya Lindqvist")
    again = warehouse.get_or_create_user("  Maya   Lindqvist ")
    other = warehouse.get_or_create_user("Maya Berg")
    assert first.id == again.id != other.id
    assert warehouse.db["users"].count_documents({}) == 2
    assert warehouse.find_user("Maya Lindqvist").id == first.id
    with pytest.raises(ValueError, match="full_name"):
        warehouse.get_or_create_user("   ")


def test_upsert_new_unchanged_updated(warehouse):
    user = warehouse.get_or_create_user("Maya Lindqvist")
    first = warehouse.upsert(article(user))
    assert first.status is UpsertStatus.NEW
    stored = warehouse.collection("articles").find_one({"link": "https://maya.dev/a"})
    assert stored["_id"] == first.id and stored["author_full_name"] == "Maya Lindqvist"

    again = warehouse.upsert(article(user))  # a re-crawl: new object, new id, same content
    assert again.status is UpsertStatus.UNCHANGED and again.id == first.id
    assert warehouse.collection("articles").find_one({"_id": first.id})["crawled_at"] == stored["crawled_at"]

    changed = warehouse.upsert(article(user, text="Measure, don't guess."))
    assert changed.status is UpsertStatus.UPDATED and changed.id == first.id  # in place, id kept
    assert warehouse.count(DataType.ARTICLE) == 1
    doc = warehouse.get_by_link("articles", "https://maya.dev/a")
    assert doc.content["text"] == "Measure, don't guess." and doc.id == first.id


def test_unique_link_index(warehouse):
    user = warehouse.get_or_create_user("Maya Lindqvist")
    warehouse.upsert(article(user))
    raw = article(user).to_mongo()
    with pytest.raises(DuplicateKeyError):
        warehouse.collection("articles").insert_one(raw)


def test_invalid_documents_write_nothing(warehouse):
    user = warehouse.get_or_create_user("Maya Lindqvist")
    tampered = article(user, link="https://maya.dev/t")
    tampered.content["text"] = "changed after hashing"
    with pytest.raises(ValueError, match="content_hash"):
        warehouse.upsert(tampered)
    huge = Repository(platform="github", link="https://github.com/m/huge", author_id=user.id,
                      author_full_name=user.full_name, name="huge", content={"big.txt": "x" * (17 * 1024 * 1024)})
    with pytest.raises(ValueError, match="16 MB"):
        warehouse.upsert(huge)
    good = [article(user, link=f"https://maya.dev/{i}") for i in range(3)]
    with pytest.raises(ValueError):
        warehouse.upsert_many([*good, tampered])  # one bad document: none of the batch is written
    assert warehouse.counts() == {"articles": 0, "posts": 0, "repositories": 0}
    assert [r.status for r in warehouse.upsert_many(good)] == [UpsertStatus.NEW] * 3


def test_link_of_another_author_is_not_overwritten(warehouse):
    maya, other = warehouse.get_or_create_user("Maya Lindqvist"), warehouse.get_or_create_user("Ola Berg")
    warehouse.upsert(Post(platform="linkedin", link="https://li/1", author_id=maya.id,
                          author_full_name=maya.full_name, content={"text": "mine"}))
    with pytest.raises(WarehouseError, match="another author"):
        warehouse.upsert(Post(platform="linkedin", link="https://li/1", author_id=other.id,
                              author_full_name=other.full_name, content={"text": "theirs"}))
    assert warehouse.get_by_link("posts", "https://li/1").content["text"] == "mine"
