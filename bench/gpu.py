"""Benchmark the GPU stack on any CUDA machine: QLoRA training and bitsandbytes serving, measured in one run.

    python bench/gpu.py train7b [--steps 6] [--seq 2048] [--merge] [--tokenizer DIR] [--out DIR] [overrides ...]
    python bench/gpu.py smollm2 --dataset FILE [--out DIR] [overrides ...]
    python bench/gpu.py evaluate --adapter DIR --dataset FILE      (no GPU needed)

`train7b`: a Mistral-7B-shaped model (Mistral-7B-v0.3's 32 layers, 4096 hidden, 14336 MLP, 32 query / 8 KV
heads; the vocabulary of the tokenizer given, SmolLM2's by default) with random weights built in code (no
download is possible), saved and loaded through the project's own QLoRA path (`conf/model/mistral.yaml`:
4-bit NF4 base, bf16 compute, LoRA r=64 on every projection) and trained for `--steps` optimizer steps on
sequences of `--seq` tokens by `llm_twin.training.sft.build_trainer` (trl's SFTTrainer). Prints peak GPU
memory, trained tokens/s (steps after the first) and model FLOPs utilisation: (4 x matmul parameters +
12 x layers x seq x hidden) FLOPs per token (forward 2N, backward 2N for the activations' gradients: the
frozen base has no weight gradients; attention without causal discount, recomputation not counted)
against the bf16 matmul rate measured on the same GPU in the same run and against the datasheet's dense
bf16 peak. `--merge` also merges the adapter into the 7B base as `pipeline=train` does, and the 4-bit /
8-bit / bf16 decoding speed of the result is measured with the service's `transformers_bnb` generator.

`smollm2`: the sample author's instruct dataset (`--dataset`, the JSON that `bench/train.py --dataset`
saves from the feature store) → QLoRA on CUDA (`train_sft`, the full default budget) → merge → answer
perplexity of base and twin on the test split → the merged twin served with the `transformers_bnb`
generator in 4-bit and 8-bit against bf16: decoding tokens/s and held-out perplexity (the bundled
held-out texts, the same token windows for all three, as `bench/serving.py` does on CPU). The trained
adapter is written to `--out` in bf16 so the full evaluation (style, attribution) can run where the
embedding model is: `evaluate` merges it onto the base and runs the project's evaluation (perplexity,
style similarity, attribution) against the base, on any machine.

Each prints one JSON object as its last line (and writes it to `--out`/<part>.json).
"""

from __future__ import annotations

import argparse
import json
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

from serving import INSTRUCTIONS  # the same prompts bench/serving.py decodes on CPU
from train import nominal_numel

from llm_twin.config import ModelConfig, TrainingConfig, compose
from llm_twin.domain.datasets import InstructDataset, InstructSample

# Datasheet dense bf16 tensor-core peaks (TFLOP/s) of the GPUs this is likely to meet; MFU against the
# measured matmul rate is printed too, since clocks and parts differ.
DATASHEET_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0}

DEVICE = "cuda"



def versions() -> dict[str, str]:
    import importlib.metadata as md

    import torch

    found = {name: md.version(name) for name in ("torch", "transformers", "peft", "trl", "bitsandbytes", "datasets")}
    props = torch.cuda.get_device_properties(0)
    return {**found, "cuda": str(torch.version.cuda), "device": torch.cuda.get_device_name(0),
            "capability": f"{props.major}.{props.minor}", "gpu_memory_gib": f"{props.total_memory / 2**30:.1f}"}


def datasheet_peak(device_name: str) -> float | None:
    return next((peak for key, peak in DATASHEET_BF16_TFLOPS.items() if key in device_name), None)


def bf16_matmul_tflops(n: int = 8192, repeats: int = 10) -> float:
    """Mean rate of `repeats` n³ bf16 products on random data after 3 warm-ups (CUDA events)."""
    import torch

    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        a @ b
    end.record()
    torch.cuda.synchronize()
    seconds = start.elapsed_time(end) / 1000
    del a, b
    torch.cuda.empty_cache()
    return 2 * n**3 * repeats / seconds / 1e12


def gib(n_bytes: float) -> float:
    return round(n_bytes / 2**30, 2)


class StepClock:
    """A TrainerCallback recording each optimizer step's end time and tokens seen (GPU synchronised)."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, int]] = []

    def callback(self) -> Any:
        import torch
        from transformers import TrainerCallback

        clock = self

        class _Clock(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                torch.cuda.synchronize()
                clock.marks.append((time.perf_counter(), int(state.num_input_tokens_seen or 0)))

            def on_step_end(self, args, state, control, **kwargs):
                torch.cuda.synchronize()
                clock.marks.append((time.perf_counter(), int(state.num_input_tokens_seen or 0)))

        return _Clock()

    def tokens_per_s(self, skip: int = 1) -> float:
        """Tokens/s over the steps after the first `skip` (the first pays for kernels' compilation and caches)."""
        (t0, n0), (t1, n1) = self.marks[min(skip, len(self.marks) - 2)], self.marks[-1]
        return (n1 - n0) / (t1 - t0)

    def step_seconds(self) -> list[float]:
        return [round(b[0] - a[0], 3) for a, b in zip(self.marks, self.marks[1:], strict=False)]


def mistral_7b_shaped(tokenizer: Any) -> Any:
    from transformers import MistralConfig

    return MistralConfig(
        vocab_size=len(tokenizer), hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=32768,
        rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0}, sliding_window=None,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id)


def save_random_model(config: Any, tokenizer: Any, out: Path) -> dict[str, Any]:
    """Random bf16 weights made on the GPU (seconds) and saved as a Hugging Face folder."""
    import torch
    from transformers import MistralForCausalLM

    t0 = time.perf_counter()
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(DEVICE):
            model = MistralForCausalLM(config)
    finally:
        torch.set_default_dtype(default)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    del model
    torch.cuda.empty_cache()
    return {"parameters": params, "build_and_save_s": round(time.perf_counter() - t0, 1)}


def long_dataset(source: InstructDataset | None, tokenizer: Any, n: int, seq: int) -> InstructDataset:
    """n examples whose answers run past `seq` tokens (truncated to it by the trainer): the author's own
    answers back to back when a dataset is given, else a fixed English text."""
    texts = [s.answer for s in source.train] if source else [
        "Change data capture turns every write to the warehouse into an event the feature pipeline consumes. "]
    samples = []
    for i in range(n):
        answer, k = "", i
        while len(tokenizer(answer, add_special_tokens=False)["input_ids"]) < seq + 16:
            answer += texts[k % len(texts)] + "\n\n"
            k += 1
        samples.append(InstructSample(id=f"long-{i}", data_type="articles", document_id=f"long-{i}",
                                      instruction="Write an article in your own voice.", answer=answer))
    return InstructDataset(train=samples, test=[])


def matmul_parameters(model: Any) -> int:
    """Parameters that multiply every token (every linear layer incl. the LM head; not the embedding
    lookup): a bitsandbytes 4-bit weight counts its nominal shape."""
    return sum(nominal_numel(param) for name, param in model.named_parameters()
               if "embed_tokens" not in name and "lora_" not in name)


def decode_speed(generator: Any, new_tokens: int) -> dict[str, float]:
    """The service's generator on the fixed prompts, greedy: decoding tokens/s and the GPU memory it holds."""
    import torch

    from llm_twin.inference.generator import GenerationParams

    params = GenerationParams(max_new_tokens=new_tokens, temperature=0.0, top_p=1.0, repeat_penalty=1.0, seed=0,
                              stop=[], time_limit_s=120.0)
    generator.generate([{"role": "user", "content": INSTRUCTIONS[0]}], params.model_copy(update={"max_new_tokens": 8}))
    tokens, seconds = 0, 0.0
    for prompt in INSTRUCTIONS:
        gen = generator.generate([{"role": "user", "content": prompt}], params)
        tokens, seconds = tokens + gen.completion_tokens, seconds + gen.seconds
    return {"tokens_per_s": round(tokens / seconds, 1), "weights_gib": gib(generator.model.get_memory_footprint()),
            "peak_gib": gib(torch.cuda.max_memory_allocated())}


def serve_variants(model_dir: Path, windows: list[list[int]] | None, new_tokens: int) -> dict[str, Any]:
    """bf16 (unquantized), 8-bit and 4-bit through `TransformersGenerator`, each loaded alone."""
    import gc

    import torch

    from llm_twin.inference.gpu import TransformersGenerator
    from llm_twin.models.perplexity import torch_perplexity

    out: dict[str, Any] = {}
    for bits in (16, 8, 4):
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        generator = TransformersGenerator(model_dir, bits=bits)
        row: dict[str, Any] = {"load_s": round(time.perf_counter() - t0, 1), **decode_speed(generator, new_tokens)}
        if windows:
            row["perplexity"] = round(torch_perplexity(generator.model, windows).perplexity, 3)
        out["bf16" if bits == 16 else f"{bits}bit"] = row
        generator.close()
        del generator
        gc.collect()
        torch.cuda.empty_cache()
    base = out["bf16"]
    for name in ("8bit", "4bit"):
        out[f"{name}_speed_ratio"] = round(out[name]["tokens_per_s"] / base["tokens_per_s"], 3)
        out[f"{name}_memory_ratio"] = round(out[name]["weights_gib"] / base["weights_gib"], 3)
        if windows:
            out[f"{name}_perplexity_ratio"] = round(out[name]["perplexity"] / base["perplexity"], 4)
    return out


def train7b(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import torch

    from llm_twin.models.loading import load_tokenizer
    from llm_twin.training.sft import build_trainer

    tokenizer = load_tokenizer(args.tokenizer)
    cfg = compose(["model=mistral", f"model.max_seq_length={args.seq}", f"training.max_steps={args.steps}",
                   "training.warmup_steps=0", *args.overrides])
    model_cfg, training = ModelConfig.of(cfg.model), TrainingConfig.of(cfg.training)
    base_dir = work / "mistral-7b-shaped"
    made = save_random_model(mistral_7b_shaped(tokenizer), tokenizer, base_dir)
    source = InstructDataset.model_validate_json(Path(args.dataset).read_text()) if args.dataset else None
    n = training.per_device_batch_size * training.gradient_accumulation_steps * args.steps
    dataset = long_dataset(source, tokenizer, n, args.seq)
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    clock = StepClock()
    setup = build_trainer(dataset, base_dir, model_cfg, training, work / "train", callbacks=[clock.callback()])
    load_s = time.perf_counter() - t0
    loaded_gib = gib(torch.cuda.memory_allocated())
    output = setup.trainer.train()
    tokens_per_s = clock.tokens_per_s()
    peak = torch.cuda.max_memory_allocated()
    n_matmul = matmul_parameters(setup.trainer.model)
    mc = setup.trainer.model.config
    flops_per_token = 4 * n_matmul + 12 * mc.num_hidden_layers * args.seq * mc.hidden_size
    measured = bf16_matmul_tflops()
    peak_sheet = datasheet_peak(torch.cuda.get_device_name(0))
    adapter = work / "train" / "adapter"
    setup.trainer.save_model(str(adapter))
    result: dict[str, Any] = {
        "part": "train7b", "versions": versions(), **made, "matmul_parameters": n_matmul, "seq": args.seq, "steps": args.steps,
        "batch": training.per_device_batch_size, "grad_accum": training.gradient_accumulation_steps,
        "gradient_checkpointing": training.gradient_checkpointing, "lora_r": model_cfg.lora.r,
        "load_and_quantize_s": round(load_s, 1), "weights_gib_4bit": loaded_gib, "peak_gib": gib(peak),
        "peak_reserved_gib": gib(torch.cuda.max_memory_reserved()),
        "step_s": clock.step_seconds(), "train_loss": output.training_loss,
        "tokens_per_s": round(tokens_per_s, 1), "model_tflops": round(tokens_per_s * flops_per_token / 1e12, 1),
        "measured_bf16_tflops": round(measured, 1), "mfu_vs_measured": round(tokens_per_s * flops_per_token / 1e12 / measured, 4),
        "datasheet_bf16_tflops": peak_sheet,
        "mfu": round(tokens_per_s * flops_per_token / 1e12 / peak_sheet, 4) if peak_sheet else None,
    }
    write_result(args, "train7b_training", result)  # kept even if the merge or serving runs out of time
    del setup, output
    import gc

    gc.collect()
    torch.cuda.empty_cache()
    if args.merge:
        from llm_twin.training.merge import merge_adapter

        t1 = time.perf_counter()
        merged = merge_adapter(base_dir, adapter, work / "merged", model_cfg)
        result["merge_s"] = round(time.perf_counter() - t1, 1)
        shutil.rmtree(base_dir)
        result["serving"] = serve_variants(merged, None, args.new_tokens)
    return result


def smollm2(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM

    from llm_twin.inference.heldout import bundled_texts
    from llm_twin.models.base import base_model_dir
    from llm_twin.models.loading import load_tokenizer
    from llm_twin.models.perplexity import answer_perplexity, token_windows
    from llm_twin.training.merge import merge_adapter
    from llm_twin.training.sft import train_sft

    cfg = compose(["model=smollm2", *args.overrides])
    model_cfg, training = ModelConfig.of(cfg.model), TrainingConfig.of(cfg.training)
    dataset = InstructDataset.model_validate_json(Path(args.dataset).read_text())
    t0 = time.perf_counter()
    base_dir = base_model_dir(model_cfg, cache_root=work / "models")
    convert_s = time.perf_counter() - t0
    torch.cuda.reset_peak_memory_stats()
    trained = train_sft(dataset, base_dir, model_cfg, training, work / "train")
    train_peak = torch.cuda.max_memory_allocated()
    t1 = time.perf_counter()
    merged = merge_adapter(base_dir, trained.adapter_dir, work / "merged", model_cfg)
    merge_s = time.perf_counter() - t1
    scores = {}
    for name, folder in (("base", base_dir), ("twin", merged)):
        model: Any = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.bfloat16)
        model = model.to(DEVICE).eval()
        scores[name] = round(answer_perplexity(model, load_tokenizer(folder), dataset.test, model_cfg.max_seq_length), 3)
        del model
    windows = token_windows(merged, bundled_texts())
    result = {
        "part": "smollm2", "convert_s": round(convert_s, 1), "train_examples": trained.train_examples,
        "steps": trained.steps, "trained_tokens": trained.trained_tokens, "train_runtime_s": trained.train_runtime_s,
        "tokens_per_s": trained.tokens_per_s, "train_loss": trained.train_loss, "eval_loss": trained.eval_loss,
        "train_peak_gib": gib(train_peak), "merge_s": round(merge_s, 1),
        "base_answer_perplexity": scores["base"], "twin_answer_perplexity": scores["twin"],
        "dtype": model_cfg.dtype, "bnb_4bit_compute_dtype": model_cfg.bnb_4bit_compute_dtype,
        "serving": serve_variants(merged, windows, args.new_tokens),
    }
    if args.out:
        save_adapter_bf16(Path(trained.adapter_dir), Path(args.out) / "smollm2_adapter")
    return result


def evaluate_adapter(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The full evaluation (perplexity, style, attribution, hygiene) of an adapter trained elsewhere (the
    `smollm2` part's bf16 copy), merged onto the configured base here: no GPU needed."""
    from references import reference_texts_for

    from llm_twin.config import EmbeddingConfig, EvaluationConfig
    from llm_twin.evaluation.evaluator import evaluate_models
    from llm_twin.models.base import base_model_dir
    from llm_twin.training.merge import merge_adapter

    overrides = ["model=smollm2", *args.overrides]
    cfg = compose(overrides)
    evaluation = EvaluationConfig.of(cfg.evaluation)
    references, target = reference_texts_for(overrides, work)
    model_cfg = ModelConfig.of(cfg.model)
    dataset = InstructDataset.model_validate_json(Path(args.dataset).read_text())
    base_dir = base_model_dir(model_cfg)
    adapter = work / "adapter"
    shutil.copytree(args.adapter, adapter)
    shutil.copy(base_dir / "tokenizer.json", adapter / "tokenizer.json")
    for name in ("tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json"):
        if (base_dir / name).is_file():
            shutil.copy(base_dir / name, adapter / name)
    merged = merge_adapter(base_dir, adapter, work / "merged", model_cfg)
    report = evaluate_models(dataset, merged, evaluation, EmbeddingConfig.of(cfg.embedding), base_dir=base_dir,
                             max_length=model_cfg.max_seq_length, reference_texts=references, target=target)
    assert report.base is not None
    keys = ("perplexity", "style_similarity", "attribution", "attribution_low", "attribution_high", "distinct_2")
    return {"part": "evaluate", "adapter": str(args.adapter),
            **{f"base_{k}": getattr(report.base, k) for k in keys},
            **{f"twin_{k}": getattr(report.candidate, k) for k in keys}}


def save_adapter_bf16(adapter: Path, out: Path) -> None:
    """The adapter in bf16 (half the bytes) with its config: small enough to bring back from the GPU."""
    import torch
    from safetensors.torch import load_file, save_file

    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.to(torch.bfloat16) for k, v in load_file(str(adapter / "adapter_model.safetensors")).items()}
    save_file(tensors, str(out / "adapter_model.safetensors"))
    shutil.copy(adapter / "adapter_config.json", out / "adapter_config.json")


def write_result(args: argparse.Namespace, name: str, result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / f"{name}.json").write_text(json.dumps(result) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["train7b", "smollm2", "evaluate"])
    parser.add_argument("--adapter", default=None, help="evaluate: an adapter folder (the smollm2 part's output)")
    parser.add_argument("--steps", type=int, default=6, help="train7b: optimizer steps")
    parser.add_argument("--seq", type=int, default=2048, help="train7b: tokens per sequence")
    parser.add_argument("--merge", action="store_true", help="train7b: merge the adapter and measure serving")
    parser.add_argument("--tokenizer", default=None, help="train7b: a tokenizer folder with a chat template")
    parser.add_argument("--dataset", default=None, help="an instruct dataset JSON (bench/train.py --dataset)")
    parser.add_argument("--new-tokens", type=int, default=128, help="decoded tokens per prompt when serving")
    parser.add_argument("--out", default=None, help="folder for the JSON result (and the smollm2 adapter)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. training.gradient_checkpointing=true")
    return parser


def main() -> int:
    parser = build_parser()
    args = parser.parse_intermixed_args()

    import torch

    if args.part == "evaluate":
        if not (args.adapter and args.dataset):
            parser.error("evaluate needs --adapter and --dataset")
        return run(args)
    if not torch.cuda.is_available():
        print("bench/gpu.py needs a CUDA GPU: torch.cuda.is_available() is False", file=sys.stderr)
        return 2
    if args.part == "smollm2" and not args.dataset:
        parser.error("smollm2 needs --dataset (save one with `bench/train.py --quick --dataset FILE`)")
    if args.part == "train7b" and not args.tokenizer:
        parser.error("train7b needs --tokenizer: a folder with tokenizer.json and a chat template")
    return run(args)


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="llm-twin-gpu-"))
    try:
        if args.part == "evaluate":
            result = evaluate_adapter(args, work)
        else:
            result = {"versions": versions(), **(train7b(args, work) if args.part == "train7b" else smollm2(args, work))}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_result(args, args.part, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
