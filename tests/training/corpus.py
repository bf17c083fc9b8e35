"""A small synthetic author ("Maya Lindqvist"-like voice) and helpers that load it into a Qdrant
feature store (cleaned_<type> payloads + embedded_<type> chunks), exactly in the shapes of
llm_twin/domain/features.py. Used by the tests and, until the bundled sample author exists, by the
acceptance run (python tests/training/corpus.py <qdrant path>)."""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

from llm_twin.domain.documents import DataType
from llm_twin.domain.features import (
    ChunkPayload,
    CleanedPayload,
    cleaned_collection,
    embedded_collection,
    point_id,
)

AUTHOR = "Maya Lindqvist"

OPENERS = [
    "Hot take: most ML projects do not fail on models, they fail on plumbing.",
    "I shipped a feature store last week and here's the thing nobody tells you.",
    "Small confession: I used to think fine-tuning was the hard part.",
    "Every time I review an ML system I ask one question first.",
    "Three years of running pipelines in production taught me one boring lesson.",
    "Here's the thing about RAG that took me far too long to learn.",
    "Unpopular opinion: your vector database is not your bottleneck.",
    "Quick story from this week's on-call rotation.",
]
TOPICS = {
    "feature stores": [
        "A feature store is a contract, not a database.",
        "If training and serving compute features differently, you will ship skew, guaranteed.",
        "I keep one write path for features and make it idempotent, so replays never duplicate anything.",
        "Point ids derived from the document id and chunk index saved me from a week of cleanup.",
    ],
    "change data capture": [
        "Change data capture is the least glamorous and most useful thing on my architecture diagrams.",
        "A resume token persisted after every batch means a crash costs seconds, not a backfill.",
        "Poison messages go to a dead-letter queue with the reason attached, never into a retry loop forever.",
        "At-least-once delivery is fine as long as every write is idempotent.",
    ],
    "fine-tuning": [
        "QLoRA on a laptop CPU is slow, but it is honest: you see every step of the loss.",
        "I train on the answers only; the prompt is not what I want the model to imitate.",
        "Merge the adapter into the full-precision base before you evaluate, or you are measuring quantization noise.",
        "A fine-tuned model that does not beat its base on held-out perplexity does not get promoted. Period.",
    ],
    "evaluation": [
        "Measure perplexity on texts the model has never seen, or you are grading your own homework.",
        "ROUGE tells you about overlap, not about voice, so I pair it with a style score.",
        "A promotion gate with numbers in config beats a gut feeling in a meeting.",
        "Keep a human in the loop for the last step; staging exists for a reason.",
    ],
    "retrieval": [
        "Retrieval quality beats prompt cleverness almost every time.",
        "I filter by author and data type before I rerank, because cheap filters first is just good engineering.",
        "Query expansion helps when users ask vague questions, which is always.",
        "Never retrieve the document you are trying to write; that is leakage with extra steps.",
    ],
    "team habits": [
        "Write the runbook before the incident, not during it.",
        "A config change should never need a code change; that is the whole point of config.",
        "I review pipelines the way I review code: small diffs, clear names, one job per step.",
        "Boring technology is a feature when you are on call at 3 a.m.",
    ],
}
CLOSERS = [
    "What would you add? 👇",
    "Curious how your team handles this.",
    "Ship small, measure everything, sleep well.",
    "That's it. Go check your pipelines. ☕",
    "Agree or disagree? Tell me in the comments.",
]
HASHTAGS = ["#MLOps", "#LLM", "#DataEngineering", "#MachineLearning", "#RAG", "#FeatureStore"]
CODE_SNIPPETS = [
    '''def point_id(document_id: str, chunk_index: int) -> str:
    """Deterministic id: a redelivered message overwrites the same point."""
    return str(uuid.uuid5(NAMESPACE, f"{document_id}:{chunk_index}"))''',
    '''def chunk_words(text: str, size: int = 200, overlap: int = 20) -> list[str]:
    words = text.split()
    step = max(size - overlap, 1)
    return [" ".join(words[i : i + size]) for i in range(0, len(words), step)]''',
    '''class DeadLetter:
    """Poison messages land here with the reason, never in an endless retry loop."""

    def __init__(self, channel, queue: str) -> None:
        self.channel = channel
        self.queue = queue

    def send(self, body: bytes, reason: str) -> None:
        self.channel.basic_publish("", self.queue, body, headers={"reason": reason})''',
    '''def perplexity(nll_sum: float, n_tokens: int) -> float:
    """Corpus perplexity: long texts weigh by their length."""
    return math.exp(nll_sum / max(n_tokens, 1))''',
]


def _post(rng: random.Random) -> tuple[str, str]:
    topic = rng.choice(sorted(TOPICS))
    lines = [rng.choice(OPENERS), ""]
    lines += rng.sample(TOPICS[topic], k=3)
    other = rng.choice(sorted(t for t in TOPICS if t != topic))
    lines += [rng.choice(TOPICS[other]), "", rng.choice(CLOSERS), " ".join(rng.sample(HASHTAGS, k=3))]
    return topic, "\n".join(lines)


def _article(rng: random.Random, n_paragraphs: int) -> tuple[str, str]:
    topics = rng.sample(sorted(TOPICS), k=min(n_paragraphs, len(TOPICS)))
    paragraphs = [rng.choice(OPENERS) + " " + " ".join(rng.sample(TOPICS[topics[0]], k=2))]
    for topic in topics[1:]:
        sentences = rng.sample(TOPICS[topic], k=3)
        paragraphs.append(f"Let's talk about {topic}. " + " ".join(sentences))
    paragraphs.append(rng.choice(CLOSERS))
    return topics[0], "\n\n".join(paragraphs)


def make_corpus(n_posts: int = 30, n_articles: int = 15, n_code: int = 0, seed: int = 7) -> list[CleanedPayload]:
    rng = random.Random(seed)
    docs: list[CleanedPayload] = []

    def add(data_type: DataType, platform: str, title: str, text: str, i: int) -> None:
        doc_id = f"{data_type.feature_name}-{i:03d}"
        docs.append(
            CleanedPayload(
                document_id=doc_id, data_type=data_type, author_id="author-maya", author_full_name=AUTHOR,
                platform=platform, link=f"https://example.com/{doc_id}", title=title, text=text,
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
            )
        )

    for i in range(n_posts):
        _, text = _post(rng)
        add(DataType.POST, "linkedin", "", text, i)
    for i in range(n_articles):
        topic, text = _article(rng, rng.randint(4, 6))
        add(DataType.ARTICLE, rng.choice(["medium", "substack"]), f"What I learned about {topic}", text, i)
    for i in range(n_code):
        add(DataType.REPOSITORY, "github", "maya/twin-pipelines", CODE_SNIPPETS[i % len(CODE_SNIPPETS)], i)
    return docs


def load_into_qdrant(qdrant_path: Path, docs: list[CleanedPayload], embed_chunks: bool = True) -> None:
    """cleaned_<type> (no vectors) and embedded_<type> (paragraph chunks + all-MiniLM-L6-v2 vectors)."""
    from qdrant_client import QdrantClient, models

    from llm_twin.config import EmbeddingConfig, load_group
    from llm_twin.embedding import get_embedder

    embed = get_embedder(load_group("embedding", schema=EmbeddingConfig)).encode

    client = QdrantClient(path=str(qdrant_path))
    try:
        for data_type in {d.data_type for d in docs}:
            mine = [d for d in docs if d.data_type == data_type]
            name = cleaned_collection(data_type)
            if not client.collection_exists(name):
                client.create_collection(name, vectors_config={})
            client.upsert(name, [models.PointStruct(id=point_id(d.document_id, -1), vector={}, payload=d.model_dump(mode="json")) for d in mine])
            if not embed_chunks:
                continue
            chunks: list[ChunkPayload] = []
            for d in mine:
                parts = [p for p in d.text.split("\n\n") if p.strip()]
                for j, part in enumerate(parts):
                    chunks.append(ChunkPayload(**{**d.model_dump(exclude={"text", "schema_version"}), "text": part,
                                                  "chunk_index": j, "chunk_count": len(parts),
                                                  "embedding_model_id": "sentence-transformers/all-MiniLM-L6-v2"}))
            vectors = embed([c.text for c in chunks])
            ename = embedded_collection(data_type)
            if not client.collection_exists(ename):
                client.create_collection(ename, vectors_config=models.VectorParams(size=vectors.shape[1], distance=models.Distance.COSINE))
            client.upsert(ename, [
                models.PointStruct(id=point_id(c.document_id, c.chunk_index), vector=v.tolist(), payload=c.model_dump(mode="json"))
                for c, v in zip(chunks, vectors)
            ])
    finally:
        client.close()


if __name__ == "__main__":
    load_into_qdrant(Path(sys.argv[1]), make_corpus(n_code=int(sys.argv[2]) if len(sys.argv) > 2 else 4))
    print("loaded into", sys.argv[1])
