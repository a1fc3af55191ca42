"""Global SHAP ranking: full shap.TreeExplainer vs our budgeted ExplainabilityCheck.

    .venv/bin/python bench/bench_shap.py [--rows N] [--trees T] [--depth D] [--budget S]

A RandomForestClassifier (T trees, depth D; default 100 and 10) on N synthetic rows (default
10,000; 20 features, 10 informative). The reference side explains every row with
shap.TreeExplainer (positive class) and ranks features by mean |SHAP|; ours runs the whole
ExplainabilityCheck with a time budget of S seconds (default 4.5) on the same frame. Agreement
is the overlap of the two top-10 sets and the Spearman correlation of the full rankings.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--budget", type=float, default=4.5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    import numpy as np
    import pandas as pd
    import shap
    from common import Row, peak_rss_mb, print_table, timed
    from scipy.stats import spearmanr
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    from checks.base import CheckContext, ColumnRoles, Dataset, Severity, execute
    from checks.explainability import ExplainabilityCheck, ExplainabilityParams

    x, y = make_classification(
        n_samples=args.rows,
        n_features=20,
        n_informative=10,
        n_redundant=4,
        random_state=args.seed,
    )
    frame = pd.DataFrame(x, columns=[f"f{i:02d}" for i in range(20)])
    model = RandomForestClassifier(
        n_estimators=args.trees, max_depth=args.depth, random_state=args.seed, n_jobs=-1
    ).fit(frame, y)
    print(f"full TreeExplainer on {args.rows:,} rows ...", flush=True)

    def full() -> np.ndarray:
        values = shap.TreeExplainer(model).shap_values(frame, check_additivity=False)
        return np.abs(np.asarray(values)[:, :, 1]).mean(axis=0)

    full_s, full_mean = timed(full)
    ctx = CheckContext(
        roles=ColumnRoles(features=tuple(frame.columns)),
        reference=Dataset(frame, "synthetic", "sha"),
        model=model,
        time_budget_s=args.budget,
    )
    ours_s, res = timed(
        lambda: execute(
            ExplainabilityCheck(),
            ctx,
            ExplainabilityParams(),
            name="explainability",
            severity=Severity.BLOCK,
        )
    )
    v = res.values
    ours_mean = np.array([v["mean_abs_shap"][c] for c in frame.columns])
    top_full = set(np.argsort(-full_mean)[:10])
    top_ours = set(np.argsort(-ours_mean)[:10])
    overlap = len(top_full & top_ours)
    rho = spearmanr(full_mean, ours_mean).statistic
    rows = [
        Row(
            f"RF {args.trees}x{args.depth}, {args.rows:,} rows: mean |SHAP| ranking",
            full_s,
            ours_s,
            f"top-10 overlap {overlap}/10; Spearman {rho:.3f}; {v['n_samples']} rows",
            target_s=5.0,
        )
    ]
    print_table("Global SHAP attribution (positive class)", rows)
    print(f"\nours: {v['n_samples']} rows in {v['seconds']:.2f}s, stopped: {v['stop_reason']}")
    print(f"top-10 full: {[frame.columns[i] for i in np.argsort(-full_mean)[:10]]}")
    print(f"top-10 ours: {v['top_k']}")
    print(f"peak RSS {peak_rss_mb():.0f} MiB")
    return 0 if overlap >= 9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
