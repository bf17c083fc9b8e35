"""The chat prompt format the twin is trained on and served with: one definition, so the prompts never drift.

Plain prompt: the instruction alone. Augmented prompt: the instruction followed by retrieved context,
the way the RAG service will present it at inference time. The base model's own chat template turns
these messages into text (trl applies it during training, `apply_chat_template` at inference).
"""

from __future__ import annotations

CONTEXT_HEADER = "Use this context from my own writing where relevant:"


def format_user_message(instruction: str, context: str | None = None) -> str:
    if not context:
        return instruction.strip()
    return f"{instruction.strip()}\n\n{CONTEXT_HEADER}\n{context.strip()}"


def build_messages(instruction: str, context: str | None = None, system: str | None = None) -> list[dict[str, str]]:
    """Chat messages for one request (system prompt optional, then the user turn)."""
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": format_user_message(instruction, context)})
    return messages


def system_prompt(template: str, author: str) -> str:
    return template.replace("{author}", author or "the author")
