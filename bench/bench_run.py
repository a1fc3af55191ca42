"""A full policy run (quality, KPI, fairness, explainability, drift) on a 1M-row window.

    .venv/bin/python bench/bench_run.py [--rows N] [--columns C]

A logistic-regression credit model saved with skops, registered with a 100k-row reference
set; the current window has N rows and C numeric features plus two sensitive features, with
labels but no predictions, so the run also scores the window with the artifact. The run goes
through the same code path as `modelgate check` (policy → run → checks → stored results →
HTML report) on a throwaway SQLite home. There is no single reference library for a whole
run, so the table reports our time against the target and the per-check times; the
per-check ratios against fairlearn/Evidently/shap are in the other benchmarks.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

POLICY = """\
name: bench
applies_to: {models: ["*"]}
checks:
  - type: quality
    params: {max_missing_share: 0.05}
  - type: kpi
    params:
      metrics: {roc_auc: {min: 0.6}, accuracy: {min: 0.6}}
  - type: fairness
    params:
      intersections: true
      thresholds: {demographic_parity_ratio: {min: 0.8}, equalized_odds_difference: {max: 0.1}}
  - type: explainability
    params:
      forbidden_features: {"@sensitive_features": 0.0}
      top_k: 10
  - type: drift
    severity: warn
    params: {drift_share: {max: 0.3}}
"""


def _data(rows: int, columns: int, seed: int, shift: float):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, columns)).astype("float64")
    x[:, : columns // 4] += shift  # a quarter of the columns drift in the current window
    frame = pd.DataFrame(x, columns=[f"f{i:02d}" for i in range(columns)])
    weights = np.linspace(1.0, 0.05, columns)
    logits = x @ weights / np.sqrt(columns) + rng.normal(scale=0.5, size=rows)
    frame["label"] = (logits > 0).astype("int64")
    frame["sex"] = rng.choice(["female", "male"], size=rows, p=[0.35, 0.65])
    frame["age_band"] = rng.choice(["<25", "25-60", ">60"], size=rows, p=[0.2, 0.65, 0.15])
    return frame


def register_bench(settings: Any, home: Path, rows: int, columns: int) -> str:
    """Model `bench` v1 (logistic regression, 100k-row reference) and a `rows`-row window
    under `home`, registered in the migrated database of `settings`; returns the window's URI."""
    import skops.io
    from sklearn.linear_model import LogisticRegression

    from modelgate.db import make_engine, session_scope
    from modelgate.files import sha256_file
    from modelgate.registry import service
    from modelgate.registry.schemas import DataSchema, ModelCreate, VersionCreate

    features = [f"f{i:02d}" for i in range(columns)]
    print(f"writing a 100k-row reference and a {rows:,}-row window ...", flush=True)
    reference = _data(100_000, columns, seed=1, shift=0.0)
    ref_path, cur_path = home / "reference.parquet", home / "current.parquet"
    reference.to_parquet(ref_path)
    _data(rows, columns, seed=2, shift=0.3).to_parquet(cur_path)
    artifact = home / "model.skops"
    skops.io.dump(
        LogisticRegression(max_iter=500).fit(reference[features], reference.label), artifact
    )
    engine = make_engine(settings)
    with session_scope(engine) as s:
        model = ModelCreate(name="bench", owner="bench", risk_tier="high", flavor="sklearn")
        service.create_model(s, actor="bench", spec=model)
        schema = DataSchema(
            features=features, target="label", sensitive_features=["sex", "age_band"]
        )
        version = VersionCreate(
            version="v1",
            artifact_uri=artifact.as_uri(),
            artifact_sha256=sha256_file(artifact),
            data_schema=schema,
            reference_data_uri=ref_path.as_uri(),
            reference_data_sha256=sha256_file(ref_path),
        )
        service.register_version(s, model_name="bench", actor="bench", spec=version)
    engine.dispose()
    return cur_path.as_uri()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--columns", type=int, default=20)
    args = ap.parse_args(argv)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from common import Row, peak_rss_mb, print_table, timed

    from modelgate.config import Settings
    from modelgate.db import make_engine, upgrade
    from modelgate.runs.flows import run_now

    with tempfile.TemporaryDirectory(prefix="mg-bench-") as tmp:
        home = Path(tmp)
        (home / "policies").mkdir()
        (home / "policies" / "bench.yaml").write_text(POLICY)
        settings = Settings(home=home, policy_paths=[home / "policies"])
        upgrade(make_engine(settings))
        current_uri = register_bench(settings, home, args.rows, args.columns)

        def run():  # type: ignore[no-untyped-def]
            return run_now(
                settings,
                model_name="bench",
                version="v1",
                requested_by="bench",
                trigger="bench",
                current_uri=current_uri,
            )

        print("full policy run (cold: nothing cached) ...", flush=True)
        cold_s, out = timed(run)
        print("again (warm: the reference profile is cached) ...", flush=True)
        warm_s, out = timed(run)
        checks = ", ".join(f"{r.check} {r.status.value} {r.duration_s:.2f}s" for r in out.results)
        rows = [
            Row(f"full run, {args.rows:,} rows x {args.columns} cols, cold", None, cold_s, "-", 10),
            Row(f"full run, {args.rows:,} rows x {args.columns} cols, warm", None, warm_s, "-", 10),
        ]
        print_table("A full policy run (5 checks)", rows)
        print(f"\nrun {out.status}: {checks}")
        print(f"peak RSS {peak_rss_mb():.0f} MiB (this process; the run executes in it)")
        return 0 if out.status in ("passed", "warned", "failed") else 1


if __name__ == "__main__":
    raise SystemExit(main())
