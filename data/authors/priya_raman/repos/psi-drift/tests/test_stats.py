import random

from psi_drift import ReferenceBins, ks_statistic, persistent_alert, psi


def test_identical_samples_have_no_drift():
    rng = random.Random(7)
    sample = [rng.gauss(0, 1) for _ in range(5000)]
    bins = ReferenceBins.fit(sample, 10)
    assert psi(bins, sample) < 1e-9
    assert ks_statistic(sample, sample) == 0.0


def test_shifted_sample_is_detected():
    rng = random.Random(11)
    reference = [rng.gauss(0, 1) for _ in range(5000)]
    shifted = [rng.gauss(0.5, 1) for _ in range(5000)]
    bins = ReferenceBins.fit(reference, 10)
    assert psi(bins, shifted) > 0.1
    assert ks_statistic(reference, shifted) > 0.1


def test_empty_bins_stay_finite():
    bins = ReferenceBins.fit(list(range(100)), 4)
    assert psi(bins, [1000.0] * 50) < float("inf")


def test_persistence_rule():
    assert not persistent_alert([0.3, 0.05, 0.3], threshold=0.1)
    assert persistent_alert([0.01, 0.2, 0.3, 0.25], threshold=0.1)
    assert not persistent_alert([0.3, 0.3], threshold=0.1)
