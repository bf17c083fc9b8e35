from datetime import datetime, timedelta, timezone

from tiny_feature_store import FeatureHistory, LabelRow, as_of_join

T = datetime(2025, 3, 3, 12, 0, tzinfo=timezone.utc)


def test_the_nastiest_row():
    """A value that changes exactly at the label timestamp, plus one second either side."""
    history = FeatureHistory()
    history.append("days_since_login", "42", 1, T - timedelta(seconds=1))
    history.append("days_since_login", "42", 2, T)
    history.append("days_since_login", "42", 99, T + timedelta(seconds=1))  # the future: never visible
    [row] = as_of_join([LabelRow("42", T, True)], history, ["days_since_login"])
    assert row["days_since_login"] == 2


def test_unknown_before_first_value():
    history = FeatureHistory()
    history.append("plan", "7", "pro", T)
    [row] = as_of_join([LabelRow("7", T - timedelta(days=1), False)], history, ["plan"])
    assert row["plan"] is None
