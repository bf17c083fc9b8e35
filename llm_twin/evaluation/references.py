"""The other authors attribution is fitted on: reference authors (conf/author/<name>.yaml) in the warehouse.

Attribution asks "would this text be attributed to the author rather than to someone else writing on
the same topics?", so the warehouse must hold other authors. The bundled samples (Priya Raman, Tomas
Okafor) are imported from their exports and repositories when the warehouse lacks them; any other author
already there joins too. Texts are cleaned with the features stage's rules (the target's training texts
were), so the classifier learns voices, not preprocessing differences.
"""

from __future__ import annotations

import logging

from omegaconf import OmegaConf

from llm_twin.collection import collect_part
from llm_twin.config.author import AuthorConfig
from llm_twin.config.crawl import CrawlConfig
from llm_twin.config.evaluation import AttributionConfig
from llm_twin.config.features import CodeCleaningConfig
from llm_twin.domain.documents import DataType
from llm_twin.features.cleaning import EmptyDocumentError, clean_document
from llm_twin.paths import CONF_DIR
from llm_twin.warehouse import Warehouse

log = logging.getLogger(__name__)


def load_author(name: str) -> AuthorConfig:
    """`conf/author/<name>.yaml`, validated; a missing file names the authors there are."""
    path = CONF_DIR / "author" / f"{name}.yaml"
    if not path.is_file():
        valid = ", ".join(sorted(p.stem for p in (CONF_DIR / "author").glob("*.yaml")))
        raise ValueError(f"unknown reference author {name!r} in evaluation.attribution.reference_authors; "
                         f"valid: {valid}")
    return AuthorConfig.of(OmegaConf.load(path))


def ensure_reference_authors(warehouse: Warehouse, cfg: AttributionConfig, crawl: CrawlConfig) -> dict[str, int]:
    """Import each reference author that has no documents in the warehouse yet; returns name → documents."""
    counts: dict[str, int] = {}
    for name in cfg.reference_authors:
        author_cfg = load_author(name)
        user = warehouse.get_or_create_user(author_cfg.full_name)
        have = sum(warehouse.counts(user.id).values())
        if have == 0 and cfg.ingest_missing:
            for part in ("exports", "repositories"):
                report = collect_part(part, author_cfg, user, crawl, warehouse, progress=False)
                log.info("reference author %s, %s: %s", author_cfg.full_name, part, report.metadata())
            have = sum(warehouse.counts(user.id).values())
        if have == 0:
            log.warning("reference author %s has no documents in the warehouse", author_cfg.full_name)
        counts[author_cfg.full_name] = have
    return counts


def author_texts(warehouse: Warehouse, code: CodeCleaningConfig, exclude: str | None = None,
                 only: list[str] | None = None) -> dict[str, list[str]]:
    """Cleaned texts per author full name (all authors, or `only` these), without `exclude` (the target,
    whose texts come from the dataset's train split so the held-out texts stay unseen)."""
    out: dict[str, list[str]] = {}
    for data_type in DataType:
        for doc in warehouse.find(data_type):
            name = doc.author_full_name
            if name == exclude or (only is not None and name not in only):
                continue
            try:
                text = clean_document(doc, code).text
            except EmptyDocumentError:
                continue
            out.setdefault(name, []).append(text)
    return out


def reference_texts(warehouse: Warehouse, cfg: AttributionConfig, crawl: CrawlConfig, code: CodeCleaningConfig,
                    target: str) -> dict[str, list[str]]:
    """Reference authors ingested if absent, then the cleaned texts of every author but the target."""
    names = list(ensure_reference_authors(warehouse, cfg, crawl))
    return author_texts(warehouse, code, exclude=target, only=None if cfg.all_warehouse_authors else names)
