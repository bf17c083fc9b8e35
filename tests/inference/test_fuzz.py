"""Schemathesis fuzzing of the served OpenAPI schema: whatever the input, no 5xx (bad input is a 4xx).

Cases come from schemathesis' hypothesis strategies per operation (positive and negative data); the
pytest plugin decorators are not used because they do not support this pytest version.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

pytestmark = pytest.mark.slow


def test_no_server_errors(served_bento):
    schema = schemathesis.openapi.from_url(f"{served_bento['url']}/docs.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    fuzzed = ("/generate", "/retrieve", "/traces", "/info", "/v1/chat/completions", "/v1/models", "/admin/reload")
    assert set(fuzzed) <= paths
    calls: dict[str, int] = {}

    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz_operation(op, mode, calls)
            except Unsatisfiable:  # e.g. no invalid input exists for an operation without parameters
                assert mode is GenerationMode.NEGATIVE
    assert all(calls.get(p, 0) > 0 for p in fuzzed), calls


def fuzz_operation(op, mode, calls: dict[str, int]) -> None:
    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case):
        response = case.call(timeout=120)
        calls[op.path] = calls.get(op.path, 0) + 1
        case.validate_response(response, checks=[not_a_server_error])

    fuzz()
