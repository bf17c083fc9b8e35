"""Pluggable instruction generators: what a user would have asked for to get this window of text.

`template` (offline default) builds the request from the platform, title and a few keyphrases;
`llm` asks any OpenAI-compatible endpoint. Both give one instruction per window. A new generator is a
new class registered in GENERATORS plus a `generator.kind` value in the YAML.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from typing import Protocol

from llm_twin.config.dataset import GeneratorConfig
from llm_twin.connections import llm_client
from llm_twin.llm_client import ChatClient

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just let me more most my no nor
    not now of off on once only or other our ours out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours one get got like really much many make
    made way thing things lot even still well back use used using new every first last also via per
    self def return import from none true false class print talk time let let's here thing""".split()
)

PLATFORM_LABELS = {
    "linkedin": "LinkedIn post",
    "medium": "Medium article section",
    "substack": "Substack article section",
    "github": "code snippet",
    "x": "post on X",
    "twitter": "tweet",
}
TYPE_LABELS = {"posts": "post", "articles": "article section", "code": "code snippet"}


def keyphrases(text: str, k: int = 3) -> list[str]:
    """The k most frequent content words/bigrams (bigrams preferred when they repeat)."""
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9+#_-]{2,}", text.lower())]
    content = [w for w in words if w not in STOPWORDS]
    bigrams = Counter(
        f"{a} {b}" for a, b in itertools.pairwise(words) if a not in STOPWORDS and b not in STOPWORDS
    )
    unigrams = Counter(content)
    phrases: list[str] = [bg for bg, n in bigrams.most_common(k) if n >= 2]
    for word, _ in unigrams.most_common(k * 3):
        if len(phrases) >= k:
            break
        if not any(word in p for p in phrases):
            phrases.append(word)
    return phrases[:k]


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class InstructionGenerator(Protocol):
    name: str

    def instruction(self, text: str, *, data_type: str, platform: str, title: str) -> str: ...


class TemplateGenerator:
    """Offline: 'Write a LinkedIn post about <keyphrases>' / '... of the article "<title>" covering ...'."""

    name = "template"

    def __init__(self, n_keyphrases: int = 3) -> None:
        self.n_keyphrases = n_keyphrases

    def instruction(self, text: str, *, data_type: str, platform: str, title: str) -> str:
        label = PLATFORM_LABELS.get(platform.lower(), f"{platform} {TYPE_LABELS.get(data_type, 'text')}".strip())
        topics = _join(keyphrases(text, self.n_keyphrases)) or "this topic"
        article = "an" if label[:1].lower() in "aeiou" else "a"
        if data_type == "articles" and title:
            return f'Write {article} {label} for the article "{title}" about {topics}.'
        if data_type == "code":
            where = f" from the repository {title}" if title else ""
            return f"Write a code snippet{where} that deals with {topics}."
        return f"Write {article} {label} about {topics}."


class LLMGenerator:
    """Asks an OpenAI-compatible model for the request that would produce the text."""

    name = "llm"
    SYSTEM = (
        "You write the single instruction a user would give an assistant to obtain the given text. "
        "Answer with the instruction only, one or two sentences, no quotes."
    )

    def __init__(self, client: ChatClient) -> None:
        self.client = client

    def instruction(self, text: str, *, data_type: str, platform: str, title: str) -> str:
        user = f"Platform: {platform}\nType: {TYPE_LABELS.get(data_type, data_type)}\nTitle: {title}\n\nText:\n{text}"
        answer = self.client.chat([{"role": "system", "content": self.SYSTEM}, {"role": "user", "content": user}]).strip()
        first = (answer.strip().splitlines() or [""])[0]  # the first line, then its quotes
        return first.strip().strip('"').strip() or TemplateGenerator().instruction(
            text, data_type=data_type, platform=platform, title=title
        )


def make_generator(cfg: GeneratorConfig) -> InstructionGenerator:
    if cfg.kind == "template":
        return TemplateGenerator(cfg.keyphrases)
    if cfg.kind == "llm":
        return LLMGenerator(llm_client(cfg.llm))
    raise ValueError(f"unknown instruction generator {cfg.kind!r}; valid: template, llm")
