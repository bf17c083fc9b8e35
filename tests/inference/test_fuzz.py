"""Schemathesis fuzzing of the served OpenAPI schema: whatever the input, no 5xx (bad input is a 4xx), with and
without the API key; with it, every answer also has the content type and the body the schema declares
(`response_schema_conformance`: found that BentoML sent validation errors' `detail` as a list and 4xx errors
as an array, which llm_twin.inference.error_bodies now rewrites into the declared object).

Cases come from schemathesis' hypothesis strategies per operation (positive and negative data); the
pytest plugin decorators are not used because they do not support this pytest version.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.generation import GenerationMode

pytestmark = pytest.mark.slow


FUZZED = ("/generate", "/retrieve", "/traces", "/info", "/v1/chat/completions", "/v1/models", "/admin/reload")


def test_no_server_errors(served_bento):
    fuzz_service(served_bento["url"], headers={}, checks=[not_a_server_error])


def test_fuzzing_with_the_api_key_gets_no_server_error_and_responses_as_the_schema_declares(served_bento_public):
    """Behind the key (what a network deployment serves) the requests reach the handlers, not the auth check."""
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    fuzz_service(served_bento_public["url"], {"Authorization": f"Bearer {served_bento_public['key']}"}, checks)


def fuzz_service(url: str, headers: dict[str, str], checks: list) -> None:
    schema = schemathesis.openapi.from_url(f"{url}/docs.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert set(FUZZED) <= paths
    calls: dict[str, int] = {}

    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz_operation(op, mode, calls, headers, checks)
            except Unsatisfiable:  # e.g. no invalid input exists for an operation without parameters
                assert mode is GenerationMode.NEGATIVE
    assert all(calls.get(p, 0) > 0 for p in FUZZED), calls


def fuzz_operation(op, mode, calls: dict[str, int], headers: dict[str, str], checks: list) -> None:
    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case):
        response = case.call(headers=headers, timeout=120)
        calls[op.path] = calls.get(op.path, 0) + 1
        case.validate_response(response, checks=checks, headers=headers)

    fuzz()
