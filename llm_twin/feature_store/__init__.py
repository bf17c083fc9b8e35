"""Qdrant access for the feature store (`cleaned_<type>` and `embedded_<type>` collections)."""

from llm_twin.feature_store.qdrant import FeatureStore

__all__ = ["FeatureStore"]
