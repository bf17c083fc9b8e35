"""Prompt monitoring: every served request becomes a `Trace` (prompt, retrieved chunk ids, answer,
latency, token counts, model version) written to the warehouse (`traces` collection) by default and
to Comet when configured; `python -m llm_twin.monitoring recent` lists the latest ones."""

from llm_twin.monitoring.traces import Trace, Tracer, build_tracer

__all__ = ["Trace", "Tracer", "build_tracer"]
