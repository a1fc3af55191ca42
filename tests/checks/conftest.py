"""Shared fixtures for the check tests: the German Credit data and a small model scoring it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from checks.base import CheckContext, ColumnRoles, Dataset

ROOT = Path(__file__).resolve().parents[2]
GERMAN_CSV = ROOT / "modelgate" / "demo_data" / "german_credit.csv"
CATEGORICAL = [
    "checking_status",
    "credit_history",
    "purpose",
    "savings",
    "employment_since",
    "housing",
    "job",
    "sex",
    "foreign_worker",
]
NUMERIC = ["duration_months", "credit_amount", "installment_rate", "age"]
FEATURES = CATEGORICAL + NUMERIC
TRAIN_ROWS = 700


def make_model(seed: int = 0) -> Pipeline:
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)], remainder="passthrough"
    )
    forest = RandomForestClassifier(n_estimators=40, max_depth=6, random_state=seed, n_jobs=1)
    return Pipeline([("encode", encode), ("forest", forest)])


@pytest.fixture(scope="session")
def german() -> pd.DataFrame:
    """The raw German Credit table plus `target` (1 = good credit risk)."""
    df = pd.read_csv(GERMAN_CSV)
    assert len(df) == 1000
    df["target"] = (df["credit_risk"] == "good").astype(int)
    return df


@pytest.fixture(scope="session")
def german_model(german: pd.DataFrame) -> Pipeline:
    train = german.iloc[:TRAIN_ROWS]
    return make_model().fit(train[FEATURES], train["target"])


@pytest.fixture(scope="session")
def scored(german: pd.DataFrame, german_model: Pipeline) -> pd.DataFrame:
    """All 1,000 rows with the model's `prediction` and `score` (P(good))."""
    df = german.copy()
    df["prediction"] = german_model.predict(df[FEATURES])
    df["score"] = german_model.predict_proba(df[FEATURES])[:, 1]
    return df


@pytest.fixture
def roles() -> ColumnRoles:
    return ColumnRoles(
        features=tuple(FEATURES),
        target="target",
        prediction="prediction",
        score="score",
        sensitive_features=("sex", "foreign_worker"),
        categorical=tuple(CATEGORICAL),
    )


def _dataset(frame: pd.DataFrame, uri: str) -> Dataset:
    return Dataset(frame=frame.reset_index(drop=True), uri=uri, sha256="0" * 64)


@pytest.fixture
def make_ctx() -> Callable[..., CheckContext]:
    """Build a CheckContext from frames: make_ctx(roles, reference=df, current=df, model=m)."""

    def build(roles: ColumnRoles, *, reference=None, current=None, **kw: Any) -> CheckContext:
        return CheckContext(
            roles=roles,
            reference=None if reference is None else _dataset(reference, "mem://reference.csv"),
            current=None if current is None else _dataset(current, "mem://current.csv"),
            source="policies/packs/test.yaml:3",
            **kw,
        )

    return build


@pytest.fixture
def features() -> list[str]:
    return list(FEATURES)


@pytest.fixture
def new_model() -> Callable[[], Pipeline]:
    """An unfitted OneHotEncoder + RandomForest pipeline for the German Credit features."""
    return make_model


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
