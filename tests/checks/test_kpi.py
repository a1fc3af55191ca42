"""KpiCheck: model metrics equal scikit-learn's, business KPIs, champion comparison."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression

from checks.base import ColumnRoles, Severity, Status, execute
from checks.kpi import KpiCheck, KpiParams


def run(ctx, severity=Severity.BLOCK, **params):
    return execute(KpiCheck(), ctx, KpiParams(**params), name="kpi", severity=severity)


CLASSIFICATION = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"]


def test_classification_metrics_equal_sklearn(scored, roles, make_ctx):
    holdout = scored.iloc[700:]
    r = run(make_ctx(roles, reference=holdout), metrics={m: {} for m in CLASSIFICATION})
    assert r.status is Status.PASS and r.values["labeled_rows"] == 300
    y, p, s = holdout["target"], holdout["prediction"], holdout["score"]
    assert r.values["accuracy"] == pytest.approx(skm.accuracy_score(y, p), abs=1e-12)
    assert r.values["precision"] == pytest.approx(skm.precision_score(y, p), abs=1e-12)
    assert r.values["recall"] == pytest.approx(skm.recall_score(y, p), abs=1e-12)
    assert r.values["f1"] == pytest.approx(skm.f1_score(y, p), abs=1e-12)
    assert r.values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert r.values["log_loss"] == pytest.approx(skm.log_loss(y, s), abs=1e-12)
    assert 0.6 < r.values["roc_auc"] < 1  # a real, imperfect model


def test_metric_bounds_produce_violations(scored, roles, make_ctx):
    ctx = make_ctx(roles, current=scored.iloc[700:])
    r = run(ctx, metrics={"accuracy": {"min": 0.99}, "log_loss": {"max": 0.01}, "recall": {}})
    assert r.status is Status.FAIL
    assert [v.metric for v in r.violations] == ["accuracy", "log_loss"]
    assert "accuracy" in r.violations[0].message and "below min 0.99" in r.violations[0].message
    assert r.thresholds["accuracy"] == {"min": 0.99}
    assert (
        run(ctx, severity=Severity.WARN, metrics={"accuracy": {"min": 0.99}}).status is Status.WARN
    )


def test_regression_metrics_equal_sklearn(german, make_ctx):
    X = german[["duration_months", "age", "installment_rate"]]
    model = LinearRegression().fit(X.iloc[:700], german["credit_amount"].iloc[:700])
    frame = german.iloc[700:].assign(predicted_amount=model.predict(X.iloc[700:]))
    roles = ColumnRoles(
        features=tuple(X.columns), target="credit_amount", prediction="predicted_amount"
    )
    r = run(make_ctx(roles, current=frame), metrics={m: {} for m in ("mse", "rmse", "mae", "r2")})
    y, p = frame["credit_amount"], frame["predicted_amount"]
    assert r.values["mse"] == pytest.approx(skm.mean_squared_error(y, p), rel=1e-12)
    assert r.values["rmse"] == pytest.approx(skm.root_mean_squared_error(y, p), rel=1e-12)
    assert r.values["mae"] == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-12)
    assert r.values["r2"] == pytest.approx(skm.r2_score(y, p), rel=1e-12)


def test_business_kpis_with_filters(scored, roles, make_ctx):
    business = [
        {
            "name": "approval_rate",
            "aggregate": "rate",
            "column": "@prediction",
            "equals": 1,
            "where": [{"column": "purpose", "op": "ne", "value": "business"}],
            "bound": {"min": 0.99},
        },
        {
            "name": "young_volume",
            "aggregate": "sum",
            "column": "credit_amount",
            "where": [
                {"column": "age", "op": "lt", "value": 25},
                {"column": "housing", "op": "in", "value": ["rent", "for free"]},
            ],
        },
        {
            "name": "car_loans",
            "aggregate": "count",
            "column": "purpose",
            "in": ["car (new)", "car (used)"],
        },
        {
            "name": "mean_duration",
            "aggregate": "mean",
            "column": "duration_months",
            "where": [{"column": "foreign_worker", "op": "not_in", "value": ["no"]}],
        },
        {"name": "good_share", "aggregate": "mean", "column": "@target", "equals": 1},
    ]
    r = run(make_ctx(roles, current=scored), business=business)
    df = scored
    not_business = df[df.purpose != "business"]
    assert r.values["approval_rate"] == pytest.approx((not_business.prediction == 1).mean())
    young = df[(df.age < 25) & df.housing.isin(["rent", "for free"])]
    assert r.values["young_volume"] == young.credit_amount.sum() > 0
    assert r.values["car_loans"] == df.purpose.isin(["car (new)", "car (used)"]).sum() > 0
    assert r.values["mean_duration"] == pytest.approx(
        df[df.foreign_worker != "no"].duration_months.mean()
    )
    assert r.values["good_share"] == pytest.approx(0.7)
    assert r.details["business"]["approval_rate"]["rows"] == len(not_business)
    (v,) = r.violations
    assert v.metric == "approval_rate" and "below min 0.99" in v.message
    assert r.status is Status.FAIL


def test_business_kpi_with_no_matching_rows_says_why(scored, roles, make_ctx):
    kpi = {
        "name": "rate_x",
        "aggregate": "rate",
        "column": "purpose",
        "equals": "car (new)",
        "where": [{"column": "age", "op": "gt", "value": 500}],
        "bound": {"min": 0.1},
    }
    r = run(make_ctx(roles, current=scored), business=[kpi])
    assert r.status is Status.FAIL
    assert r.violations[0].message == "rate_x could not be computed: no rows match where age > 500"


def test_business_kpi_errors_are_clear(scored, roles, make_ctx):
    missing = {"name": "k", "aggregate": "mean", "column": "income"}
    r = run(make_ctx(roles, current=scored), business=[missing])
    assert r.status is Status.ERROR and "`income`" in r.message and "business KPI `k`" in r.message
    text_mean = {"name": "k", "aggregate": "mean", "column": "purpose"}
    r = run(make_ctx(roles, current=scored), business=[text_mean])
    assert r.status is Status.ERROR and "needs a numeric column" in r.message


def test_champion_drop_higher_and_lower_is_better(scored, roles, make_ctx):
    holdout = scored.iloc[700:]
    acc = skm.accuracy_score(holdout.target, holdout.prediction)
    loss = skm.log_loss(holdout.target, holdout.score)
    champion = {"accuracy": acc + 0.05, "log_loss": loss - 0.01, "roc_auc": 0.5}
    ctx = make_ctx(roles, current=holdout, champion_values=champion)
    r = run(ctx, champion={"max_drop": {"accuracy": 0.02, "log_loss": 0.02, "roc_auc": 0.0}})
    assert [v.metric for v in r.violations] == ["accuracy_drop_vs_champion"]
    v = r.violations[0]
    assert v.value == pytest.approx(0.05) and v.threshold == 0.02
    assert "below the champion's" in v.message and "max allowed drop 0.02" in v.message
    assert r.details["champion"]["log_loss"]["drop"] == pytest.approx(0.01)
    assert r.details["champion"]["roc_auc"]["drop"] < 0  # better than champion: no violation

    worse_loss = make_ctx(roles, current=holdout, champion_values={"log_loss": loss - 0.05})
    r = run(worse_loss, champion={"max_drop": {"log_loss": 0.02}})
    (v,) = r.violations
    assert "above the champion's" in v.message and "max allowed increase" in v.message


def test_champion_without_value_is_not_compared(scored, roles, make_ctx):
    r = run(make_ctx(roles, current=scored), champion={"max_drop": {"accuracy": 0.0}})
    assert r.status is Status.PASS
    assert r.details["champion"]["accuracy"] == {"compared": False, "reason": "no champion value"}
    assert "accuracy" in r.values  # computed for the comparison even without a bound


def test_predictions_only_and_model_paths(scored, roles, make_ctx, german_model):
    unscored = scored.drop(columns=["prediction", "score"])
    r = run(make_ctx(roles, current=unscored), metrics={"accuracy": {"min": 0.5}})
    assert (
        r.status is Status.ERROR and "predictions-only" in r.message and "`prediction`" in r.message
    )

    with_model = run(
        make_ctx(roles, current=unscored, model=german_model),
        metrics={"accuracy": {}, "roc_auc": {}},
    )
    logged = run(make_ctx(roles, current=scored), metrics={"accuracy": {}, "roc_auc": {}})
    assert with_model.status is Status.PASS
    assert with_model.values["accuracy"] == logged.values["accuracy"]
    assert with_model.values["roc_auc"] == pytest.approx(logged.values["roc_auc"])

    no_score_role = replace(roles, score=None)
    only_pred = scored.drop(columns=["score"])
    r = run(make_ctx(no_score_role, current=only_pred), metrics={"accuracy": {}})
    assert r.status is Status.PASS  # the score is not needed for accuracy
    only_score = scored.drop(columns=["prediction"])
    r = run(make_ctx(roles, current=only_score), metrics={"roc_auc": {}})
    assert r.status is Status.PASS  # nor the prediction for roc_auc
    assert r.values["roc_auc"] == pytest.approx(logged.values["roc_auc"])


def test_labels_required_and_too_few_labels(scored, roles, make_ctx):
    r = run(make_ctx(replace(roles, target=None), current=scored), metrics={"accuracy": {}})
    assert r.status is Status.ERROR and "names no target" in r.message
    partly = scored.iloc[:100].copy()
    partly.loc[partly.index[10:], "target"] = np.nan
    r = run(make_ctx(roles, current=partly), metrics={"accuracy": {}})
    assert r.status is Status.INSUFFICIENT_DATA and "only 10 labeled rows" in r.message
    r = run(make_ctx(roles, current=partly), metrics={"accuracy": {}}, min_rows=5)
    labeled = partly.iloc[:10]
    assert r.values["accuracy"] == skm.accuracy_score(labeled.target, labeled.prediction)
    # business KPIs need no labels
    r = run(make_ctx(roles, current=partly), business=[{"name": "n", "aggregate": "count"}])
    assert r.values["n"] == 100


def test_uncomputable_metric_is_reported_not_crashed(scored, roles, make_ctx):
    one_class = scored[scored.target == 1].iloc[:50]
    r = run(make_ctx(roles, current=one_class), metrics={"roc_auc": {"min": 0.7}})
    assert r.status is Status.FAIL
    assert r.violations[0].message.startswith("roc_auc could not be computed: ")
    assert "roc_auc" in r.details["not_computable"]


def test_params_validation():
    with pytest.raises(ValidationError):
        KpiParams(metrics={"acuracy": {}})
    with pytest.raises(ValidationError):  # rate needs equals/in
        KpiParams(business=[{"name": "r", "aggregate": "rate", "column": "x"}])
    with pytest.raises(ValidationError):  # name clashes with a metric
        KpiParams(business=[{"name": "accuracy", "aggregate": "count"}])
    with pytest.raises(ValidationError):
        KpiParams(
            business=[
                {
                    "name": "c",
                    "aggregate": "count",
                    "where": [{"column": "a", "op": "in", "value": 3}],
                }
            ]
        )
    p = KpiParams(business=[{"name": "r", "aggregate": "rate", "column": "x", "in": [1, 2]}])
    assert p.business[0].in_ == [1, 2]
    assert KpiCheck.needs_current is False


def test_numeric_where_value_given_as_text_is_coerced(scored, roles, make_ctx):
    kpi = {
        "name": "old",
        "aggregate": "count",
        "where": [{"column": "age", "op": "ge", "value": "60"}],
    }
    r = run(make_ctx(roles, current=scored), business=[kpi])
    assert r.values["old"] == (scored.age >= 60).sum()
    kpi["where"][0]["value"] = "sixty"
    r = run(make_ctx(roles, current=scored), business=[kpi])
    assert r.status is Status.ERROR and "'sixty' is not" in r.message


def test_evaluates_reference_when_no_current(scored, roles, make_ctx):
    r = run(make_ctx(roles, reference=scored.iloc[:500]), metrics={"accuracy": {}})
    assert r.details["evaluated_on"] == "reference data" and r.values["rows"] == 500
    empty = pd.DataFrame(columns=scored.columns)
    r = run(make_ctx(roles, current=empty), metrics={"accuracy": {}})
    assert r.status is Status.INSUFFICIENT_DATA
