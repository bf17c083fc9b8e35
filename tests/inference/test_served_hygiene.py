"""A real `bentoml serve` of the twin: over 20+ instructions (a third of them asking for links), no answer
carries a link that is in none of its sources, nor copied context markers; sources come back as data."""

from __future__ import annotations

import pytest

from llm_twin.domain.hygiene import find_urls, has_invented_link, has_marker_leak
from llm_twin.domain.prompts import CONTEXT_HEADER
from llm_twin.evaluation.served import INSTRUCTIONS, over_http, summarise

pytestmark = pytest.mark.slow


def test_served_twin_invents_no_links_and_copies_no_markers(served_bento):
    assert len(INSTRUCTIONS) >= 20
    results = over_http(served_bento["url"], INSTRUCTIONS, max_new_tokens=48)
    for r in results:
        sources = [c["link"] for c in r["context"]]
        assert sources, f"no sources returned as data for {r['instruction']!r}"
        assert not has_invented_link(r["answer"], sources), (r["answer"], sources)
        assert not has_marker_leak(r["answer"], CONTEXT_HEADER), r["answer"]
        assert set(find_urls(r["answer"])) <= {u for u in find_urls(r["answer"]) if not has_invented_link(u, sources)}
        assert {"guard_links_removed", "guard_markers_removed"} <= set(r["timings"])
    summary = summarise(results)
    assert summary["instructions"] == len(INSTRUCTIONS)
    assert summary["invented_link_rate"] == 0.0 and summary["marker_leak_rate"] == 0.0
    assert 0.0 < summary["distinct_2"] <= 1.0


def test_decoding_comparison_applies_each_stop_list(service_bundle, capsys):
    """`--stop` is measured, not only configured: with the same seed, a stop string cuts each answer at its
    first occurrence (finish_reason "stop"), the empty list leaves the answer whole."""
    import json

    from llm_twin.evaluation.served import main

    assert main(["--bundle", str(service_bundle), "-n", "3", "--max-new-tokens", "24", "--json", "--answers",
                 "--stop", "[]", '[" "]']) == 0
    unstopped, stopped = json.loads(capsys.readouterr().out)
    assert unstopped["decoding"]["stop"] == [] and stopped["decoding"]["stop"] == [" "]
    cut = 0
    for whole, short in zip(unstopped["answers"], stopped["answers"], strict=True):
        if " " in whole["answer"].strip():
            assert short["finish_reason"] == "stop", (whole["answer"], short)
            assert " " not in short["answer"].strip() and whole["answer"].startswith(short["answer"].strip())
            cut += 1
    assert cut >= 1, "no answer had a space to stop at"
    assert stopped["mean_completion_tokens"] < unstopped["mean_completion_tokens"]


def test_a_stop_list_that_is_not_json_is_refused_with_an_example():
    from llm_twin.evaluation.served import main

    with pytest.raises(SystemExit, match="not JSON"):
        main(["--bundle", "x", "--stop", "###"])
    with pytest.raises(SystemExit, match="array of non-empty strings"):
        main(["--bundle", "x", "--stop", '[""]'])
