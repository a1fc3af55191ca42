"""The drift check end to end, against evidently's own Report([DataDriftPreset()])."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from checks import drift as drift_module
from checks.base import (
    CheckContext,
    CheckResult,
    ColumnRoles,
    Dataset,
    Severity,
    Status,
    execute,
)
from checks.drift import DriftCheck, DriftParams
from checks.drift_profile import clear_cache

ROOT = Path(__file__).resolve().parents[2]
GERMAN_CSV = ROOT / "modelgate" / "demo_data" / "german_credit.csv"
SOURCE = "policies/high-risk.yaml:12"


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    return pd.read_csv(GERMAN_CSV)


@pytest.fixture(scope="module")
def german_split(german) -> tuple[pd.DataFrame, pd.DataFrame]:
    ref, cur = german.iloc[:500].reset_index(drop=True), german.iloc[500:].reset_index(drop=True)
    cur = cur.assign(age=cur["age"] + 6, duration_months=cur["duration_months"] * 1.0)
    return ref, cur


def synthetic(n: int, seed: int, shifted: bool) -> pd.DataFrame:
    """Mixed columns with > 1000 rows, so evidently picks Wasserstein / Jensen-Shannon."""
    rng = np.random.default_rng(seed)
    s = 1.0 if shifted else 0.0
    with_nans = rng.normal(0.4 * s, 1, n)
    with_nans[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "income": rng.lognormal(10 + 0.2 * s, 0.5, n),
            "score_a": rng.normal(0, 1, n),
            "tenure": rng.integers(0, 120 + int(40 * s), n),
            "rating": rng.choice([1.0, 2.0, 3.0, 4.0], n, p=[0.1, 0.2, 0.3, 0.4]),
            "has_card": rng.integers(0, 2, n).astype(float),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "channel": rng.choice(
                ["web", "app", "branch"], n, p=[0.3 + 0.3 * s, 0.5 - 0.2 * s, 0.2 - 0.1 * s]
            ),
            "segment": rng.integers(0, 5, n),  # int with <= 10 values: categorical
            "vip": rng.random(n) < 0.1 + 0.1 * s,
            "balance_nan": with_nans,
            "constant": np.full(n, 3.0),
        }
    )


@pytest.fixture(scope="module")
def big_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic(3000, 1, False), synthetic(2500, 2, True)


def make_ctx(
    ref: pd.DataFrame, cur: pd.DataFrame, *, roles: ColumnRoles | None = None, **kw: Any
) -> CheckContext:
    return CheckContext(
        roles=roles or ColumnRoles(),
        reference=Dataset(ref, "s3://bucket/reference.parquet", kw.pop("ref_sha", "")),
        current=Dataset(cur, "/data/window-2024-06.parquet", "cur-sha"),
        source=SOURCE,
        **kw,
    )


def run(ctx: CheckContext, **params: Any) -> CheckResult:
    return execute(DriftCheck(), ctx, DriftParams(**params), name="drift", severity=Severity.BLOCK)


def evidently_drift(ref: pd.DataFrame, cur: pd.DataFrame, **preset: Any):
    """Per-column (test, score, drifted) and the drifted share from evidently's own Report."""
    from evidently import Report
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests
    from evidently.presets import DataDriftPreset

    display = {next(iter(v.values())).display_name: k for k, v in _registered_stat_tests.items()}
    snapshot = Report([DataDriftPreset(**preset)], include_tests=True).run(cur, ref)
    out: dict[str, dict[str, Any]] = {}
    share = None
    for metric in snapshot.dict()["metrics"]:
        cfg = metric["config"]
        if cfg["type"].endswith(":ValueDrift"):
            out[cfg["column"]] = {
                "stattest": display.get(cfg["method"], cfg["method"]),
                "score": float(metric["value"]),
                "threshold": cfg["threshold"],
            }
        elif cfg["type"].endswith(":DriftedColumnsCount"):
            share = metric["value"]["share"]
    for test in snapshot.dict()["tests"]:
        if test["id"] == "drift":
            out[test["metric_config"]["params"]["column"]]["drifted"] = test["status"] == "FAIL"
    return out, share


def assert_same_as_evidently(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert set(ours) == set(theirs)
    for col, want in theirs.items():
        got = ours[col]
        assert got["stattest"] == want["stattest"], col
        assert got["score"] == pytest.approx(want["score"], rel=1e-9, abs=1e-12), col
        assert got["threshold"] == want["threshold"], col
        assert got["drifted"] == want["drifted"], col


# ----------------------------------------------------------------------- agreement with evidently


@pytest.mark.slow
def test_german_credit_matches_evidently_report(german_split):
    ref, cur = german_split
    res = run(make_ctx(ref, cur), drift_share={"max": 0.5})
    theirs, share = evidently_drift(ref, cur)
    assert_same_as_evidently(res.values["columns"], theirs)
    assert res.values["share_drifted"] == pytest.approx(share)
    assert "age" in res.values["drifted_columns"]
    assert {r["stattest"] for r in res.values["columns"].values()} == {"ks", "chisquare", "z"}


@pytest.mark.slow
def test_large_mixed_data_with_nans_matches_evidently_report(big_split):
    ref, cur = big_split
    res = run(make_ctx(ref, cur))
    theirs, share = evidently_drift(ref, cur)
    assert_same_as_evidently(res.values["columns"], theirs)
    assert res.values["share_drifted"] == pytest.approx(share)
    tests = {c: r["stattest"] for c, r in res.values["columns"].items()}
    assert tests["income"] == "wasserstein" and tests["region"] == "jensenshannon"
    assert tests["rating"] == "jensenshannon"  # numerical, <= 5 values, > 1000 rows
    nan_col = res.values["columns"]["balance_nan"]
    assert nan_col["reference_n"] == ref["balance_nan"].notna().sum()  # NaNs dropped
    assert res.values["columns"]["constant"]["drifted"] is False


@pytest.mark.slow
def test_policy_overrides_match_evidently_report(big_split):
    ref, cur = big_split
    methods = {"income": "psi", "region": "chisquare", "tenure": "ks"}
    thresholds = {"income": 0.2, "score_a": 0.01}
    res = run(
        make_ctx(ref, cur),
        stattest=methods,
        cat_stattest="hellinger",
        stattest_threshold=thresholds,
        num_stattest_threshold=0.05,
    )
    theirs, _ = evidently_drift(
        ref,
        cur,
        per_column_method=methods,
        cat_method="hellinger",
        per_column_threshold=thresholds,
        num_threshold=0.05,
    )
    assert_same_as_evidently(res.values["columns"], theirs)
    cols = res.values["columns"]
    assert (cols["region"]["stattest"], cols["channel"]["stattest"]) == ("chisquare", "hellinger")
    assert (cols["income"]["threshold"], cols["tenure"]["threshold"]) == (0.2, 0.05)
    assert cols["income"]["chosen_by"] == "policy"
    assert cols["score_a"]["chosen_by"] == "evidently default"


# ----------------------------------------------------------------------- judging and messages


def test_drift_fails_with_a_readable_message(german_split):
    ref, cur = german_split
    res = run(make_ctx(ref, cur), drift_share={"max": 0.1})
    v = res.values
    assert res.status is Status.FAIL
    assert res.message.startswith(
        f"{v['n_drifted']} of {v['n_columns']} columns drifted "
        f"(share {v['share_drifted']:.2f} > max 0.10): age (ks p="
    )
    assert res.violations[0].metric == "share_drifted"
    assert res.violations[0].op == "<=" and res.violations[0].threshold == 0.1
    assert res.thresholds["drift_share"] == {"max": 0.1}
    assert res.library_versions["evidently"] == "0.7.23"


def test_same_distribution_passes(big_split):
    ref, _ = big_split
    res = run(make_ctx(ref, synthetic(2500, 9, False)))
    assert res.status is Status.PASS, res.message
    assert res.values["share_drifted"] <= 0.5
    assert res.message.startswith(f"{res.values['n_drifted']} of 11 columns drifted")


def test_fail_on_and_max_drifted_columns(german_split):
    ref, cur = german_split
    res = run(make_ctx(ref, cur), fail_on=["age"], max_drifted_columns=1)
    metrics = [v.metric for v in res.violations]
    assert "drift.age" in metrics and "n_drifted" in metrics
    age = next(v for v in res.violations if v.metric == "drift.age")
    assert age.message.startswith("`age` drifted and is listed in fail_on: age (ks p=")
    assert age.message.endswith(" ≤ 0.05)") and age.op == ">"
    assert res.status is Status.FAIL


def test_warn_severity_warns_instead_of_failing(german_split):
    ref, cur = german_split
    res = execute(
        DriftCheck(),
        make_ctx(ref, cur),
        DriftParams(drift_share={"max": 0.1}),
        name="drift",
        severity=Severity.WARN,
    )
    assert res.status is Status.WARN


def test_prediction_score_and_target_drift():
    rng = np.random.default_rng(0)
    n = 1500
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "pred": rng.choice(["approve", "deny"], n, p=[0.7, 0.3]),
            "score": rng.beta(5, 2, n),
            "label": rng.choice(["good", "bad"], n, p=[0.7, 0.3]),
        }
    )
    cur = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "pred": rng.choice(["approve", "deny"], n, p=[0.4, 0.6]),
            "score": rng.beta(2, 2, n),
            "label": [None] * (n - 20) + ["good"] * 20,  # labels not in yet
        }
    )
    roles = ColumnRoles(features=("x",), prediction="pred", score="score", target="label")
    res = run(make_ctx(ref, cur, roles=roles))
    assert set(res.values["prediction_drift"]) == {"pred", "score"}
    assert res.values["prediction_drift"]["pred"]["stattest"] == "jensenshannon"
    assert res.values["target_drift"] is None
    assert "target drift not measured" in res.details["skipped_columns"]["label"]
    messages = [v.message for v in res.violations]
    assert any(m.startswith("prediction `pred` drifted: pred (jensenshannon") for m in messages)
    assert res.values["n_columns"] == 1  # prediction columns do not count as features
    off = run(make_ctx(ref, cur, roles=roles), prediction_drift=False)
    assert off.values["prediction_drift"] is None and off.status is Status.PASS


# ----------------------------------------------------------------------- inputs a person can fix


def test_insufficient_rows(german_split):
    ref, cur = german_split
    res = run(make_ctx(ref, cur.iloc[:40]))
    assert res.status is Status.INSUFFICIENT_DATA
    assert "has 40 rows; drift needs at least 100 (min_rows)" in res.message
    assert run(make_ctx(ref, cur.iloc[:40]), min_rows=30).status is not Status.INSUFFICIENT_DATA


def test_missing_column_names_column_policy_and_window(german_split):
    ref, cur = german_split
    res = run(make_ctx(ref, cur), columns=["age", "salary"])
    assert res.status is Status.ERROR
    assert res.message == (
        f"column `salary` named in policy {SOURCE} is not in reference data "
        "s3://bucket/reference.parquet"
    )
    res = run(make_ctx(ref, cur.drop(columns=["age"]), roles=ColumnRoles(features=("age",))))
    assert res.message == (
        "column `age` listed as a feature in the model's schema is not in current window "
        "/data/window-2024-06.parquet"
    )


def test_unknown_stattest_rejected_when_policy_loads():
    with pytest.raises(ValidationError, match="unknown stattest wasserstien"):
        DriftParams(stattest={"age": "wasserstien"})
    with pytest.raises(ValidationError, match="extra"):
        DriftParams(drift_shares={"max": 0.2})
    with pytest.raises(ValidationError, match="thresholds must be > 0"):
        DriftParams(stattest_threshold=-0.1)


def test_stattest_not_applicable_to_column_type(german_split):
    ref, cur = german_split
    res = run(make_ctx(ref, cur), columns=["age"], stattest={"age": "chisquare"})
    assert res.status is Status.ERROR
    assert res.message == (
        f"stattest `chisquare` named in policy {SOURCE} does not apply to numerical column "
        "`age` (it takes categorical columns)"
    )


def test_all_nan_column_is_reported_not_crashed(big_split):
    ref, cur = big_split
    res = run(make_ctx(ref, cur.assign(income=np.nan)), drift_share={"max": 1.0})
    assert res.status is Status.FAIL
    assert "income" not in res.values["columns"] and res.values["n_columns"] == 10
    assert res.details["column_errors"] == {
        "income": "column `income` has no non-missing values in the current window"
    }
    v = next(v for v in res.violations if v.metric == "drift.income")
    assert v.op == "defined" and v.message.endswith("drift cannot be computed")


def test_text_columns_are_skipped_with_a_reason():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=300), "note": [f"free text {i}" for i in range(300)]})
    cur = pd.DataFrame({"x": rng.normal(size=300), "note": [f"other text {i}" for i in range(300)]})
    res = run(make_ctx(ref, cur))
    assert list(res.values["columns"]) == ["x"]
    assert res.details["skipped_columns"] == {"note": "text column: no drift test for this type"}


def test_non_numeric_current_for_numeric_column(big_split):
    ref, cur = big_split
    res = run(make_ctx(ref, cur.assign(income="n/a")), columns=["income"])
    assert res.status is Status.ERROR
    assert "`income` is numerical in the reference but has dtype object" in res.message


# ----------------------------------------------------------------------- profile and artifacts


def test_reference_profile_reused_across_runs(big_split):
    clear_cache()
    ref, cur = big_split
    first = run(make_ctx(ref, cur, ref_sha="ref-sha-1"))
    second = run(make_ctx(ref, cur, ref_sha="ref-sha-1"))
    assert first.details["reference_profile"]["reused"] is False
    assert second.details["reference_profile"]["reused"] is True
    assert first.values["columns"] == second.values["columns"]
    clear_cache()


@pytest.mark.slow
def test_artifacts_png_and_evidently_html(tmp_path, german_split):
    ref, cur = german_split
    res = run(make_ctx(ref, cur, artifacts_dir=tmp_path), report_sample_rows=300)
    assert "artifact_errors" not in res.details
    kinds = {a.media_type: a for a in res.artifacts}
    png = tmp_path / kinds["image/png"].path
    html = tmp_path / kinds["text/html"].path
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<html" in html.read_text()[:5000].lower()
    assert res.details["evidently_report_sample"] == {"reference_rows": 300, "current_rows": 300}


def test_artifact_failures_do_not_change_the_outcome(tmp_path, german_split, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(drift_module, "write_score_chart", broken)
    monkeypatch.setattr(drift_module, "write_evidently_html", broken)
    ref, cur = german_split
    res = run(make_ctx(ref, cur, artifacts_dir=tmp_path), drift_share={"max": 0.1})
    assert res.status is Status.FAIL and res.artifacts == []
    assert res.details["artifact_errors"] == {
        "png": "RuntimeError: disk full",
        "html": "RuntimeError: disk full",
    }
