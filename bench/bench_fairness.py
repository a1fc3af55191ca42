"""Per-group fairness figures: fairlearn's MetricFrame vs our one-pass bincount.

    .venv/bin/python bench/bench_fairness.py [--rows N] [--groups G] [--repeat R]

Random labels and predictions, G groups of unequal size. Both sides compute selection rate,
TPR, FPR and accuracy per group from the same DataFrame in the same run; the agreement column
is the largest absolute difference between the two per-group tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3, help="best of R runs for ours")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    import numpy as np
    import pandas as pd
    from common import Row, peak_rss_mb, print_table, timed
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    from checks.base import CheckContext, ColumnRoles, Dataset
    from checks.fairness import FairnessCheck, FairnessParams
    from checks.fairness_metrics import group_tables

    rng = np.random.default_rng(args.seed)
    n, k = args.rows, args.groups
    names = [f"group_{i}" for i in range(k)]
    weights = np.arange(1, k + 1, dtype=float)
    frame = pd.DataFrame(
        {
            "group": rng.choice(names, size=n, p=weights / weights.sum()),
            "y_true": rng.integers(0, 2, n),
            "y_pred": rng.integers(0, 2, n),
        }
    )
    metrics = {
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "accuracy": accuracy_score,
    }

    def fairlearn_table() -> pd.DataFrame:
        mf = MetricFrame(
            metrics=metrics,
            y_true=frame["y_true"],
            y_pred=frame["y_pred"],
            sensitive_features=frame["group"],
        )
        return mf.by_group

    def ours_table() -> pd.DataFrame:
        (t,) = group_tables(frame, ["group"], frame["y_pred"], frame["y_true"])
        r = t.rates()
        return pd.DataFrame({m: r[m] for m in metrics}, index=[k["group"] for k in t.keys])

    ctx = CheckContext(
        roles=ColumnRoles(target="y_true", prediction="y_pred", sensitive_features=("group",)),
        current=Dataset(frame=frame, uri="mem://bench", sha256="-"),
    )
    params = FairnessParams(thresholds={"equalized_odds_difference": {"max": 0.1}})

    print(f"{n:,} rows, {k} groups; fairlearn MetricFrame runs once (it is slow) ...", flush=True)
    ref_s, ref = timed(fairlearn_table)
    ours_s, ours = timed(ours_table, repeat=args.repeat)
    check_s, _ = timed(lambda: FairnessCheck().measure(ctx, params), repeat=args.repeat)
    diff = float((ours.loc[ref.index, list(metrics)] - ref[list(metrics)]).abs().to_numpy().max())
    rows = [
        Row(
            f"{n:,} rows/{k} groups: SR, TPR, FPR, accuracy",
            ref_s,
            ours_s,
            f"max |diff| {diff:.1e}",
            target_s=0.3,
        ),
        Row(f"{n:,} rows/{k} groups: whole FairnessCheck", None, check_s, "-", target_s=0.3),
    ]
    print_table("Per-group fairness figures", rows)
    print(f"\npeak RSS {peak_rss_mb():.0f} MiB")
    return 0 if diff < 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
