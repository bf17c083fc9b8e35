"""Speed and memory measurements used to choose the served quantization and by `bench/serving.py`.

Tokens/s is measured on greedy decoding of a fixed number of new tokens after the same prompt (EOS does
not stop it), so backends are compared on the same amount of work. Peak memory is measured in a fresh
subprocess (peak RSS after loading and generating, minus the RSS of the same process before loading),
because a model loaded earlier in the calling process would otherwise hide in its high-water mark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pydantic import BaseModel

PROMPT = "Write a short LinkedIn post about why vector databases matter for retrieval-augmented generation."


class SpeedMemory(BaseModel):
    backend: str
    tokens_per_s: float
    new_tokens: int
    load_s: float
    peak_mb: float | None = None


def gguf_speed(gguf_path: Path | str, new_tokens: int = 64, threads: int | None = None) -> SpeedMemory:
    from llama_cpp import Llama

    t0 = time.perf_counter()
    llm = Llama(model_path=str(gguf_path), n_ctx=512, n_threads=threads or os.cpu_count(), verbose=False)
    load_s = time.perf_counter() - t0
    tokens = llm.tokenize(PROMPT.encode(), add_bos=False)
    llm.eval(tokens)  # prompt processing is not part of generation speed
    t1 = time.perf_counter()
    count = 0
    for _ in llm.generate(tokens, temp=0.0, reset=False):
        count += 1
        if count >= new_tokens:
            break
    elapsed = time.perf_counter() - t1
    llm.close()
    return SpeedMemory(backend="llama.cpp", tokens_per_s=count / elapsed, new_tokens=count, load_s=load_s)


def torch_speed(model_dir: Path | str, new_tokens: int = 64, dtype: str = "float32") -> SpeedMemory:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=getattr(torch, dtype)).eval()
    load_s = time.perf_counter() - t0
    ids = tok(PROMPT, return_tensors="pt")
    with torch.inference_mode():
        model.generate(**ids, max_new_tokens=2, do_sample=False)  # warm-up
        t1 = time.perf_counter()
        out = model.generate(**ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                             pad_token_id=tok.eos_token_id)
        elapsed = time.perf_counter() - t1
    count = int(out.shape[1] - ids["input_ids"].shape[1])
    return SpeedMemory(backend=f"pytorch-{dtype}", tokens_per_s=count / elapsed, new_tokens=count, load_s=load_s)


def decode_speed(gguf_path: Path | str, prompt: str, max_new_tokens: int, threads: int | None = None,
                 n_ctx: int = 2048) -> SpeedMemory:
    """Bare llama.cpp on a rendered prompt: greedy decoding until EOS or `max_new_tokens`, timed from the
    first token as the service times itself, so `bench/serving.py` compares the service's loop with it."""
    from llama_cpp import Llama

    t0 = time.perf_counter()
    llm = Llama(model_path=str(gguf_path), n_ctx=n_ctx, n_threads=threads or os.cpu_count(), verbose=False)
    load_s = time.perf_counter() - t0
    tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    eos, count, first = llm.token_eos(), 0, None
    for tok in llm.generate(tokens, temp=0.0, reset=True):
        if first is None:
            first = time.perf_counter()
        if tok == eos:
            break
        count += 1
        if count >= max_new_tokens:
            break
    elapsed = time.perf_counter() - (first or t0)
    llm.close()
    return SpeedMemory(backend="llama.cpp-bare", tokens_per_s=count / elapsed if elapsed > 0 else 0.0,
                       new_tokens=count, load_s=load_s)


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(kind: str, path: str, new_tokens: int) -> None:
    """Subprocess body: import everything first, then measure what the model itself adds."""
    if kind == "gguf":
        import llama_cpp  # noqa: F401
    else:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    baseline = _rss_mb()
    result = gguf_speed(path, new_tokens) if kind == "gguf" else torch_speed(path, new_tokens)
    result.peak_mb = round(_peak_mb() - baseline, 1)
    print(json.dumps(result.model_dump()))


def measure_in_subprocess(kind: str, path: Path | str, new_tokens: int = 64, timeout_s: float = 600) -> SpeedMemory:
    """Run `gguf_speed`/`torch_speed` in a fresh interpreter and return its speed and peak memory."""
    code = f"from llm_twin.inference.measure import _child; _child({kind!r}, {str(path)!r}, {new_tokens})"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]), HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"measurement of {path} failed: {proc.stderr[-2000:]}")
    return SpeedMemory.model_validate_json(proc.stdout.strip().splitlines()[-1])
