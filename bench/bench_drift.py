"""Per-column data drift: evidently's Report([DataDriftPreset()]) vs our DriftCheck.

    .venv/bin/python bench/bench_drift.py [--rows N] [--reference-rows M] [--columns C]

C numerical columns (default 20), reference and current of N rows each (default 1,000,000);
current column i is shifted by 0.01*i standard deviations, so about half of the columns drift.
Evidently on 1M rows takes minutes, so its side runs on the first M rows of both frames
(--reference-rows, default N) and ours runs on those same M rows for the agreement column (max
|score difference| over all columns, and whether every drift decision and the drifted share
are equal). Ours is then timed on all N rows: cold (reference profile built in the run) and
warm (cached ReferenceProfile, as a scheduled run would use).
"""

from __future__ import annotations

import argparse
import os


def make_frames(rows: int, columns: int, seed: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({f"f{i:02d}": rng.normal(size=rows) for i in range(columns)})
    cur = pd.DataFrame({f"f{i:02d}": rng.normal(0.01 * i, 1, rows) for i in range(columns)})
    return ref, cur


def evidently_scores(ref, cur):
    from evidently import Report
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests
    from evidently.presets import DataDriftPreset

    display = {next(iter(v.values())).display_name: k for k, v in _registered_stat_tests.items()}
    snap = Report([DataDriftPreset()], include_tests=True).run(cur, ref).dict()
    cols, share = {}, None
    for m in snap["metrics"]:
        cfg = m["config"]
        if cfg["type"].endswith(":ValueDrift"):
            cols[cfg["column"]] = {"stattest": display[cfg["method"]], "score": float(m["value"])}
        elif cfg["type"].endswith(":DriftedColumnsCount"):
            share = m["value"]["share"]
    for t in snap["tests"]:
        if t["id"] == "drift":
            cols[t["metric_config"]["params"]["column"]]["drifted"] = t["status"] == "FAIL"
    return cols, share


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reference-rows", type=int, default=None, help="rows for evidently's side")
    ap.add_argument("--columns", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3, help="best of R runs for ours")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from common import Row, peak_rss_mb, print_table, timed

    from checks.base import CheckContext, ColumnRoles, Dataset
    from checks.drift import DriftCheck, DriftParams
    from checks.drift_profile import ReferenceProfile, clear_cache

    n, c = args.rows, args.columns
    m = min(args.reference_rows or n, n)
    ref, cur = make_frames(n, c, args.seed)
    params = DriftParams()

    def ours(r, k, sha: str, cold: bool):
        if cold:
            clear_cache()
        ctx = CheckContext(
            roles=ColumnRoles(), reference=Dataset(r, "ref", sha), current=Dataset(k, "cur", "c")
        )
        return DriftCheck().measure(ctx, params)

    # agreement on the same M rows
    ref_m, cur_m = ref.iloc[:m], cur.iloc[:m]
    print(f"evidently Report([DataDriftPreset()]) on {m:,} rows x {c} columns ...", flush=True)
    ev_s, (theirs, ev_share) = timed(lambda: evidently_scores(ref_m, cur_m))
    ours_m_s, mine = timed(lambda: ours(ref_m, cur_m, "m", True), repeat=args.repeat)
    cols = mine.values["columns"]
    diff = max(abs(cols[k]["score"] - v["score"]) for k, v in theirs.items())
    same_tests = all(cols[k]["stattest"] == v["stattest"] for k, v in theirs.items())
    same_drift = sum(cols[k]["drifted"] == v["drifted"] for k, v in theirs.items())
    same_share = mine.values["share_drifted"] == ev_share
    agreement = (
        f"max |diff| {diff:.1e}; decisions {same_drift}/{len(theirs)}; share "
        f"{'equal' if same_share else 'DIFFERS'}; tests {'equal' if same_tests else 'DIFFER'}"
    )

    # ours on all N rows
    cold_s, res = timed(lambda: ours(ref, cur, "n", True), repeat=args.repeat)
    ours(ref, cur, "n", True)  # leave the profile cached
    warm_s, warm = timed(lambda: ours(ref, cur, "n", False), repeat=args.repeat)
    assert warm.details["reference_profile"]["reused"]
    build_s, _ = timed(
        lambda: ReferenceProfile.build(ref, dict.fromkeys(ref.columns, "num")), repeat=1
    )
    rows = [
        Row(f"{m:,} x {c} num: Report vs DriftCheck (cold)", ev_s, ours_m_s, agreement),
        Row(f"{n:,} x {c} num: DriftCheck cold", None, cold_s, "-", target_s=3.0),
        Row(f"{n:,} x {c} num: DriftCheck warm (cached profile)", None, warm_s, "-", 3.0),
        Row(f"{n:,} x {c} num: ReferenceProfile.build", None, build_s, "-"),
    ]
    print_table("Per-column drift (evidently 0.7.23 default tests)", rows)
    v = res.values
    print(
        f"\n{n:,} rows: {v['n_drifted']} of {v['n_columns']} columns drifted "
        f"(share {v['share_drifted']:.2f}); tests used: "
        f"{sorted({r['stattest'] for r in v['columns'].values()})}; {os.cpu_count()} CPUs"
    )
    print(f"peak RSS {peak_rss_mb():.0f} MiB")
    return 0 if diff < 1e-9 and same_drift == len(theirs) and same_share else 1


if __name__ == "__main__":
    raise SystemExit(main())
