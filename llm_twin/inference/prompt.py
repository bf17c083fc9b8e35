"""The prompt the served twin sees: the same chat messages it was trained on (llm_twin.training.prompts:
instruction, then retrieved context under a fixed header), rendered with the model's own chat template
(stored in the GGUF's `tokenizer.chat_template`)."""

from __future__ import annotations

DEFAULT_SYSTEM = "You are {author}'s writing twin: write in their voice, style and opinions."
CONTEXT_HEADER = "Use this context from my own writing where relevant:"


def build_messages(instruction: str, context: str | None, author: str | None, system_template: str = DEFAULT_SYSTEM) -> list[dict[str, str]]:
    try:  # one definition shared with training, so train and serve prompts never drift apart
        from llm_twin.training.prompts import build_messages as train_messages
        from llm_twin.training.prompts import system_prompt
    except ImportError:  # training package absent in a slim bento: same format, local copy
        system = system_template.replace("{author}", author or "the author")
        user = instruction.strip() if not context else f"{instruction.strip()}\n\n{CONTEXT_HEADER}\n{context.strip()}"
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return train_messages(instruction, context or None, system_prompt(system_template, author or ""))


def render_chat(template: str, messages: list[dict[str, str]], bos: str = "", eos: str = "") -> str:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)(messages=messages).prompt
