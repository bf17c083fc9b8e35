"""Point-in-time correct feature history and as-of joins."""

from tiny_feature_store.history import FeatureHistory, FeatureValue
from tiny_feature_store.join import LabelRow, as_of_join

__all__ = ["FeatureHistory", "FeatureValue", "LabelRow", "as_of_join"]
