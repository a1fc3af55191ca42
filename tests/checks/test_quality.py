"""QualityCheck: every rule triggers and passes, NaNs, empty or absent windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from checks.base import Severity, Status, execute
from checks.quality import QualityCheck, QualityParams, default_required, dtype_problem


def run(ctx, severity=Severity.BLOCK, **params):
    return execute(QualityCheck(), ctx, QualityParams(**params), name="quality", severity=severity)


@pytest.fixture
def reference(german):
    return german.iloc[:700]


@pytest.fixture
def current(german):
    return german.iloc[700:].copy()


def test_clean_window_passes_every_rule(roles, make_ctx, reference, current, german_model):
    ctx = make_ctx(roles, reference=reference, current=current, model=german_model)
    r = run(
        ctx,
        dtypes={"age": "numeric", "purpose": "categorical", "sex": "categorical"},
        max_missing_share=0.0,
        ranges={"age": {"min": 18, "max": 100}, "credit_amount": {"min": 0}},
        unseen_categories={"max_share": 0.05},
    )
    assert r.status is Status.PASS, [v.message for v in r.violations]
    assert r.message == "all data quality rules met"
    assert r.values["missing_columns"] == [] and r.values["ranges"]["age"]["outside"] == 0
    assert set(r.values["missing_share"]) == set(roles.features)  # default: role columns


def test_default_required_columns_follow_roles(roles):
    with_model = default_required(roles, has_model=True)
    assert "target" not in with_model and "prediction" not in with_model and "age" in with_model
    assert {"prediction", "score"} <= set(default_required(roles, has_model=False))


def test_missing_required_columns_one_violation_each(roles, make_ctx, current, german_model):
    ctx = make_ctx(roles, current=current.drop(columns=["age", "purpose"]), model=german_model)
    r = run(ctx)
    assert r.status is Status.FAIL
    assert sorted(v.message for v in r.violations) == [
        "required column `age` is missing from current window mem://current.csv",
        "required column `purpose` is missing from current window mem://current.csv",
    ]
    explicit = run(ctx, required_columns=["sex"])
    assert explicit.status is Status.PASS


def test_predictions_only_model_must_log_predictions(roles, make_ctx, current):
    r = run(make_ctx(roles, current=current))  # no model: prediction/score are required
    assert {v.metric for v in r.violations} == {"required[prediction]", "required[score]"}


def test_dtype_rules_trigger_and_pass(roles, make_ctx, current):
    frame = current.assign(
        age=current["age"].astype(object),
        when=pd.date_range("2024-01-01", periods=len(current)).strftime("%Y-%m-%d"),
        flag=np.where(current["age"] > 40, "true", "false"),
        amount_text=current["credit_amount"].astype(str),
    )
    frame.loc[frame.index[:3], "age"] = "unknown"
    frame.loc[frame.index[5], "when"] = "not a date"
    dtypes = {
        "age": "numeric",
        "when": "datetime",
        "flag": "bool",
        "amount_text": "numeric",
        "credit_amount": "categorical",
        "purpose": "categorical",
    }
    r = run(make_ctx(roles, current=frame), required_columns=[], dtypes=dtypes)
    messages = {v.metric: v.message for v in r.violations}
    assert set(messages) == {"dtype[age]", "dtype[when]", "dtype[amount_text]"}
    assert messages["dtype[age]"].startswith("column `age` should be numeric: 3 of 300 values")
    assert "'unknown'" in messages["dtype[age]"]
    assert "1 of 300 values are not dates (e.g. 'not a date')" in messages["dtype[when]"]
    assert messages["dtype[amount_text]"].endswith("it is stored as object, not as numbers")


def test_dtype_problem_unit_cases():
    assert dtype_problem(pd.Series([1.5, 2.5]), "numeric") is None
    assert dtype_problem(pd.Series([True, False]), "numeric") is not None
    assert dtype_problem(pd.Series([0, 1, 1]), "bool") is None
    assert "not true/false" in dtype_problem(pd.Series([0, 2]), "bool")
    assert dtype_problem(pd.Series(pd.to_datetime(["2024-01-01"])), "datetime") is None
    assert "continuous" in dtype_problem(pd.Series([0.5, 1.25]), "categorical")
    assert dtype_problem(pd.Series([1.0, 2.0, np.nan]), "categorical") is None


def test_missing_share_global_and_per_column(roles, make_ctx, current, german_model):
    frame = current.copy()
    frame.loc[frame.index[:30], "savings"] = np.nan  # 10 %
    frame.loc[frame.index[:3], "age"] = np.nan  # 1 %
    ctx = make_ctx(roles, current=frame, model=german_model)
    r = run(ctx, max_missing_share=0.05)
    (v,) = r.violations
    assert v.metric == "missing_share[savings]" and v.value == pytest.approx(0.1)
    assert v.message == (
        "column `savings` is 10.0% missing (30 of 300 rows), above the 5.0% allowed"
    )
    r = run(ctx, max_missing_share={"savings": 0.2, "age": 0.0})
    assert [v.metric for v in r.violations] == ["missing_share[age]"]
    assert run(ctx, max_missing_share={"savings": 0.2}).status is Status.PASS
    r = run(ctx, max_missing_share={"income": 0.1})
    assert r.violations[0].message.startswith("column `income` (named in max_missing_share)")


def test_ranges_trigger_with_counts_and_pass(roles, make_ctx, current, german_model):
    frame = current.copy()
    frame.loc[frame.index[:2], "age"] = [12, 130]
    frame.loc[frame.index[5], "credit_amount"] = np.nan  # NaN is not out of range
    ctx = make_ctx(roles, current=frame, model=german_model)
    r = run(ctx, ranges={"age": {"min": 18, "max": 100}, "credit_amount": {"min": 0}})
    (v,) = r.violations
    assert v.message == "column `age` has 2 values outside min 18 and max 100 (seen 12 to 130)"
    assert r.values["ranges"]["credit_amount"]["outside"] == 0
    r = run(ctx, ranges={"purpose": {"min": 0}})
    assert (
        r.violations[0].message == "column `purpose` has a range rule but is not numeric (object)"
    )


def test_unseen_categories(roles, make_ctx, reference, current, german_model):
    frame = current.copy()
    frame.loc[frame.index[:15], "purpose"] = "crypto"  # 5 %
    ctx = make_ctx(roles, reference=reference, current=frame, model=german_model)
    r = run(ctx, unseen_categories={"max_share": 0.01})
    (v,) = r.violations
    assert v.metric == "unseen_categories[purpose]" and v.value == pytest.approx(0.05)
    assert "5.0% of rows with categories not in the reference data" in v.message
    assert "'crypto' (15)" in v.message
    assert r.details["unseen_categories"]["purpose"]["new_values"] == {"crypto": 15}
    assert run(ctx, unseen_categories={"max_share": 0.1}).status is Status.PASS
    only_sex = run(ctx, unseen_categories={"columns": ["sex"], "max_share": 0.0})
    assert only_sex.status is Status.PASS
    no_ref = make_ctx(roles, current=frame, model=german_model)
    r = run(no_ref, unseen_categories={"max_share": 0.01})
    assert r.status is Status.ERROR and "reference data" in r.message


def test_nan_is_not_an_unseen_category(roles, make_ctx, reference, current, german_model):
    frame = current.copy()
    frame.loc[frame.index[:50], "purpose"] = np.nan
    ctx = make_ctx(roles, reference=reference, current=frame, model=german_model)
    assert run(ctx, unseen_categories={}).status is Status.PASS


def test_several_problems_are_all_listed(roles, make_ctx, reference, current, german_model):
    frame = current.drop(columns=["job"])
    frame.loc[frame.index[:2], "age"] = -1
    frame.loc[frame.index[:90], "savings"] = None
    ctx = make_ctx(roles, reference=reference, current=frame, model=german_model)
    r = run(ctx, severity=Severity.WARN, max_missing_share=0.1, ranges={"age": {"min": 0}})
    assert r.status is Status.WARN
    assert {v.metric for v in r.violations} == {
        "required[job]",
        "missing_share[savings]",
        "range[age]",
    }
    assert r.message.endswith("(and 2 more)")


def test_empty_and_absent_windows(roles, make_ctx, current):
    empty = run(make_ctx(roles, current=current.iloc[:0]))
    assert empty.status is Status.INSUFFICIENT_DATA and "no rows" in empty.message
    absent = run(make_ctx(roles, reference=current))
    assert absent.status is Status.ERROR and "needs a current data window" in absent.message


def test_params_validation():
    with pytest.raises(ValidationError):
        QualityParams(dtypes={"age": "integer"})
    with pytest.raises(ValidationError):
        QualityParams(unseen_categories={"max_share": 2})
    with pytest.raises(ValidationError):
        QualityParams(max_missing=0.1)
    with pytest.raises(ValidationError):
        QualityParams(max_missing_share={"age": 1.5})
    assert QualityCheck.needs_current is True
