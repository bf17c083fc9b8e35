"""Build the instruct dataset from the feature store.

Documents → per-type windows → one instruction per window (pluggable generator) → plain or augmented
prompt (context from other documents only) → dedupe → token-length filter → split by document with a
fixed seed (windows of one document never straddle train and test, so the held-out texts are unseen)
→ metadata. Deterministic for a given feature store, config and seed.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any, Literal

from tqdm.auto import tqdm

from llm_twin.config.dataset import DatasetConfig
from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.model import ModelConfig
from llm_twin.connections import Connections
from llm_twin.domain.datasets import DatasetMetadata, InstructDataset, InstructSample, TokenStats
from llm_twin.domain.documents import DataType
from llm_twin.domain.features import ChunkPayload, CleanedPayload
from llm_twin.domain.prompts import render_context, system_prompt
from llm_twin.embedding import get_embedder
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.models.loading import count_tokens, try_load_tokenizer
from llm_twin.training.instructions import InstructionGenerator, make_generator
from llm_twin.training.windowing import window_text

log = logging.getLogger(__name__)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def _unit_random(seed: int, key: str) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()
    return int(digest[:12], 16) / float(16**12)


def _trim_words(text: str, max_words: int) -> str:
    """The first `max_words` words, keeping the text's own line breaks (passages stay separated)."""
    matches = list(re.finditer(r"\S+", text))
    if len(matches) <= max_words:
        return text
    return text[: matches[max_words - 1].end()] + " …"


FEATURE_TYPES = {t.feature_name: t for t in DataType}


class AugmentContext:
    """Context for augmented prompts: the top-k chunks of the same type for the instruction, never from
    the target document (the twin must learn to use retrieved context, not to copy its own answer), and
    only the author's own (other authors may be in the store: the reference authors of attribution)."""

    def __init__(self, store: FeatureStore, embedding: EmbeddingConfig, author_full_name: str | None = None) -> None:
        self.store = store
        self.embedding = embedding
        self.author_full_name = author_full_name

    def retrieve(self, query: str, feature_type: str, exclude_document_id: str, top_k: int) -> list[ChunkPayload]:
        vector = get_embedder(self.embedding).encode([query])[0].tolist()
        wanted = top_k * 4 if self.author_full_name else top_k
        chunks = self.store.similar_chunks(FEATURE_TYPES[feature_type], vector, wanted, exclude_document_id)
        chunks = [c for c in chunks if c.document_id != exclude_document_id]
        if self.author_full_name:
            chunks = [c for c in chunks if c.author_full_name == self.author_full_name]
        return chunks[:top_k]


def make_samples(
    documents: list[CleanedPayload],
    cfg: DatasetConfig,
    generator: InstructionGenerator,
    retriever: AugmentContext | None,
) -> tuple[list[InstructSample], Counter]:
    """Windows + instructions (+ context) for every document; returns samples and drop counters."""
    stats: Counter = Counter()
    samples: list[InstructSample] = []
    for doc in tqdm(documents, desc="instruct samples", disable=len(documents) < 20):
        feature = doc.data_type.feature_name
        system = system_prompt(cfg.system_prompt, doc.author_full_name)
        for index, window in enumerate(window_text(doc.text, feature, cfg.window(feature))):
            stats["windows"] += 1
            if len(window.split()) < cfg.min_words:
                stats["too_short"] += 1
                continue
            instruction = generator.instruction(window, data_type=feature, platform=doc.platform, title=doc.title)
            kind: Literal["plain", "augmented"] = "plain"
            context: str | None = None
            sources: list[str] = []
            wants_context = cfg.augmented.enabled and _unit_random(cfg.seed, f"{doc.document_id}:{index}") < cfg.augmented.fraction
            if wants_context and retriever is not None:
                chunks = retriever.retrieve(instruction, feature, doc.document_id, cfg.augmented.top_k)
                if chunks:
                    kind = "augmented"
                    # Plain passages, as served (domain.prompts): no numbering, no source lines, no URLs.
                    context = _trim_words(render_context(c.text for c in chunks), cfg.augmented.max_context_words)
                    sources = list(dict.fromkeys(c.link for c in chunks))
            samples.append(
                InstructSample(
                    id=f"{doc.document_id}:{index}",
                    data_type=feature,
                    document_id=doc.document_id,
                    window_index=index,
                    kind=kind,
                    platform=doc.platform,
                    title=doc.title,
                    instruction=instruction,
                    context=context,
                    sources=sources,
                    answer=window,
                    system=system,
                )
            )
    return samples, stats


def dedupe(samples: list[InstructSample]) -> tuple[list[InstructSample], int]:
    """Drop samples whose answer text repeats (e.g. the same post cross-posted on two platforms)."""
    seen: set[str] = set()
    out = []
    for s in samples:
        key = hashlib.sha256(_normalise(s.answer).encode()).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        out.append(s)
    return out, len(samples) - len(out)


def length_filter(samples: list[InstructSample], tokenizer: Any | None, max_tokens: int) -> tuple[list[InstructSample], int]:
    """Keep samples that fit max_tokens; an augmented prompt first sheds context, then falls back to plain."""
    kept, dropped = [], 0
    for s in samples:
        candidate = s
        for _ in range(4):
            n = count_tokens(tokenizer, candidate.prompt_messages() + candidate.completion_messages())
            if n <= max_tokens:
                kept.append(candidate.model_copy(update={"n_tokens": n}))
                break
            if candidate.context:
                words = candidate.context.split()
                shorter = _trim_words(candidate.context, len(words) // 2) if len(words) > 20 else None
                candidate = candidate.model_copy(
                    update={"context": shorter, "kind": "augmented" if shorter else "plain",
                            "sources": candidate.sources if shorter else []}
                )
            else:
                dropped += 1
                break
        else:
            dropped += 1
    return kept, dropped


def split_by_document(samples: list[InstructSample], test_size: float, seed: int) -> tuple[list[InstructSample], list[InstructSample]]:
    """Seeded split per data type, grouping windows by document; at least one test document per type
    when the type has two or more documents."""
    train: list[InstructSample] = []
    test: list[InstructSample] = []
    by_type: dict[str, dict[str, list[InstructSample]]] = defaultdict(lambda: defaultdict(list))
    for s in samples:
        by_type[s.data_type][s.document_id].append(s)
    rng = random.Random(seed)
    for data_type in sorted(by_type):
        docs = sorted(by_type[data_type])
        rng.shuffle(docs)
        n_total = sum(len(v) for v in by_type[data_type].values())
        target = test_size * n_total
        taken = 0
        for i, doc in enumerate(docs):
            group = by_type[data_type][doc]
            if len(docs) >= 2 and i < len(docs) - 1 and (taken == 0 or taken + len(group) / 2 <= target):
                test.extend(group)
                taken += len(group)
            else:
                train.extend(group)
    key = lambda s: (s.data_type, s.document_id, s.window_index)
    return sorted(train, key=key), sorted(test, key=key)


def token_stats(samples: list[InstructSample]) -> TokenStats:
    counts = sorted(s.n_tokens for s in samples)
    if not counts:
        return TokenStats()
    return TokenStats(
        count=len(counts),
        min=counts[0],
        mean=round(statistics.fmean(counts), 1),
        p95=counts[min(len(counts) - 1, int(0.95 * len(counts)))],
        max=counts[-1],
        total=sum(counts),
    )


def build_instruct_dataset(
    conn: Connections,
    cfg: DatasetConfig,
    model_cfg: ModelConfig,
    embedding: EmbeddingConfig,
    generator: InstructionGenerator | None = None,
) -> InstructDataset:
    """The whole build; raises ValueError when the feature store holds nothing usable."""
    generator = generator or make_generator(cfg.generator)
    tokenizer, tokenizer_name = try_load_tokenizer(model_cfg)
    with FeatureStore(conn, embedding.dimension) as store:
        documents: list[CleanedPayload] = []
        for feature in cfg.data_types:
            documents.extend(store.cleaned_documents(FEATURE_TYPES[feature], cfg.author_full_name))
        if not documents:
            raise ValueError(
                f"no cleaned documents in the feature store for types {cfg.data_types}"
                + (f" and author {cfg.author_full_name!r}" if cfg.author_full_name else "")
                + ": run the features (or stream) pipeline first"
            )
        retriever = AugmentContext(store, embedding, cfg.author_full_name) if cfg.augmented.enabled else None
        samples, stats = make_samples(documents, cfg, generator, retriever)
    samples, n_dupes = dedupe(samples)
    samples, n_long = length_filter(samples, tokenizer, min(cfg.max_tokens, model_cfg.max_seq_length))
    if not samples:
        raise ValueError("every sample was filtered out: lower dataset.min_words or raise dataset.max_tokens")
    train, test = split_by_document(samples, cfg.test_size, cfg.seed)
    counts: Counter = Counter()
    for split, rows in (("train", train), ("test", test)):
        counts[split] = len(rows)
        for s in rows:
            counts[f"{split}/{s.data_type}"] += 1
            counts[f"{split}/{s.kind}"] += 1
    dataset = InstructDataset(train=train, test=test)
    dataset.metadata = DatasetMetadata(
        generator=getattr(generator, "name", type(generator).__name__),
        documents=len(documents),
        windows=stats["windows"],
        dropped_duplicates=n_dupes,
        dropped_too_short=stats["too_short"],
        dropped_too_long=n_long,
        counts=dict(sorted(counts.items())),
        token_stats=token_stats(train + test),
        tokenizer=tokenizer_name,
        seed=cfg.seed,
        dataset_hash=dataset.content_hash(),
        source_documents={d.document_id: d.content_hash for d in documents},
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    log.info("instruct dataset: %s", dataset.metadata.counts)
    return dataset
