"""A predictions-only credit model on the real German Credit data, with a test policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelgate.db import session_scope
from modelgate.files import sha256_file
from modelgate.registry import service
from modelgate.registry.schemas import DataSchema, ModelCreate, VersionCreate

DATA = Path(__file__).resolve().parents[1] / "modelgate" / "demo_data" / "german_credit.csv"

POLICY = """\
name: test-policy
applies_to: {models: ["*"]}
checks:
  - type: quality
    params: {max_missing_share: 0.05}
  - type: kpi
    params:
      metrics: {roc_auc: {min: 0.6}}
  - type: fairness
    severity: warn
    params:
      sensitive_features: [sex]
      thresholds: {demographic_parity_ratio: {min: 0.5}}
  - type: drift
    severity: warn
    params: {drift_share: {max: 0.5}, html_report: false}
approvals:
  production: {roles: [ml-lead]}
"""


def scored(df: pd.DataFrame) -> pd.DataFrame:
    """A transparent scoring rule standing in for a model that logs its predictions."""
    out = df.copy()
    out["good_credit"] = (out["credit_risk"] == "good").astype(int)
    z = (
        0.9 * (out["checking_status"] == "no checking account")
        - 0.03 * out["duration_months"]
        + 0.01 * out["age"]
        - 0.00005 * out["credit_amount"]
        + 0.4
    )
    out["score"] = 1 / (1 + np.exp(-z))
    out["prediction"] = (out["score"] >= 0.5).astype(int)
    return out


@pytest.fixture
def credit_files(tmp_path: Path) -> dict[str, Path]:
    df = scored(pd.read_csv(DATA))
    files = {
        "reference": tmp_path / "reference.csv",
        "current": tmp_path / "current.csv",
        "shifted": tmp_path / "shifted.csv",
    }
    df.iloc[:500].to_csv(files["reference"], index=False)
    df.iloc[500:].to_csv(files["current"], index=False)
    shifted = df.iloc[500:].copy()
    shifted["age"] += 15
    shifted["credit_amount"] *= 2
    shifted.to_csv(files["shifted"], index=False)
    return files


@pytest.fixture
def run_settings(settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    (policy_dir / "test.yaml").write_text(POLICY)
    return settings.model_copy(update={"policy_paths": [policy_dir]})


@pytest.fixture
def scorer(engine, credit_files) -> str:  # type: ignore[no-untyped-def]
    """Model `scorer` (predictions-only) with version v1 registered; returns its name."""
    ref = credit_files["reference"]
    with session_scope(engine) as s:
        service.create_model(
            s,
            actor="ana",
            spec=ModelCreate(
                name="scorer", owner="ana", risk_tier="medium", flavor="predictions-only"
            ),
        )
        service.register_version(
            s,
            model_name="scorer",
            actor="ana",
            spec=VersionCreate(
                version="v1",
                data_schema=DataSchema(
                    features=[
                        "age",
                        "credit_amount",
                        "duration_months",
                        "checking_status",
                        "purpose",
                    ],
                    target="good_credit",
                    prediction="prediction",
                    score="score",
                    sensitive_features=["sex"],
                ),
                reference_data_uri=ref.as_uri(),
                reference_data_sha256=sha256_file(ref),
            ),
        )
    return "scorer"
