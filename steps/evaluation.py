"""Steps of the `evaluate` stage: score base / candidate / production, then the promotion gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from zenml import get_step_context, log_metadata, step
from zenml.types import HTMLString

from llm_twin.config import (
    CrawlConfig,
    EmbeddingConfig,
    EvaluationConfig,
    FeaturesConfig,
    InfraConfig,
    ModelConfig,
)
from llm_twin.config.training import CometConfig
from llm_twin.domain.datasets import InstructDataset
from llm_twin.evaluation.gate import PromotionDecision
from llm_twin.evaluation.schemas import EvaluationReport


@step
def load_instruct_dataset(dataset_version: str | None = None) -> Annotated[InstructDataset, "evaluation_dataset"]:
    """The latest (or a given version of the) `instruct_dataset` artifact, for standalone evaluation."""
    from zenml.client import Client

    try:
        artifact = Client().get_artifact_version("instruct_dataset", dataset_version)
    except KeyError as exc:
        raise RuntimeError("no `instruct_dataset` artifact yet: run `python run.py pipeline=dataset` first") from exc
    log_metadata(metadata={"instruct_dataset_version": str(artifact.version)})
    return artifact.load()


@step
def collect_reference_texts(
    evaluation: EvaluationConfig, crawl: CrawlConfig, features: FeaturesConfig, infra: InfraConfig,
    target: str | None,
) -> Annotated[dict[str, list[str]], "reference_texts"]:
    """Other authors' cleaned texts for attribution (reference authors imported into the warehouse if absent)."""
    from llm_twin.connections import Connections
    from llm_twin.evaluation.references import reference_texts
    from llm_twin.warehouse import Warehouse

    if not evaluation.attribution.enabled:
        return {}
    with Warehouse(Connections.of(infra)) as warehouse:
        texts = reference_texts(warehouse, evaluation.attribution, crawl, features.code, target or "")
    log_metadata(metadata={"reference_authors": {name: len(t) for name, t in texts.items()}})
    return texts


@step
def evaluate_model(
    dataset: InstructDataset,
    model: ModelConfig,
    evaluation: EvaluationConfig,
    embedding: EmbeddingConfig,
    comet: CometConfig,
    merged_model: Path | None = None,
    reference_texts: dict[str, list[str]] | None = None,
    target: str | None = None,
) -> tuple[Annotated[EvaluationReport, "evaluation_report"], Annotated[HTMLString, "evaluation_html"]]:
    """Candidate = `merged_model` if given, else the pipeline model version's `merged_model` artifact;
    `reference_texts` (author → texts) and `target` (the twin's author) feed the attribution model."""
    from llm_twin.evaluation.evaluator import evaluate_models
    from llm_twin.evaluation.report import comparison_png, html_report
    from llm_twin.models import registry
    from llm_twin.models.base import base_model_dir
    from llm_twin.paths import state_dir

    model_cfg, cfg = model, evaluation
    context = get_step_context()
    mv = context.model_version if context.model_version is not None else None
    candidate_version = str(mv.name) if mv is not None else None
    if merged_model is None:
        if mv is None:
            raise RuntimeError("no merged_model input and no model version on the pipeline: set pipeline.model in the config")
        merged_model, candidate_version = registry.load_model_version(str(mv.id), name=mv.model.name)
    production_dir, production_name = None, None
    if cfg.compare_production:
        prod = registry.production_version()
        if prod is not None and (mv is None or prod.id != mv.id):
            production_dir, production_name = registry.load_model_version(str(prod.id))
    report = evaluate_models(
        dataset,
        merged_model,
        cfg,
        embedding,
        base_dir=base_model_dir(model_cfg) if cfg.compare_base else None,
        production_dir=production_dir,
        dtype=model_cfg.dtype,
        candidate_version=candidate_version,
        production_version=production_name,
        max_length=model_cfg.max_seq_length,
        reference_texts=reference_texts,
        target=target,
    )
    run_name = context.pipeline_run.name
    plot = comparison_png(report, state_dir("evaluation", run_name) / "comparison.png")
    scores = {m.label: m.metrics() for m in report.all()}
    attribution = report.attribution.model_dump() if report.attribution else {}
    log_metadata(metadata={"scores": scores, "held_out_samples": report.held_out_samples, "seconds": report.duration_s,
                           "attribution": attribution})
    if mv is not None:
        log_metadata(metadata={"evaluation": scores["candidate"], "evaluation_vs": scores,
                               "attribution": attribution}, infer_model=True)
    _log_to_comet(report, plot, run_name, comet)
    return report, HTMLString(html_report(report, None, plot))


def _log_to_comet(report: EvaluationReport, plot: Path, run_name: str, comet: CometConfig) -> None:
    """Evaluation metrics, the comparison plot and sample generations as a Comet experiment."""
    from llm_twin.training.tracking import start_tracker

    tracker = start_tracker(comet, f"{run_name}-evaluation", tags=["evaluation"])
    tracker.log_other("dataset_hash", report.dataset_hash)
    for scores in report.all():
        tracker.log_metrics(scores.metrics(), prefix=scores.label)
    tracker.log_image(plot, "evaluation_comparison")
    for sample in report.candidate.samples[:5]:
        tracker.log_text(sample["generated"], metadata={"instruction": sample["instruction"], "model": "candidate"})
    archive = tracker.end()
    if archive:
        log_metadata(metadata={"comet_archive": archive})


@step
def promote_model(
    report: EvaluationReport, evaluation: EvaluationConfig
) -> tuple[Annotated[PromotionDecision, "promotion_decision"], Annotated[str, "evaluation_summary"], Annotated[HTMLString, "evaluation_report_html"]]:
    """Apply the gate; move the pipeline's model version to `production` (or `staging`) only if it passes."""
    from llm_twin.evaluation.gate import decide
    from llm_twin.evaluation.report import html_report

    decision = decide(report.candidate, report.base, report.production, evaluation.gate, report.attribution)
    context = get_step_context()
    promoted_to = None
    if decision.stage and context.model_version is not None:
        context.model.set_stage(decision.stage, force=True)
        promoted_to = decision.stage
    meta = {"passed": decision.passed, "stage": promoted_to or "unchanged", "reasons": decision.reasons}
    log_metadata(metadata={"promotion": meta})
    if context.model_version is not None:
        log_metadata(metadata={"promotion": meta}, infer_model=True)
    lines = [f"{'metric':<22}" + "".join(f"{m.label:>14}" for m in report.all())]
    for key in report.candidate.metrics():
        lines.append(f"{key:<22}" + "".join(f"{m.metrics().get(key, float('nan')):>14.4g}" for m in report.all()))
    version = context.model_version.name if context.model_version is not None else "-"
    lines.append(f"gate: {'PASSED' if decision.passed else 'FAILED'}; model llm_twin version {version} → {promoted_to or 'stage unchanged'}")
    lines.extend(f"  - {r}" for r in decision.reasons)
    return decision, "\n".join(lines), HTMLString(html_report(report, decision, None))
