"""Benchmark: trained tokens/s of the real training code path against a bare peft loop and the machine's
matmul roofline, in one run.

    .venv/bin/python bench/train.py [--quick] [--steps 12] [--threads N] [--quality] [--profile] [overrides ...]

1. Data: the sample author's content goes through the real `etl` collection and `features` backfill into a
   temporary warehouse (MongoDB-wire server on a free port) and Qdrant folder, then the instruct dataset
   is built from it as `pipeline=dataset` does.
2. Pipeline: `llm_twin.training.sft.train_sft` with the project's config (`conf/training`, `conf/model`,
   Hydra overrides on the command line, e.g. `model.cpu_load_in_4bit=true model.lora.dropout=0.05`),
   limited to `--steps` optimizer steps: trained (non-padding) tokens ÷ the training loop's wall time.
3. Bare: a hand-written peft loop (the same base and precision, LoRA r/targets from the config, AdamW)
   over the very batches the trainer's dataloader produced: forward, backward, step, nothing else.
4. Roofline: the measured matmul rate in the dtype the matmuls run in (2048² `torch.mm`, same threads;
   bf16 under `training.cpu_mixed_precision`, else fp32; the fp32 figure is printed beside it)
   ÷ (4 × parameters) FLOPs per trained token (forward 2N; backward 2N for the activations' gradients, the frozen base needs no
   weight gradients).

`--quality` also trains the full default budget (no step limit), merges the adapter and scores the twin
against the base on the held-out set (perplexity, style similarity): how a speed setting is checked not
to cost quality. `--profile` prints torch.profiler's top operators of a few pipeline steps.
Last line: a JSON object with `tokens_per_s`, `bare_tokens_per_s`, `roofline_tokens_per_s`,
`roofline_ratio` (pipeline ÷ roofline), `bare_ratio` (pipeline ÷ bare) and the settings; `--quick`
runs the same path for one step of 2 examples (CI runs it, so a broken benchmark turns CI red). Everything it writes
(warehouse, Qdrant, checkpoints) is in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from llm_twin.config import (
    AuthorConfig,
    CrawlConfig,
    DatasetConfig,
    EmbeddingConfig,
    EvaluationConfig,
    FeaturesConfig,
    InfraConfig,
    ModelConfig,
    TrainingConfig,
    compose,
)
from llm_twin.connections import Connections


def build_dataset(workdir: Path, overrides: list[str]) -> tuple[Any, dict[str, Any]]:
    """The sample author → warehouse → feature store → instruct dataset, in `workdir`."""
    from llm_twin.collection import collect_author
    from llm_twin.features.backfill import backfill
    from llm_twin.infra.processes import free_port
    from llm_twin.infra.services import LocalServices
    from llm_twin.training.dataset_builder import build_instruct_dataset
    from llm_twin.warehouse import Warehouse

    cfg = compose([*overrides, f"infra.mongo_port={free_port()}", "infra.mongo_database=bench_train",
                   f"infra.qdrant_path={workdir / 'qdrant'}"])
    connections = Connections.of(InfraConfig.of(cfg.infra))
    services = LocalServices(connections, workdir)
    services.start(["mongo"])
    try:
        t0 = time.perf_counter()
        with Warehouse(connections) as warehouse:
            warehouse.ensure_indexes()
            collected = collect_author(AuthorConfig.of(cfg.author), CrawlConfig.of(cfg.crawl), warehouse, progress=False)
        t1 = time.perf_counter()
        embedding = EmbeddingConfig.of(cfg.embedding)
        backfill(connections, embedding, FeaturesConfig.of(cfg.features), progress=False)
        t2 = time.perf_counter()
        dataset = build_instruct_dataset(connections, DatasetConfig.of(cfg.dataset), ModelConfig.of(cfg.model), embedding)
        t3 = time.perf_counter()
    finally:
        services.stop()
    return dataset, {"documents": collected.collected, "train_examples": len(dataset.train),
                     "test_examples": len(dataset.test), "etl_s": round(t1 - t0, 1),
                     "features_s": round(t2 - t1, 1), "dataset_s": round(t3 - t2, 1)}


def matmul_gflops(threads: int, n: int = 2048, seconds: float = 3.0, dtype: str = "float32") -> float:
    """Sustained GEMM rate of this machine with `threads` torch threads, in `dtype`."""
    import torch

    from llm_twin.models.loading import torch_dtype

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, dtype=torch_dtype(dtype)), torch.randn(n, n, dtype=torch_dtype(dtype))
    for _ in range(2):
        torch.mm(a, b)
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        torch.mm(a, b)
        done += 1
    return 2 * n**3 * done / (time.perf_counter() - t0) / 1e9


def bare_loop(base_dir: Path, model_cfg: ModelConfig, batches: list[dict[str, Any]], lr: float,
              bf16: bool) -> dict[str, float]:
    """Forward, backward and AdamW step of a peft LoRA model over the given batches, nothing else (under
    the same bf16 autocast as the trainer when `bf16`)."""
    import torch
    from peft import get_peft_model

    from llm_twin.training.sft import load_base_for_training, lora_config

    model = get_peft_model(load_base_for_training(base_dir, model_cfg), lora_config(model_cfg))
    model.train()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    keys = ("input_ids", "attention_mask", "labels")
    tokens, t0 = 0, time.perf_counter()
    for batch in batches:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(**{k: batch[k] for k in keys if k in batch})
        out.loss.backward()
        optim.step()
        optim.zero_grad(set_to_none=True)
        tokens += int(batch["attention_mask"].sum()) if "attention_mask" in batch else batch["input_ids"].numel()
    wall = time.perf_counter() - t0
    del model, optim
    return {"tokens": tokens, "wall_s": wall, "tokens_per_s": tokens / wall}


def nominal_numel(param: Any) -> int:
    """Elements of a weight as the model defines it: a bitsandbytes 4-bit weight stores two per byte."""
    shape = getattr(getattr(param, "quant_state", None), "shape", None)
    if shape is not None:
        import math

        return int(math.prod(shape))
    return int(param.numel())


def padding_share(batches: list[dict[str, Any]]) -> float:
    padded = sum(b["input_ids"].numel() for b in batches)
    real = sum(int(b["attention_mask"].sum()) for b in batches if "attention_mask" in b) or padded
    return 1 - real / padded


def quality(dataset: Any, base_dir: Path, model_cfg: ModelConfig, training: TrainingConfig,
            evaluation: EvaluationConfig, embedding: EmbeddingConfig, work: Path,
            overrides: list[str]) -> dict[str, Any]:
    """The full default training, merged, scored against the base on the held-out set (attribution
    against the reference authors included, as `pipeline=train` scores it)."""
    from references import reference_texts_for

    from llm_twin.evaluation.evaluator import evaluate_models
    from llm_twin.training.merge import merge_adapter
    from llm_twin.training.sft import train_sft

    result = train_sft(dataset, base_dir, model_cfg, training, work / "full")
    merged = merge_adapter(base_dir, result.adapter_dir, work / "full" / "merged", model_cfg)
    references, target = reference_texts_for(overrides, work)
    report = evaluate_models(dataset, merged, evaluation.model_copy(update={"torch_threads": training.torch_threads}),
                             embedding, base_dir=base_dir, max_length=model_cfg.max_seq_length,
                             reference_texts=references, target=target)
    assert report.base is not None
    c, b = report.candidate, report.base
    return {"full_steps": result.steps, "full_train_runtime_s": result.train_runtime_s,
            "full_tokens_per_s": result.tokens_per_s, "full_train_loss": result.train_loss,
            "base_perplexity": round(b.perplexity, 3), "twin_perplexity": round(c.perplexity, 3),
            "perplexity_ratio": round(c.perplexity / b.perplexity, 4),
            "base_style_similarity": round(b.style_similarity, 4), "twin_style_similarity": round(c.style_similarity, 4),
            "style_gain": round(c.style_similarity - b.style_similarity, 4),
            "base_rouge_l": round(b.rouge_l, 4), "twin_rouge_l": round(c.rouge_l, 4),
            "base_attribution": b.attribution, "twin_attribution": c.attribution,
            "twin_attribution_interval": [c.attribution_low, c.attribution_high],
            "base_distinct_2": round(b.distinct_2, 4), "twin_distinct_2": round(c.distinct_2, 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12, help="optimizer steps of the pipeline measurement")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for all three measurements (default: the cores available)")
    parser.add_argument("--quick", action="store_true", help="1 step of 2 examples, a 1-second matmul (CI runs it)")
    parser.add_argument("--quality", action="store_true", help="also train the full budget and score the twin")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's top operators")
    parser.add_argument("--dataset", help="a JSON file: reuse the instruct dataset saved there, else build and save it")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model.cpu_load_in_4bit=true")
    args = parser.parse_args()
    if args.quick:  # one small optimizer step: the whole path, a fraction of the time
        args.steps = 1
        args.overrides = ["training.per_device_batch_size=2", "training.gradient_accumulation_steps=1",
                          *args.overrides]
    logging.basicConfig(level=logging.WARNING)

    import torch

    from llm_twin.models.base import base_model_dir
    from llm_twin.models.loading import trains_in_4bit
    from llm_twin.models.threads import available_cores, busy_cores_of_others
    from llm_twin.paths import state_dir
    from llm_twin.training.sft import build_trainer, cpu_autocasts_bf16

    cfg = compose(["pipeline=train", *args.overrides])
    model_cfg, embedding = ModelConfig.of(cfg.model), EmbeddingConfig.of(cfg.embedding)
    threads = args.threads or available_cores()
    training = TrainingConfig.of(cfg.training).model_copy(update={"torch_threads": threads})
    others = busy_cores_of_others(1.0)
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-train-", dir=state_dir("bench")))
    try:
        if args.dataset and Path(args.dataset).is_file():
            from llm_twin.domain.datasets import InstructDataset

            dataset = InstructDataset.model_validate_json(Path(args.dataset).read_text())
            data = {"train_examples": len(dataset.train), "test_examples": len(dataset.test), "dataset": args.dataset}
        else:
            dataset, data = build_dataset(work, list(args.overrides))
            if args.dataset:
                Path(args.dataset).write_text(dataset.model_dump_json())
        print(f"dataset: {data}", flush=True)
        torch.set_num_threads(threads)
        base_dir = base_model_dir(model_cfg)

        # 1. the pipeline's own code path, step-limited
        limited = training.model_copy(update={"max_steps": args.steps})
        setup = build_trainer(dataset, base_dir, model_cfg, limited, work / "pipeline")
        trainer = setup.trainer
        batches: list[dict[str, Any]] = []
        training_step = trainer.training_step

        def recording_step(model: Any, inputs: dict[str, Any], *rest: Any, **kw: Any) -> Any:
            batches.append({k: v.detach().clone() for k, v in inputs.items() if hasattr(v, "shape")})
            return training_step(model, inputs, *rest, **kw)

        trainer.training_step = recording_step  # the very batches the trainer trains on, for the bare loop
        base_params = sum(nominal_numel(p) for p in trainer.model.parameters() if not p.requires_grad)
        if args.profile:
            from torch.profiler import ProfilerActivity, profile

            with profile(activities=[ProfilerActivity.CPU]) as prof:
                output = trainer.train()
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25), flush=True)
        else:
            output = trainer.train()
        runtime = float(output.metrics["train_runtime"])
        tokens = int(trainer.state.num_input_tokens_seen)
        pipeline_tps = tokens / runtime
        del trainer, setup
        print(f"pipeline: {tokens} tokens in {runtime:.1f} s = {pipeline_tps:.1f} tokens/s "
              f"({args.steps} steps, padding {padding_share(batches):.1%})", flush=True)

        # 2. bare peft loop on the same batches
        bf16 = cpu_autocasts_bf16(training)
        compute_dtype = "bfloat16" if bf16 else "float32"
        bare = bare_loop(base_dir, model_cfg, batches, training.learning_rate, bf16)
        print(f"bare peft loop: {bare['tokens']} tokens in {bare['wall_s']:.1f} s = {bare['tokens_per_s']:.1f} tokens/s",
              flush=True)

        # 3. roofline: the GEMM rate of the dtype the matmuls run in (and fp32's, for comparison)
        seconds = 1.0 if args.quick else 3.0
        gflops = {dt: matmul_gflops(threads, seconds=seconds, dtype=dt) for dt in dict.fromkeys(["float32", compute_dtype])}
        roofline = gflops[compute_dtype] * 1e9 / (4 * base_params)
        fp32_roofline = gflops["float32"] * 1e9 / (4 * base_params)
        print(f"matmul: {gflops[compute_dtype]:.1f} GFLOP/s {compute_dtype} → roofline {roofline:.1f} tokens/s "
              f"(4 × {base_params / 1e6:.1f}M params); fp32 {gflops['float32']:.1f} GFLOP/s → {fp32_roofline:.1f}",
              flush=True)

        result: dict[str, Any] = {
            "tokens_per_s": round(pipeline_tps, 1),
            "bare_tokens_per_s": round(bare["tokens_per_s"], 1),
            "roofline_tokens_per_s": round(roofline, 1),
            "roofline_ratio": round(pipeline_tps / roofline, 3),
            "bare_ratio": round(pipeline_tps / bare["tokens_per_s"], 3),
            "bare_roofline_ratio": round(bare["tokens_per_s"] / roofline, 3),
            "compute_dtype": compute_dtype,
            "matmul_gflops": round(gflops[compute_dtype], 1),
            "fp32_matmul_gflops": round(gflops["float32"], 1),
            "fp32_roofline_tokens_per_s": round(fp32_roofline, 1),
            "fp32_roofline_ratio": round(pipeline_tps / fp32_roofline, 3),
            "trained_tokens": tokens,
            "train_runtime_s": round(runtime, 2),
            "steps": args.steps,
            "padding_share": round(padding_share(batches), 3),
            "base_params": base_params,
            "base_4bit": trains_in_4bit(model_cfg),
            "lora_dropout": model_cfg.lora.dropout,
            "train_sampling": training.train_sampling,
            "threads": threads,
            "other_processes_busy_cores": round(others, 2),
            "loadavg_1m_at_start": round(load[0], 2),
            **data,
        }
        if args.quality:
            result.update(quality(dataset, base_dir, model_cfg, training, EvaluationConfig.of(cfg.evaluation),
                                  embedding, work, ["pipeline=train", *args.overrides]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["target_met"] = result["roofline_ratio"] >= 0.5
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
