"""The training step. It MUST stay named `train_model`: the gpu stack applies its step operator by name."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

from zenml import ArtifactConfig, get_step_context, log_metadata, step
from zenml.enums import ArtifactType
from zenml.metadata.metadata_types import MetadataType
from zenml.types import HTMLString

from llm_twin.config import ModelConfig, TrainingConfig
from llm_twin.domain.datasets import InstructDataset, PreferenceDataset
from llm_twin.paths import state_dir

KEEP_WORK_DIRS = 2  # merged models are ~0.5 GB each locally; the artifact store keeps every version


def _work_dir(run_name: str) -> Path:
    root = state_dir("training")
    old = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for stale in old[: max(len(old) - (KEEP_WORK_DIRS - 1), 0)]:
        shutil.rmtree(stale, ignore_errors=True)
    return root / run_name


@step
def train_model(
    dataset: InstructDataset,
    model: ModelConfig,
    training: TrainingConfig,
    preference: PreferenceDataset | None = None,
) -> tuple[
    Annotated[Path, ArtifactConfig(name="lora_adapter", artifact_type=ArtifactType.MODEL)],
    Annotated[Path, ArtifactConfig(name="merged_model", artifact_type=ArtifactType.MODEL)],
    Annotated[HTMLString, "loss_curve"],
]:
    from llm_twin.training.pipeline import run_training
    from llm_twin.training.plots import png_html

    model_cfg, cfg = model, training
    context = get_step_context()
    run_name = context.pipeline_run.name
    out = run_training(dataset, model_cfg, cfg, _work_dir(run_name), preference, run_name=run_name)
    r = out.result
    metrics = {
        "train_loss": r.train_loss,
        "eval_loss": r.eval_loss,
        "steps": r.steps,
        "train_examples": r.train_examples,
        "train_seconds": r.duration_s,
        "dataset_hash": dataset.metadata.dataset_hash,
        "base_model_id": model_cfg.base_model_id,
        "lora_r": model_cfg.lora.r,
        "epochs": cfg.epochs,
        "learning_rate": cfg.learning_rate,
        "dpo": cfg.dpo.enabled,
        "comet_archive": out.comet_archive or "",
        "comet_experiment": out.comet_experiment_key or "",
    }
    logged: dict[str, MetadataType] = {k: v for k, v in metrics.items() if v is not None}
    log_metadata(metadata=logged)
    if context.model_version is not None:
        log_metadata(metadata={"training": logged}, infer_model=True)
    html = png_html(Path(out.loss_plot), "QLoRA SFT loss")
    if out.samples:
        html += "<h3>Sample generations</h3>" + "".join(
            f"<p><b>{s['instruction']}</b></p><pre style='white-space: pre-wrap'>{s['generated']}</pre>" for s in out.samples
        )
    adapter = Path(out.dpo_adapter_dir).parent if out.dpo_adapter_dir else Path(out.adapter_dir)
    if out.dpo_adapter_dir:  # keep both adapters together: adapter/ (SFT) and adapter_dpo/
        bundle = Path(out.adapter_dir).parent / "adapters"
        bundle.mkdir(exist_ok=True)
        for src in (Path(out.adapter_dir), Path(out.dpo_adapter_dir)):
            shutil.copytree(src, bundle / src.name, dirs_exist_ok=True)
        adapter = bundle
    return adapter, Path(out.merged_dir), HTMLString(html)
