"""Other authors' texts for the attribution score, gathered as `pipeline=evaluate`'s
`collect_reference_texts` step gathers them, for benchmarks that evaluate outside a pipeline
(`bench/train.py --quality`, `bench/gpu.py evaluate`): the reference authors are imported into a
temporary warehouse (a MongoDB-wire server on a free port under `workdir`), which is stopped afterwards."""

from __future__ import annotations

from pathlib import Path

from llm_twin.config import AuthorConfig, CrawlConfig, EvaluationConfig, FeaturesConfig, InfraConfig, compose
from llm_twin.connections import Connections


def reference_texts_for(overrides: list[str], workdir: Path) -> tuple[dict[str, list[str]], str]:
    """(author → texts of every reference author, the twin's author name); empty when attribution is off."""
    from llm_twin.evaluation.references import reference_texts
    from llm_twin.infra.processes import free_port
    from llm_twin.infra.services import LocalServices
    from llm_twin.warehouse import Warehouse

    cfg = compose([*overrides, f"infra.mongo_port={free_port()}", "infra.mongo_database=bench_references",
                   f"infra.qdrant_path={workdir / 'qdrant-references'}"])
    evaluation, author = EvaluationConfig.of(cfg.evaluation), AuthorConfig.of(cfg.author)
    if not evaluation.attribution.enabled:
        return {}, author.full_name
    connections = Connections.of(InfraConfig.of(cfg.infra))
    services = LocalServices(connections, workdir)
    services.start(["mongo"])
    try:
        with Warehouse(connections) as warehouse:
            warehouse.ensure_indexes()
            texts = reference_texts(warehouse, evaluation.attribution, CrawlConfig.of(cfg.crawl),
                                    FeaturesConfig.of(cfg.features).code, author.full_name)
    finally:
        services.stop()
    return texts, author.full_name
