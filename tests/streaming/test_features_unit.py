"""Pure-code tests: per-type cleaning, token-aware chunking, deterministic ids, the message contract."""

from __future__ import annotations

import itertools

import pytest

from llm_twin.config import EmbeddingConfig, FeaturesConfig, load_group
from llm_twin.config.features import ChunkingConfig
from llm_twin.domain.documents import Article, DataType, Post, Repository
from llm_twin.domain.features import point_id
from llm_twin.domain.messages import ChangeMessage, Operation
from llm_twin.embedding import load_tokenizer
from llm_twin.features.chunking import Chunker
from llm_twin.features.cleaning import EmptyDocumentError, clean_document
from llm_twin.features.processing import FeatureBuilder

EMBEDDING = load_group("embedding", schema=EmbeddingConfig)
FEATURES = load_group("features", schema=FeaturesConfig)
AUTHOR = {"author_id": "u1", "author_full_name": "Jane Doe"}


def clean(document):
    return clean_document(document, FEATURES.code)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(EMBEDDING)


def _article(text: str, **kw) -> Article:
    return Article(platform="medium", link=kw.pop("link", "https://ex.com/a"), content={"title": "On RAG", "text": text}, **AUTHOR, **kw)


def test_article_cleaning_keeps_prose_drops_markup():
    cleaned = clean(_article("# Intro\n\nSee [the docs](https://x.io/d) ![img](a.png) <b>bold</b>  now.\n\n\n\nEnd https://x.io"))
    assert cleaned.title == "On RAG"
    assert "the docs" in cleaned.text and "https://" not in cleaned.text
    assert "img" not in cleaned.text and "<b>" not in cleaned.text and "\n\n\n" not in cleaned.text


def test_post_cleaning_drops_urls_emoji_and_hashtag_marks():
    post = Post(platform="linkedin", link="https://l/1", content={"text": "Shipping it 🚀 #MLOps with @alice https://t.co/x"}, **AUTHOR)
    assert clean(post).text == "Shipping it MLOps with alice"


def test_code_cleaning_keeps_indentation_and_skips_lock_files():
    repo = Repository(
        platform="github", link="https://g/r", name="r", **AUTHOR,
        content={"src/a.py": "def f():\n\treturn 1   \n", "poetry.lock": "x" * 50, "b.min.js": "var a"},
    )
    cleaned = clean(repo)
    assert [s.header for s in cleaned.sections] == ["# file: src/a.py"]
    assert "def f():\n    return 1" in cleaned.text


def test_empty_after_cleaning_is_an_error():
    with pytest.raises(EmptyDocumentError):
        clean(Post(platform="x", link="https://l/2", content={"text": "🚀 https://t.co/x"}, **AUTHOR))


def test_chunks_respect_token_budget_and_overlap(tokenizer):
    sentences = [f"Sentence number {i} talks about retrieval augmented generation and vector search." for i in range(80)]
    cfg = ChunkingConfig(chunk_tokens=64, overlap_tokens=16)
    chunks = Chunker(tokenizer, cfg).chunk(clean(_article(" ".join(sentences))))
    assert len(chunks) > 5
    for chunk in chunks:
        assert len(tokenizer(chunk, add_special_tokens=False)["input_ids"]) <= 64
    for first, second in itertools.pairwise(chunks):
        assert first.split(". ")[-1].rstrip(".") in second  # the last sentence is repeated as overlap
    joined = " ".join(chunks)
    assert all(s in joined for s in sentences)  # nothing lost


def test_overlong_sentence_is_cut_by_token_windows(tokenizer):
    text = " ".join(["token"] * 500)  # one sentence, far over the budget
    chunks = Chunker(tokenizer, ChunkingConfig(chunk_tokens=100, overlap_tokens=10)).chunk(clean(_article(text)))
    assert len(chunks) >= 5
    assert all(len(tokenizer(c, add_special_tokens=False)["input_ids"]) <= 100 for c in chunks)


def test_code_chunks_do_not_cross_files_and_carry_the_path(tokenizer):
    files = {f"pkg/m{i}.py": "\n".join(f"def f{j}(x):\n    return x + {j}" for j in range(40)) for i in range(2)}
    repo = Repository(platform="github", link="https://g/r2", name="r2", content=files, **AUTHOR)
    chunks = Chunker(tokenizer, ChunkingConfig(chunk_tokens=128, overlap_tokens=8), code=True).chunk(clean(repo))
    assert all(c.startswith("# file: pkg/m") for c in chunks)
    assert {c.splitlines()[0] for c in chunks} == {"# file: pkg/m0.py", "# file: pkg/m1.py"}
    assert all(len(tokenizer(c, add_special_tokens=False)["input_ids"]) <= 128 for c in chunks)


def test_feature_builder_payloads_are_deterministic(tokenizer):
    builder = FeatureBuilder(FEATURES, EMBEDDING, tokenizer=tokenizer)
    doc = _article("Vector databases store embeddings. " * 200)
    first, second = builder.build(doc), builder.build(doc)
    assert [c.model_dump() for c in first.chunks] == [c.model_dump() for c in second.chunks]
    assert first.cleaned.content_hash == doc.content_hash
    assert {c.chunk_count for c in first.chunks} == {len(first.chunks)}
    assert point_id(doc.id, 0) == point_id(doc.id, 0) != point_id(doc.id, 1)


def test_chunk_budget_must_fit_the_model_window():
    chunking = {name: ChunkingConfig(chunk_tokens=tokens, overlap_tokens=0)
                for name, tokens in (("articles", 300), ("posts", 64), ("code", 64))}
    features = FEATURES.model_copy(update={"chunking": chunking})
    with pytest.raises(ValueError, match="window"):
        features.check_against(EMBEDDING)


def test_messages_are_small_references_whatever_the_document_size():
    doc = _article("word " * 1_000_000)  # a 5 MB article
    message = ChangeMessage.reference(Operation.UPDATE, "articles", doc.id)
    body = message.to_bytes()
    assert len(body) < 400  # far below the Kafka producer's ~1 MB limit
    restored = ChangeMessage.from_bytes(body)
    assert restored.collection == DataType.ARTICLE and restored.schema_version == 2
    assert restored.document_id == doc.id and restored.version == message.version > 0
    delete = ChangeMessage.reference(Operation.DELETE, "posts", "p1", origin="reconcile")
    assert ChangeMessage.from_bytes(delete.to_bytes()).operation is Operation.DELETE
    with pytest.raises(ValueError):
        ChangeMessage.model_validate_json(b'{"schema_version": 1, "operation": "insert", "collection": "posts", "document_id": "x"}')


def test_transient_qdrant_errors_are_retried_and_permanent_ones_are_not():
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    from llm_twin.streaming.sink import is_transient

    def response(status: int) -> UnexpectedResponse:
        return UnexpectedResponse(status_code=status, reason_phrase="x", content=b"", headers=None)  # type: ignore[arg-type]

    assert is_transient(ResponseHandlingException(ConnectionError("refused")))
    assert is_transient(response(503)) and is_transient(response(429))
    assert not is_transient(response(400)) and not is_transient(ValueError("bad payload"))
