"""A GPU stack that serves with `transformers_bnb` has no llama-cpp-python: converting a GGUF base there
skips the llama.cpp tokenizer comparison with a warning instead of failing (found on the H200 run). Where
llama.cpp is installed the comparison runs: tests/models/test_local_models.py checks its count in the marker."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest

from llm_twin.models import gguf_import


def test_without_llama_cpp_the_tokenizer_check_is_skipped_with_a_warning(monkeypatch: pytest.MonkeyPatch,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "llama_cpp" else real(name, *args))
    with caplog.at_level(logging.WARNING, logger=gguf_import.__name__):
        assert gguf_import.tokenization_mismatches(Path("base.gguf"), tokenizer=None) is None
    assert "llama-cpp-python is not installed" in caplog.text and "base.gguf" in caplog.text

