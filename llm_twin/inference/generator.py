"""Generation with llama.cpp (llama-cpp-python) from the served GGUF, under a time limit.

Low-level token loop instead of `create_chat_completion`: it gives exact prompt/completion token counts
for monitoring and lets the loop stop at a wall-clock deadline (the answer so far is returned with
`finish_reason="time_limit"`) so one long request cannot hold the worker indefinitely.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from pydantic import BaseModel, Field

_FALLBACK_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def render_chat(template: str, messages: list[dict[str, str]], bos: str = "", eos: str = "") -> str:
    """Chat messages → prompt text with the model's own Jinja chat template (as llama.cpp servers do)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)(messages=messages).prompt


class GenerationParams(BaseModel):
    max_new_tokens: int = Field(default=256, ge=1, le=2048)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=0.9, gt=0.0, le=1.0)
    repeat_penalty: float = Field(default=1.1, ge=1.0, le=2.0)
    time_limit_s: float = Field(default=60.0, gt=0)
    seed: int | None = None


class Generation(BaseModel):
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # stop | length | time_limit
    seconds: float
    tokens_per_s: float


class LlamaGenerator:
    def __init__(self, gguf_path: Path | str, n_ctx: int = 2048, threads: int | None = None) -> None:
        from llama_cpp import Llama

        self.path = Path(gguf_path)
        self.llm = Llama(model_path=str(self.path), n_ctx=n_ctx, n_threads=threads or os.cpu_count(), verbose=False)
        self.n_ctx = n_ctx
        self.template = self.llm.metadata.get("tokenizer.chat_template") or _FALLBACK_TEMPLATE
        self._lock = threading.Lock()  # a llama.cpp context serves one sequence at a time

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=False))

    def render(self, messages: list[dict[str, str]]) -> str:
        return render_chat(self.template, messages)

    def generate(self, messages: list[dict[str, str]], params: GenerationParams | None = None) -> Generation:
        params = params or GenerationParams()
        prompt = self.render(messages)
        with self._lock:
            t0 = time.perf_counter()
            deadline = t0 + params.time_limit_s
            tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
            budget = min(params.max_new_tokens, self.n_ctx - len(tokens) - 1)
            if budget < 1:
                raise ValueError(f"prompt of {len(tokens)} tokens leaves no room in the {self.n_ctx}-token context")
            if params.seed is not None:
                self.llm.set_seed(params.seed)
            eos = {self.llm.token_eos()}
            out: list[int] = []
            finish = "length"
            t_first = None
            for tok in self.llm.generate(
                tokens, temp=params.temperature, top_p=params.top_p, repeat_penalty=params.repeat_penalty, reset=True
            ):
                if t_first is None:
                    t_first = time.perf_counter()
                if tok in eos:
                    finish = "stop"
                    break
                out.append(tok)
                if len(out) >= budget:
                    break
                if time.perf_counter() > deadline:
                    finish = "time_limit"
                    break
            text = self.llm.detokenize(out).decode("utf-8", errors="ignore")
            elapsed = time.perf_counter() - t0
        gen_time = time.perf_counter() - (t_first or t0)
        for stop in ("<|im_end|>", "<|im_start|>"):
            text = text.split(stop)[0]
        return Generation(
            text=text.strip(), prompt_tokens=len(tokens), completion_tokens=len(out), finish_reason=finish,
            seconds=round(elapsed, 4), tokens_per_s=round(len(out) / gen_time, 2) if gen_time > 0 else 0.0,
        )

    def close(self) -> None:
        self.llm.close()
