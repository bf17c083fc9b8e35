"""The answer hygiene guard: invented links and copied context markers are removed, whole and streamed;
the sources' own links are kept; the prompt's context carries no scaffolding to copy."""

from __future__ import annotations

import random

from llm_twin.domain.hygiene import HygieneFilter, clean_answer, invented_urls, marker_leaks
from llm_twin.domain.prompts import CONTEXT_HEADER, build_messages, render_context

ALLOWED = ["https://medium.com/@maya/real-post", "https://www.linkedin.com/posts/maya-1"]
ANSWER = (
    "Great question [6] (linkedin; https://www.linkedin.com/feed/update/urn:li:activity:7012345)\n"
    "I wrote about it at https://medium.com/@maya/real-post, and more at https://maya.dev/invented/link.\n"
    "Use this context from my own writing where relevant:\n"
    "Also linkedin.com/posts/maya-1 stays [2]."
)


def test_clean_answer_removes_invented_links_and_markers_only() -> None:
    cleaned = clean_answer(ANSWER, ALLOWED, CONTEXT_HEADER)
    assert "https://medium.com/@maya/real-post" in cleaned.text
    assert "maya.dev" not in cleaned.text and "feed/update" not in cleaned.text
    assert not invented_urls(cleaned.text, ALLOWED) and not marker_leaks(cleaned.text, CONTEXT_HEADER)
    assert cleaned.removed_links == ["https://maya.dev/invented/link"]
    assert "[6]" in cleaned.removed_markers and "[2]" in cleaned.removed_markers
    plain = "A clean answer, no links at all.\n\n→ one\n→ two"
    assert clean_answer(plain, ALLOWED, CONTEXT_HEADER).text == plain
    code = "def first(rows):\n    return rows[0] + data[1] + f()[2]"
    assert clean_answer(code, ALLOWED, CONTEXT_HEADER).text == code and not marker_leaks(code)


def test_invented_urls_compare_like_a_reader() -> None:
    assert invented_urls("see www.medium.com/@maya/real-post/.", ALLOWED) == []
    assert invented_urls("see HTTPS://Medium.com/@maya/real-post", ALLOWED) == []
    assert invented_urls("see https://medium.com/@maya/other", ALLOWED) == ["https://medium.com/@maya/other"]


def test_streamed_guard_gives_the_same_clean_text_for_any_token_split() -> None:
    for seed in range(60):
        rng = random.Random(seed)
        guard = HygieneFilter(ALLOWED, CONTEXT_HEADER)
        out, i = "", 0
        while i < len(ANSWER):
            k = rng.randint(1, 9)
            out += guard.feed(ANSWER[i : i + k])
            i += k
        out += guard.finish()
        assert out == guard.text
        assert not invented_urls(out, ALLOWED) and not marker_leaks(out, CONTEXT_HEADER), out
        assert "https://medium.com/@maya/real-post" in out


def test_streamed_guard_passes_plain_text_through_as_it_comes() -> None:
    guard = HygieneFilter(ALLOWED, CONTEXT_HEADER)
    assert guard.feed("Hello there ") == "Hello there "
    assert guard.feed("wor") == ""  # the word being written may still become a URL
    assert guard.feed("ld. ") == "world. "


def test_context_is_rendered_as_plain_passages() -> None:
    context = render_context([
        "[1] (linkedin; https://www.linkedin.com/posts/x)\nFirst passage with https://example.com inside.",
        "Second passage.",
    ])
    assert context == "First passage with inside.\n\nSecond passage."
    (user,) = build_messages("Write a post.", context)
    assert user["content"].startswith("Write a post.\n\n" + CONTEXT_HEADER)
    assert "[1]" not in user["content"] and "http" not in user["content"]
