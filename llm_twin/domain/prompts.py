"""The chat prompt format the twin is trained on and served with: one definition, so the prompts never drift.

Plain prompt: the instruction alone. Augmented prompt: the instruction followed by retrieved context,
the way the RAG service will present it at inference time. The base model's own chat template turns
these messages into text (trl applies it during training, `apply_chat_template` at inference).

Context is rendered as plain passages separated by blank lines: no numbering, no "(platform; link)"
source headers and no URLs. A small model copies whatever scaffolding its prompt shows ("[6] (linkedin;
https://...)") and invents links in the same shape; what it never sees it cannot copy. The sources of
an answer travel as data (`context[]` of the response), not as text in the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CONTEXT_HEADER = "Use this context from my own writing where relevant:"

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_NUMBERED_HEADER = re.compile(r"^\s*\[\d{1,3}\]\s*(?:\([^()\n]*\))?\s*$", re.MULTILINE)


def render_passage(text: str) -> str:
    """One retrieved passage as the model sees it: its text, without URLs or a numbered source line."""
    text = _NUMBERED_HEADER.sub("", text)
    text = _URL.sub("", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def render_context(passages: Iterable[str]) -> str:
    """Passages in rank order, separated by blank lines (the same text in training and serving)."""
    return "\n\n".join(p for p in (render_passage(t) for t in passages) if p)


def format_user_message(instruction: str, context: str | None = None) -> str:
    if not context or not context.strip():
        return instruction.strip()
    return f"{instruction.strip()}\n\n{CONTEXT_HEADER}\n{render_passage(context)}"


def build_messages(instruction: str, context: str | None = None, system: str | None = None) -> list[dict[str, str]]:
    """Chat messages for one request (system prompt optional, then the user turn)."""
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": format_user_message(instruction, context)})
    return messages


def system_prompt(template: str, author: str) -> str:
    return template.replace("{author}", author or "the author")
