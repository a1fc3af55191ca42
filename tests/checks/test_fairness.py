"""FairnessCheck: figures equal fairlearn's, edge cases, messages, end-to-end status."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from pydantic import ValidationError
from sklearn.metrics import accuracy_score, precision_score, recall_score

from checks.base import ColumnRoles, Severity, Status, execute
from checks.fairness import FairnessCheck, FairnessParams

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
TOL = 1e-9
OURS_TO_FAIRLEARN = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "accuracy": accuracy_score,
    "precision": precision_score,
    "recall": recall_score,
    "count": count,
}
AGGREGATES = {
    "demographic_parity_difference": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equalized_odds_difference": equalized_odds_difference,
    "equalized_odds_ratio": equalized_odds_ratio,
    "equal_opportunity_difference": equal_opportunity_difference,
}


def measure(ctx, **params):
    return FairnessCheck().measure(ctx, FairnessParams(**params))


def assert_matches_fairlearn(m, grouping: str, frame: pd.DataFrame, sf: pd.DataFrame) -> None:
    """Per-group table and the five aggregates equal fairlearn's on `frame` (judged rows)."""
    y_true, y_pred = frame["target"], frame["prediction"]
    mf = MetricFrame(metrics=OURS_TO_FAIRLEARN, y_true=y_true, y_pred=y_pred, sensitive_features=sf)
    expected = mf.by_group.dropna(how="all")
    rows = [r for r in m.details["groups"][grouping] if r["status"] == "judged"]
    assert len(rows) == len(expected) >= 2
    for row in rows:
        key = tuple(row[c] for c in sf.columns)
        want = expected.loc[key if len(key) > 1 else key[0]]
        for ours in OURS_TO_FAIRLEARN:
            assert row[ours] == pytest.approx(want[ours], abs=TOL), (key, ours)
    for name, fn in AGGREGATES.items():
        want = fn(y_true, y_pred, sensitive_features=sf)
        got = m.values[f"{name}[{grouping}]"]
        got = np.nan if got is None else got  # NaN is stored as None (JSON)
        assert got == pytest.approx(want, abs=TOL, nan_ok=True), name


def test_one_feature_matches_fairlearn_on_german_credit(scored, roles, make_ctx):
    m = measure(make_ctx(roles, reference=scored), sensitive_features=["sex"])
    assert m.details["evaluated_on"] == "reference data"
    assert_matches_fairlearn(m, "sex", scored, scored[["sex"]])
    sexes = {r["sex"] for r in m.details["groups"]["sex"]}
    assert sexes == {"female", "male"}


def test_two_features_and_intersection_match_fairlearn(scored, roles, make_ctx):
    m = measure(make_ctx(roles, current=scored), min_group_size=1)
    assert m.details["evaluated_on"] == "current window"
    assert set(m.details["groups"]) == {"sex", "foreign_worker", "sex*foreign_worker"}
    assert_matches_fairlearn(m, "sex", scored, scored[["sex"]])
    assert_matches_fairlearn(m, "foreign_worker", scored, scored[["foreign_worker"]])
    assert_matches_fairlearn(m, "sex*foreign_worker", scored, scored[["sex", "foreign_worker"]])
    assert len(m.details["groups"]["sex*foreign_worker"]) == 4


def test_age_bins_match_fairlearn_on_bucketed_age(scored, roles, make_ctx):
    m = measure(make_ctx(roles, current=scored), sensitive_features=["age"], bins={"age": [25]})
    bucket = pd.Series(np.where(scored["age"] < 25, "<25", ">=25"), name="age")
    assert_matches_fairlearn(m, "age", scored, bucket.to_frame())
    assert {r["age"] for r in m.details["groups"]["age"]} == {"<25", ">=25"}


@pytest.mark.slow  # fairlearn needs ~20 s here (a MetricFrame per aggregate)
def test_synthetic_200k_four_groups_matches_fairlearn(rng, make_ctx):
    n = 200_000
    group = rng.choice(["a", "b", "c", "d"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    bias = pd.Series(group).map({"a": 0.0, "b": 0.1, "c": -0.1, "d": 0.2}).to_numpy()
    y_true = (rng.random(n) < 0.5 + bias / 2).astype(int)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true)
    y_pred = np.where(rng.random(n) < bias.clip(0), 1, y_pred)
    frame = pd.DataFrame({"g": group, "target": y_true, "prediction": y_pred})
    roles = ColumnRoles(target="target", prediction="prediction", sensitive_features=("g",))
    m = measure(make_ctx(roles, current=frame))
    assert_matches_fairlearn(m, "g", frame, frame[["g"]])
    assert m.values["demographic_parity_difference[g]"] > 0.05  # the bias is visible


def test_group_without_positives_matches_fairlearn_zero_division(make_ctx):
    # group "b": no true positives at all (TPR/FNR 0/0) and no predicted positives (precision)
    frame = pd.DataFrame(
        {
            "g": ["a"] * 40 + ["b"] * 40,
            "target": [1, 0] * 20 + [0] * 40,
            "prediction": [1, 1, 0, 0] * 10 + [0] * 40,
        }
    )
    roles = ColumnRoles(target="target", prediction="prediction", sensitive_features=("g",))
    m = measure(make_ctx(roles, current=frame))
    b = next(r for r in m.details["groups"]["g"] if r["g"] == "b")
    assert (b["tpr"], b["fnr"], b["precision"], b["positives"]) == (0.0, 0.0, 0.0, 0)
    assert_matches_fairlearn(m, "g", frame, frame[["g"]])
    assert m.values["equalized_odds_ratio[g]"] == 0.0


def test_ratio_is_nan_when_no_group_is_selected_like_fairlearn(make_ctx):
    frame = pd.DataFrame({"g": ["a", "b"] * 40, "target": [0, 1] * 40, "prediction": 0})
    roles = ColumnRoles(target="target", prediction="prediction", sensitive_features=("g",))
    params = {"thresholds": {"demographic_parity_ratio": {"min": 0.8}}}
    m = measure(make_ctx(roles, current=frame), **params)
    want = demographic_parity_ratio(frame.target, frame.prediction, sensitive_features=frame.g)
    assert np.isnan(want) and m.values["demographic_parity_ratio[g]"] is None
    assert_matches_fairlearn(m, "g", frame, frame[["g"]])
    (v,) = m.violations
    assert "could not be computed" in v.message and v.op == "defined"


def test_small_groups_flagged_insufficient_and_not_judged(scored, roles, make_ctx):
    m = measure(make_ctx(roles, current=scored), min_group_size=30)
    inter = {r["group"]: r for r in m.details["groups"]["sex*foreign_worker"]}
    small = inter["sex=female, foreign_worker=no"]
    assert small["count"] == 7 and small["status"] == "insufficient"
    assert inter["sex=male, foreign_worker=yes"]["status"] == "judged"
    judged = scored[~((scored.sex == "female") & (scored.foreign_worker == "no"))]
    assert_matches_fairlearn(m, "sex*foreign_worker", judged, judged[["sex", "foreign_worker"]])


def test_fewer_than_two_sizable_groups_is_insufficient_data(scored, roles, make_ctx):
    ctx = make_ctx(roles, current=scored.iloc[:60])
    params = FairnessParams(sensitive_features=["foreign_worker"], min_group_size=30)
    r = execute(FairnessCheck(), ctx, params, name="fair", severity=Severity.BLOCK)
    assert r.status is Status.INSUFFICIENT_DATA
    assert "foreign_worker=" in r.message and "30" in r.message


def test_missing_sensitive_column_is_an_error_naming_it(scored, roles, make_ctx):
    ctx = make_ctx(roles, current=scored.drop(columns=["sex"]))
    r = execute(FairnessCheck(), ctx, FairnessParams(), name="fair", severity=Severity.BLOCK)
    assert r.status is Status.ERROR
    assert "`sex`" in r.message and "current window mem://current.csv" in r.message
    assert "policies/packs/test.yaml:3" in r.message and "it has: checking_status" in r.message


def test_nan_in_sensitive_feature_is_reported_not_judged(scored, roles, make_ctx):
    frame = scored.copy()
    frame.loc[frame.index[::10], "sex"] = np.nan
    m = measure(make_ctx(roles, current=frame), sensitive_features=["sex"])
    rows = {r["sex"]: r for r in m.details["groups"]["sex"]}
    assert rows["(missing)"]["status"] == "missing" and rows["(missing)"]["count"] == 100
    known = frame[frame.sex.notna()]  # fairlearn refuses NaN; we judge the known rows
    assert_matches_fairlearn(m, "sex", known, known[["sex"]])

    as_group = measure(
        make_ctx(roles, current=frame), sensitive_features=["sex"], missing_as_group=True
    )
    statuses = {r["sex"]: r["status"] for r in as_group.details["groups"]["sex"]}
    assert statuses == {"female": "judged", "male": "judged", "(missing)": "judged"}


def test_violation_message_is_readable_and_status_follows_severity(scored, roles, make_ctx):
    ctx = make_ctx(roles, current=scored)
    params = FairnessParams(sensitive_features=["sex"], thresholds={"fpr_gap": {"max": 0.001}})
    r = execute(FairnessCheck(), ctx, params, name="fair", severity=Severity.BLOCK)
    assert r.status is Status.FAIL
    (v,) = r.violations
    assert re.match(
        r"FPR gap \d\.\d\d between sex=(fe)?male and sex=(fe)?male exceeds max", v.message
    )
    assert v.metric == "fpr_gap[sex]" and v.value == pytest.approx(r.values["fpr_gap[sex]"])
    assert r.message == v.message
    warn = execute(FairnessCheck(), ctx, params, name="fair", severity=Severity.WARN)
    assert warn.status is Status.WARN
    loose = FairnessParams(
        sensitive_features=["sex"],
        thresholds={"fpr_gap": {"max": 0.99}, "demographic_parity_ratio": {"min": 0.01}},
    )
    ok = execute(FairnessCheck(), ctx, loose, name="fair", severity=Severity.BLOCK)
    assert ok.status is Status.PASS and ok.thresholds["fpr_gap"] == {"max": 0.99}


def test_ratio_violation_names_both_groups(scored, roles, make_ctx):
    params = {"sensitive_features": ["sex"], "thresholds": {"demographic_parity_ratio": {"min": 1}}}
    m = measure(make_ctx(roles, current=scored), **params)
    (v,) = m.violations
    assert v.message.startswith("demographic parity ratio 0.")
    assert "sex=female" in v.message and "sex=male" in v.message and "below min 1.00" in v.message


def test_without_labels_only_selection_rate_metrics(scored, roles, make_ctx):
    unlabeled = scored.drop(columns=["target"])
    m = measure(make_ctx(roles, current=unlabeled), sensitive_features=["sex"])
    assert "demographic_parity_ratio[sex]" in m.values
    assert "equalized_odds_difference[sex]" not in m.values
    assert m.details["not_computable"]["tpr_gap"] == "no true labels"
    assert "tpr" not in m.details["groups"]["sex"][0]

    ctx = make_ctx(roles, current=unlabeled)
    bad = FairnessParams(thresholds={"tpr_gap": {"max": 0.1}})
    r = execute(FairnessCheck(), ctx, bad, name="fair", severity=Severity.BLOCK)
    assert r.status is Status.ERROR and "tpr_gap" in r.message and "true labels" in r.message


def test_predictions_computed_from_model_when_absent(scored, roles, make_ctx, german_model):
    with_model = measure(
        make_ctx(roles, current=scored.drop(columns=["prediction", "score"]), model=german_model)
    )
    logged = measure(make_ctx(roles, current=scored))
    assert with_model.values == logged.values
    ctx = make_ctx(roles, current=scored.drop(columns=["prediction"]))
    r = execute(FairnessCheck(), ctx, FairnessParams(), name="fair", severity=Severity.BLOCK)
    assert r.status is Status.ERROR and "predictions-only" in r.message


def test_numeric_sensitive_feature_without_bins_asks_for_bins(scored, roles, make_ctx):
    ctx = make_ctx(roles, current=scored)
    r = execute(
        FairnessCheck(),
        ctx,
        FairnessParams(sensitive_features=["age"]),
        name="f",
        severity=Severity.BLOCK,
    )
    assert r.status is Status.ERROR and "bins: {age: [25]}" in r.message


def test_pos_label_not_in_labels_is_an_error(scored, roles, make_ctx):
    frame = scored.assign(prediction=np.where(scored.prediction == 1, "good", "bad"))
    frame["target"] = frame["credit_risk"]
    ctx = make_ctx(roles, current=frame)
    r = execute(FairnessCheck(), ctx, FairnessParams(), name="fair", severity=Severity.BLOCK)
    assert r.status is Status.ERROR and "pos_label 1" in r.message
    m = FairnessCheck().measure(ctx, FairnessParams(pos_label="good"))
    expected = measure(make_ctx(roles, current=scored))
    assert m.values == pytest.approx(expected.values)


def test_params_validated_at_load_time():
    with pytest.raises(ValidationError):
        FairnessParams(thresholds={"fpr_difference_typo": {"max": 0.1}})
    with pytest.raises(ValidationError):
        FairnessParams(bins={"age": [60, 25]})
    with pytest.raises(ValidationError):
        FairnessParams(unknown_key=1)
    assert FairnessCheck.needs_current is False


def test_roles_without_sensitive_features_is_an_error(scored, roles, make_ctx):
    ctx = make_ctx(replace(roles, sensitive_features=()), current=scored)
    r = execute(FairnessCheck(), ctx, FairnessParams(), name="fair", severity=Severity.BLOCK)
    assert r.status is Status.ERROR and "sensitive_features" in r.message


def test_a_violating_value_never_reads_as_equal_to_its_bound() -> None:
    from checks.fairness import _beside

    assert _beside(0.1036, 0.1) == "0.104"  # not "0.10 exceeds max 0.10"
    assert _beside(0.7519, 0.8) == "0.75"
    assert _beside(0.80001, 0.8) == "0.800010"
