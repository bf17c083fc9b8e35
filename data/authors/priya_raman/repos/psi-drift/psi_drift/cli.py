"""`python -m psi_drift.cli reference.csv current.csv --column delivery_minutes --bins 10`

Prints PSI (over bins frozen on the reference file) and the KS statistic for one numeric column,
together with the two binned distributions, since a number without its histogram invites
over-interpretation.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from psi_drift.stats import ReferenceBins, ks_statistic, psi


def column(path: Path, name: str) -> list[float]:
    with path.open(newline="") as handle:
        return [float(row[name]) for row in csv.DictReader(handle) if row.get(name) not in (None, "")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("reference", type=Path)
    parser.add_argument("current", type=Path)
    parser.add_argument("--column", required=True)
    parser.add_argument("--bins", type=int, default=10)
    args = parser.parse_args()
    ref, cur = column(args.reference, args.column), column(args.current, args.column)
    bins = ReferenceBins.fit(ref, args.bins)
    print(f"psi {psi(bins, cur):.4f}   ks {ks_statistic(ref, cur):.4f}   (n_ref={len(ref)}, n_cur={len(cur)})")
    for i, (p, q) in enumerate(zip(bins.proportions, bins.proportions_of(cur))):
        print(f"bin {i:>2}  reference {p:6.3f}  current {q:6.3f}")


if __name__ == "__main__":
    main()
