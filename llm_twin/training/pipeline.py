"""The training stage as one call: track → SFT → merge → (DPO → merge) → loss plot → sample generations.

`steps/training.py::train_model` is a thin wrapper around `run_training`, so the same code runs in tests,
in a ZenML step on the local orchestrator, or on a GPU step operator.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from pydantic import BaseModel, Field

from llm_twin.config.model import ModelConfig
from llm_twin.config.training import TrainingConfig
from llm_twin.domain.datasets import InstructDataset, PreferenceDataset
from llm_twin.models.base import base_model_dir
from llm_twin.models.generation import GreedyDecoding, generate
from llm_twin.models.loading import load_causal_lm
from llm_twin.models.threads import configure_torch_threads
from llm_twin.training.merge import merge_adapter
from llm_twin.training.plots import loss_curve_png
from llm_twin.training.sft import TrainingResult, train_sft
from llm_twin.training.tracking import start_tracker, trainer_callback

log = logging.getLogger(__name__)


class TrainOutputs(BaseModel):
    adapter_dir: str
    merged_dir: str
    loss_plot: str
    result: TrainingResult
    dpo_adapter_dir: str | None = None
    comet_experiment_key: str | None = None
    comet_archive: str | None = None
    samples: list[dict[str, str]] = Field(default_factory=list)
    total_duration_s: float = 0.0


def run_training(
    dataset: InstructDataset,
    model_cfg: ModelConfig,
    cfg: TrainingConfig,
    work_dir: Path,
    preference: PreferenceDataset | None = None,
    run_name: str = "llm-twin-sft",
) -> TrainOutputs:
    started = time.perf_counter()
    configure_torch_threads(cfg.torch_threads)
    work_dir.mkdir(parents=True, exist_ok=True)
    base_dir = base_model_dir(model_cfg)
    tracker = start_tracker(cfg.comet, run_name, tags=[model_cfg.name, "qlora"])
    tracker.log_parameters({"model": model_cfg.model_dump(), "training": cfg.model_dump()})
    tracker.log_other("dataset_hash", dataset.metadata.dataset_hash)
    tracker.log_other("dataset_counts", dataset.metadata.counts)
    tracker.log_other("dataset_schema_version", dataset.metadata.schema_version)
    try:
        result = train_sft(dataset, base_dir, model_cfg, cfg, work_dir, callbacks=[trainer_callback(tracker, "sft")])
        merged_dir = merge_adapter(base_dir, result.adapter_dir, work_dir / "merged", model_cfg)
        history = list(result.log_history)
        dpo_adapter = None
        if cfg.dpo.enabled:
            from llm_twin.training.dpo import train_dpo

            dpo_adapter, dpo_history = train_dpo(
                preference or PreferenceDataset(), merged_dir, model_cfg, cfg, work_dir,
                callbacks=[trainer_callback(tracker, "dpo")],
            )
            sft_merged = work_dir / "merged_sft"
            if sft_merged.exists():
                shutil.rmtree(sft_merged)
            merged_dir.rename(sft_merged)
            merged_dir = merge_adapter(sft_merged, dpo_adapter, work_dir / "merged", model_cfg)
            shutil.rmtree(sft_merged)
            history += [{**r, "dpo": 1.0} for r in dpo_history]
        plot = loss_curve_png(result.log_history, work_dir / "loss_curve.png", f"QLoRA SFT loss ({model_cfg.name})")
        tracker.log_image(plot, "loss_curve")
        tracker.log_metrics(
            {k: v for k, v in {"train_loss": result.train_loss, "eval_loss": result.eval_loss}.items() if v is not None},
            prefix="final",
        )
        samples: list[dict[str, str]] = []
        if cfg.sample_generations and dataset.test:
            picked = dataset.test[: cfg.sample_generations]
            model, tok = load_causal_lm(merged_dir, model_cfg.dtype)
            answers = generate(model, tok, [s.prompt_messages() for s in picked], GreedyDecoding(max_new_tokens=cfg.max_new_tokens, batch_size=cfg.sample_generations))
            del model
            for s, a in zip(picked, answers):
                samples.append({"id": s.id, "instruction": s.instruction, "generated": a, "reference": s.answer})
                tracker.log_text(a, metadata={"id": s.id, "instruction": s.instruction, "kind": "sample_generation"})
    finally:
        experiment_key = tracker.key
        archive = tracker.end()
    return TrainOutputs(
        adapter_dir=result.adapter_dir,
        merged_dir=str(merged_dir),
        loss_plot=str(plot),
        result=result,
        dpo_adapter_dir=str(dpo_adapter) if dpo_adapter else None,
        comet_experiment_key=experiment_key,
        comet_archive=archive,
        samples=samples,
        total_duration_s=round(time.perf_counter() - started, 1),
    )
