"""Cleaning, token-aware chunking and embedding of warehouse documents, per data type.

One implementation serves the streaming app (`llm_twin.streaming`) and the batch backfill
(`llm_twin.features.backfill`), which is what makes their point ids and payloads identical.
Import the sub-modules directly; this package import stays light (no torch) because the Quix Source
subprocess imports its siblings.
"""
