"""Small builders for test data."""

from __future__ import annotations

from typing import Any

from modelgate.registry.schemas import ModelCreate, VersionCreate

SHA_A = "a" * 64
SHA_B = "b" * 64


def model_spec(name: str = "credit-risk", **overrides: Any) -> ModelCreate:
    data: dict[str, Any] = {
        "name": name,
        "owner": "ana@example.com",
        "team": "risk",
        "risk_tier": "high",
        "tags": ["credit"],
        "slack_channel": "#credit-risk",
        "flavor": "predictions-only",
    }
    data.update(overrides)
    return ModelCreate(**data)


def version_payload(version: str = "v1", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": version,
        "description": "baseline",
        "data_schema": {
            "features": ["age", "credit_amount", "purpose"],
            "target": "good_credit",
            "prediction": "prediction",
            "score": "score",
            "sensitive_features": ["sex"],
        },
        "reference_data_uri": "s3://bucket/credit/reference.parquet",
        "reference_data_sha256": SHA_A,
        "lineage": {
            "training_data_uri": "s3://bucket/credit/train.parquet",
            "training_data_sha256": SHA_B,
            "code_commit": "0123456789abcdef0123456789abcdef01234567",
            "hyperparameters": {"n_estimators": 200, "max_depth": 8, "criterion": "gini"},
            "random_seed": 42,
            "training_run_id": "run-17",
        },
        "metrics": {"accuracy": 0.74, "roc_auc": 0.79},
    }
    data.update(overrides)
    return data


def version_spec(version: str = "v1", **overrides: Any) -> VersionCreate:
    return VersionCreate(**version_payload(version, **overrides))
