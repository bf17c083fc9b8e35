"""Drift statistics with explicit conventions (frozen bins, floored proportions, persistence)."""

from psi_drift.stats import ReferenceBins, ks_statistic, persistent_alert, psi

__all__ = ["ReferenceBins", "ks_statistic", "persistent_alert", "psi"]
