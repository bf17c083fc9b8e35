from eval_intervals import bootstrap_interval, cohen_kappa, paired_difference


def test_interval_for_seventy_percent_of_one_hundred():
    scores = [1.0] * 70 + [0.0] * 30
    low, high = bootstrap_interval(scores)
    assert 0.58 < low < 0.64
    assert 0.76 < high < 0.82


def test_paired_difference_resolves_what_unpaired_cannot():
    a = [1.0] * 70 + [0.0] * 30
    b = [1.0] * 70 + [1.0] * 4 + [0.0] * 26  # b fixes four questions and breaks none
    diff, (low, _high) = paired_difference(a, b)
    assert abs(diff - 0.04) < 1e-9
    assert low > 0.0


def test_kappa_perfect_and_chance():
    labels = ["supported", "partial", "unsupported", "supported"]
    assert cohen_kappa(labels, labels) == 1.0
    assert abs(cohen_kappa(["a", "b", "a", "b"], ["a", "a", "b", "b"])) < 1e-9
