"""The explainability check: explainer choice, mapping back to features, budget, rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from checks.base import (
    CheckContext,
    CheckResult,
    ColumnRoles,
    Dataset,
    Severity,
    Status,
    execute,
)
from checks.explainability import ExplainabilityCheck, ExplainabilityParams
from checks.shap_explain import explain, explainer_kind, output_sources

ROOT = Path(__file__).resolve().parents[2]
GERMAN_CSV = ROOT / "modelgate" / "demo_data" / "german_credit.csv"
TARGET = "credit_risk"


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    return pd.read_csv(GERMAN_CSV)


def features_of(df: pd.DataFrame, drop: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    cols = [c for c in df.columns if c not in (TARGET, *drop)]
    cat = [c for c in cols if df[c].dtype == object]
    return cat, [c for c in cols if c not in cat]


def pipeline(df: pd.DataFrame, estimator: Any, y: pd.Series | None = None, drop=()) -> Pipeline:
    cat, num = features_of(df, drop)
    pre = ColumnTransformer(
        [("num", StandardScaler(), num), ("cat", OneHotEncoder(handle_unknown="ignore"), cat)]
    )
    pipe = Pipeline([("pre", pre), ("model", estimator)])
    return pipe.fit(df[cat + num], df[TARGET] if y is None else y)


@pytest.fixture(scope="module")
def forest(german) -> Pipeline:
    return pipeline(german, RandomForestClassifier(60, max_depth=7, random_state=0, n_jobs=1))


@pytest.fixture(scope="module")
def proxy_forest(german) -> Pipeline:
    """A model whose labels follow `sex`, trained without `sex`: personal_status_sex proxies it."""
    rng = np.random.default_rng(0)
    biased = np.where(german["sex"].eq("female") ^ (rng.random(len(german)) < 0.1), "bad", "good")
    return pipeline(
        german,
        RandomForestClassifier(60, max_depth=6, random_state=0, n_jobs=1),
        pd.Series(biased),
        drop=("sex",),
    )


def make_ctx(df: pd.DataFrame, model: Any, **kw: Any) -> CheckContext:
    return CheckContext(
        roles=ColumnRoles(target=TARGET),
        reference=Dataset(df, "s3://bucket/german.parquet", "sha"),
        model=model,
        source="policies/high-risk.yaml:30",
        **kw,
    )


def run(ctx: CheckContext, **params: Any) -> CheckResult:
    return execute(
        ExplainabilityCheck(),
        ctx,
        ExplainabilityParams(**params),
        name="explainability",
        severity=Severity.BLOCK,
    )


# ----------------------------------------------------------------------- explainer choice


def test_tree_pipeline_uses_tree_explainer_on_original_features(german, forest):
    res = run(make_ctx(german, forest, time_budget_s=20))
    assert res.status is Status.PASS, res.message
    assert res.values["method"] == "tree"
    assert set(res.values["mean_abs_shap"]) == set(forest.feature_names_in_)
    assert sum(res.values["attribution_share"].values()) == pytest.approx(1.0)
    assert res.values["top_k"][0] == "checking_status"
    assert 0 < res.values["n_samples"] <= len(german)


def test_linear_model_uses_linear_explainer(german):
    model = pipeline(german, LogisticRegression(max_iter=2000))
    res = run(make_ctx(german, model))
    assert res.values["method"] == "linear"
    assert res.values["n_samples"] == len(german)  # linear SHAP is cheap: every row
    assert list(res.values["mean_abs_shap"]) == res.values["top_k"][:10] + [
        f for f in res.values["mean_abs_shap"] if f not in res.values["top_k"]
    ]
    assert set(res.values["mean_abs_shap"]) == set(model.feature_names_in_)  # 21 inputs


def test_other_models_use_permutation_shap(german):
    small = german.iloc[:300]
    model = pipeline(small, KNeighborsClassifier(15))
    res = run(make_ctx(small, model), time_budget_s=4, min_samples=10)
    assert res.values["method"] == "permutation"
    assert res.values["n_samples"] >= 5
    assert res.values["seconds"] < 8
    assert res.values["top_k"][0] in ("checking_status", "duration_months", "credit_history")


def test_explainer_kinds():
    assert explainer_kind(GradientBoostingClassifier()) == "tree"
    assert explainer_kind(RandomForestClassifier()) == "tree"
    assert explainer_kind(LogisticRegression()) == "linear"
    assert explainer_kind(KNeighborsClassifier()) == "permutation"


def test_permutation_shap_is_exact_for_a_linear_model(german):
    """For an additive model every ordering gives the exact Shapley value, so our permutation
    SHAP must equal shap.LinearExplainer's values, summed per original feature."""
    model = pipeline(german, LinearRegression(), y=german["credit_amount"] * 0.001)
    cat, num = features_of(german)
    cols = cat + num
    bg = german[cols].iloc[:50]  # the whole background, on both sides
    common = {"background": bg, "budget_s": 60, "max_samples": 40, "min_samples": 40, "top_k": 10}
    lin = explain(model, german, cols, explainer="linear", **common)
    perm = explain(model, german, cols, explainer="permutation", **common)
    assert lin.method == "linear" and perm.method == "permutation"
    np.testing.assert_allclose(perm.mean_abs, lin.mean_abs, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------- mapping to features


def test_output_sources_follow_column_transformers():
    df = pd.DataFrame(
        {
            "age": [30.0, np.nan, 50, 41],
            "age_group": ["young", "old", "old", "young"],
            "city": ["a", "b", "c", "a"],
            "flag": ["y", "n", "y", "n"],
            "kept": [1, 2, 3, 4],
        }
    )
    pre = ColumnTransformer(
        [
            ("num", SimpleImputer(add_indicator=True), ["age"]),
            ("grp", OneHotEncoder(), ["age_group", "city"]),
            (
                "bin",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(drop="if_binary")
                ),
                [3],
            ),
        ],
        remainder="passthrough",
    ).fit(df)
    sources = output_sources(pre, list(df.columns))
    assert len(sources) == pre.transform(df).shape[1]
    assert sources == [
        "age",
        "age",
        "age_group",
        "age_group",
        "city",
        "city",
        "city",
        "flag",
        "kept",
    ]
    pca = make_pipeline(StandardScaler(), PCA(2)).fit(df[["age", "kept"]].fillna(0))
    assert output_sources(pca, ["age", "kept"]) is None


def test_unmappable_pipeline_reports_transformed_columns(german):
    _, num = features_of(german)
    model = make_pipeline(StandardScaler(), PCA(3), LogisticRegression()).fit(
        german[num], german[TARGET]
    )
    res = run(make_ctx(german[num + [TARGET]], model))
    assert res.status is Status.PASS
    assert set(res.values["mean_abs_shap"]) == {"pca0", "pca1", "pca2"}
    assert "could not all be traced" in res.details["notes"][0]


# ----------------------------------------------------------------------- budget and agreement


@pytest.mark.slow
def test_sampled_top_k_agrees_with_full_computation(german):
    forest = pipeline(german, RandomForestClassifier(100, max_depth=8, random_state=0, n_jobs=1))
    cols = list(forest.feature_names_in_)
    bg = german[cols].iloc[:100]
    full = explain(forest, german, cols, background=bg, budget_s=1e9, max_samples=1000,
                   min_samples=1000, top_k=10)  # fmt: skip
    assert full.n == 1000 and full.stop_reason == "all rows explained"
    res = run(make_ctx(german, forest), time_budget_s=2, seed=1)
    sampled = res.values["top_k"]
    overlap = len(set(sampled) & set(full.ranking()[:10])) / 10
    assert res.values["n_samples"] < 1000, res.values["stop_reason"]
    assert res.values["seconds"] < full.seconds
    assert overlap >= 0.9, (sampled, full.ranking()[:10])
    assert sampled[:3] == full.ranking()[:3]


def test_time_budget_bounds_the_sample(german, forest):
    res = run(make_ctx(german, forest), time_budget_s=0.5, min_samples=1000)
    assert res.values["stop_reason"] == "time budget"
    assert res.values["n_samples"] < 1000
    assert res.values["seconds"] < 2.0


# ----------------------------------------------------------------------- rules


def test_forbidden_feature_share_fires_on_proxy_model(german, proxy_forest):
    res = run(make_ctx(german, proxy_forest), forbidden_features={"personal_status_sex": 0.10})
    share = res.values["attribution_share"]["personal_status_sex"]
    assert res.status is Status.FAIL
    assert share > 0.10
    assert (
        res.message == f"`personal_status_sex` carries {share * 100:.0f}% of attribution (max 10%)"
    )
    assert res.violations[0].metric == "attribution_share.personal_status_sex"
    assert res.violations[0].op == "<="


def test_forbidden_feature_share_passes_on_the_credit_model(german, forest):
    res = run(make_ctx(german, forest), forbidden_features={"personal_status_sex": 0.10})
    assert res.status is Status.PASS
    assert res.values["attribution_share"]["personal_status_sex"] < 0.10


def test_top_k_rules(german, proxy_forest):
    res = run(
        make_ctx(german, proxy_forest),
        top_k=3,
        forbidden_in_top_k=["personal_status_sex"],
        required_in_top_k=["checking_status", "sex"],
    )
    rank = res.values["top_k"].index("personal_status_sex") + 1
    messages = [v.message for v in res.violations]
    assert f"`personal_status_sex` is in the top 3 features (forbidden; rank {rank})" in messages
    assert "`sex` is not in the top 3 features (required; not a model input)" in messages
    assert any(m.startswith("`checking_status` is not in the top 3 features") for m in messages)
    assert "not model inputs (no attribution): sex" in res.details["notes"]


def test_champion_stability(german, forest, proxy_forest):
    same = pipeline(german, RandomForestClassifier(60, max_depth=7, random_state=5, n_jobs=1))
    ok = run(make_ctx(german, forest, champion_model=same), champion_stability={"min_overlap": 0.7})
    assert ok.status is Status.PASS, ok.message
    champ = ok.values["champion"]
    assert champ["top_k_overlap"] >= 0.7 and champ["kendall_tau"] > 0.6
    assert champ["n_samples"] == ok.values["n_samples"]  # explained on the same rows
    assert ok.details["rank_changes"]["checking_status"] == {"champion": 1, "candidate": 1}

    bad = run(
        make_ctx(german, proxy_forest, champion_model=forest),
        champion_stability={"min_overlap": 0.9},
    )
    v = next(v for v in bad.violations if v.metric == "champion_top_k_overlap")
    assert v.value < 0.9
    assert v.message.startswith(f"top-10 features overlap {v.value:.0%} with the champion's")
    assert "personal_status_sex" in v.message.split("new: ")[1]


def test_no_champion_is_noted_not_failed(german, forest):
    res = run(make_ctx(german, forest), champion_stability={"min_overlap": 0.8})
    assert res.status is Status.PASS
    assert "no champion model in production; stability not measured" in res.details["notes"]


# ----------------------------------------------------------------------- refusals and artifacts


def test_predictions_only_model_is_refused(german):
    res = run(make_ctx(german, None))
    assert res.status is Status.ERROR
    assert res.message.startswith("explainability needs a model artifact;")
    assert "predictions-only" in res.message


def test_missing_model_input_column(german, forest):
    res = run(make_ctx(german.drop(columns=["age", "purpose"]), forest))
    assert res.status is Status.ERROR
    assert "`purpose`, `age` not in s3://bucket/german.parquet" in res.message
    assert "policies/high-risk.yaml:30" in res.message


def test_too_few_rows(german, forest):
    res = run(make_ctx(german.iloc[:10], forest))
    assert res.status is Status.INSUFFICIENT_DATA


def test_png_written(tmp_path, german, forest):
    res = run(make_ctx(german, forest, artifacts_dir=tmp_path), time_budget_s=5)
    (png,) = res.artifacts
    assert png.media_type == "image/png"
    assert (tmp_path / png.path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_uses_current_window_when_given(german, forest):
    ctx = make_ctx(german, forest)
    ctx.current = Dataset(german.iloc[:200], "/data/current.parquet", "cur")
    res = run(ctx)
    assert res.values["data"] == "current"
    assert res.values["n_available"] == 200
