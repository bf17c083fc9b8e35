"""Optional LLM judge: an OpenAI-compatible model scores each generation 1-5 for how much it reads like
the author (given one reference text), through the same client as the `llm` instruction generator."""

from __future__ import annotations

import re
import statistics

from llm_twin.llm_client import ChatClient

SYSTEM = (
    "You grade how well a candidate text matches the writing style, voice and topic of a reference text "
    "by the same author. Answer with a single integer from 1 (nothing alike) to 5 (indistinguishable)."
)


def judge_scores(client: ChatClient, instructions: list[str], generations: list[str], references: list[str]) -> float:
    scores = []
    for inst, gen, ref in zip(instructions, generations, references):
        answer = client.chat(
            [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Request: {inst}\n\nReference:\n{ref}\n\nCandidate:\n{gen}\n\nScore:"},
            ],
            max_tokens=4,
            temperature=0.0,
        )
        match = re.search(r"[1-5]", answer)
        if match:
            scores.append(int(match.group()))
    return float(statistics.fmean(scores)) if scores else float("nan")
