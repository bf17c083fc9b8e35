"""GPU stacks: serve the merged twin with transformers + bitsandbytes 4/8-bit instead of llama.cpp.

Same interface as `LlamaGenerator` (render / count_tokens / generate / stream / close) so the engine does
not care which backend it drives; `stream` hands the whole answer over as one piece. 4-bit NF4 is what fits a 7B model on one consumer GPU; on this project's 135M
CPU model it degrades the output (see DESIGN.md), which is why the CPU default is the GGUF.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from llm_twin.inference.generator import (
    TEMPLATE_STOPS,
    Generation,
    GenerationParams,
    GenerationStream,
    TextStream,
)


def bnb_config(bits: int):
    import torch
    from transformers import BitsAndBytesConfig

    if bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    if bits == 4:
        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype,
                                  bnb_4bit_use_double_quant=True)
    raise ValueError(f"bitsandbytes supports 4 or 8 bits, got {bits} (16 loads the model unquantized)")


class TransformersGenerator:
    def __init__(self, model_dir: Path | str, bits: int = 4, n_ctx: int = 2048) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        cuda = torch.cuda.is_available()
        device_map = "auto" if cuda else {"": "cpu"}
        # 16: the unquantized model (bf16 on a GPU), the baseline bench/gpu.py measures 4/8-bit against
        quantized = {"quantization_config": bnb_config(bits)} if bits != 16 else {
            "dtype": torch.bfloat16 if cuda else torch.float32}
        self.model = AutoModelForCausalLM.from_pretrained(str(model_dir), device_map=device_map, **quantized).eval()
        self.n_ctx = n_ctx
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def render(self, messages: list[dict[str, str]]) -> str:
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))

    def _prepare(self, messages: list[dict[str, str]], params: GenerationParams) -> tuple[Any, int, int]:
        ids = self.tokenizer(self.render(messages), return_tensors="pt", add_special_tokens=False).to(self.model.device)
        n_prompt = int(ids["input_ids"].shape[1])
        budget = min(params.max_new_tokens, self.n_ctx - n_prompt - 1)
        if budget < 1:
            raise ValueError(f"prompt of {n_prompt} tokens leaves no room in the {self.n_ctx}-token context")
        return ids, n_prompt, budget

    def generate(self, messages: list[dict[str, str]], params: GenerationParams) -> Generation:
        return self._generate(*self._prepare(messages, params), params)

    def stream(self, messages: list[dict[str, str]], params: GenerationParams) -> GenerationStream:
        prepared = self._prepare(messages, params)

        def run(emit, cancel) -> Generation:
            gen = self._generate(*prepared, params)
            if gen.text:
                emit(gen.text)
            return gen

        return GenerationStream(run)

    def _generate(self, ids, n_prompt: int, budget: int, params: GenerationParams) -> Generation:
        import torch
        from transformers import MaxTimeCriteria, StoppingCriteriaList

        sample = params.temperature > 0
        with self._lock, torch.inference_mode():
            t0 = time.perf_counter()
            out = self.model.generate(
                **ids, max_new_tokens=budget, do_sample=sample, temperature=params.temperature if sample else None,
                top_p=params.top_p if sample else None, repetition_penalty=params.repeat_penalty,
                stopping_criteria=StoppingCriteriaList([MaxTimeCriteria(params.time_limit_s)]),
                pad_token_id=self.tokenizer.eos_token_id)
            elapsed = time.perf_counter() - t0
        new = out[0, n_prompt:].tolist()
        eos = self.tokenizer.eos_token_id
        finish = "stop" if eos in new else ("length" if len(new) >= budget else "time_limit")
        if eos in new:
            new = new[: new.index(eos)]
        text = TextStream((*TEMPLATE_STOPS, *params.stop))
        text.feed(str(self.tokenizer.decode(new, skip_special_tokens=True)).encode())
        text.finish()
        if text.stopped:
            finish = "stop"
        return Generation(text=text.text, prompt_tokens=n_prompt,
                          completion_tokens=len(new), finish_reason=finish, seconds=round(elapsed, 4),
                          tokens_per_s=round(len(new) / elapsed, 2) if elapsed > 0 else 0.0)

    def close(self) -> None:
        del self.model
