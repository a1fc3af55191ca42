"""`modelgate demo`: the German Credit model end to end on the embedded default.

Trains two credit-risk models on the UCI German Credit data (see demo_data/README.md for the
attribution), saves them with skops, registers them as `credit-risk` v1 and v2 with their
lineage, puts v1 in production and v2 in staging, and prints what it did. Safe to re-run:
what already exists is reused, not duplicated.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from modelgate.config import Settings
from modelgate.db import make_engine, session_scope, upgrade
from modelgate.errors import NotFound
from modelgate.files import sha256_file
from modelgate.registry import service
from modelgate.registry.schemas import DataSchema, Lineage, ModelCreate, VersionCreate

DATA_FILE = Path(__file__).parent / "demo_data" / "german_credit.csv"
MODEL = "credit-risk"
ACTOR = "demo"
TARGET = "good_credit"  # 1 = the applicant repaid (credit_risk == "good")
SENSITIVE = ["sex", "foreign_worker"]
EXCLUDED = {"credit_risk", "sex", "personal_status_sex"}
SEED = 42


@dataclass(frozen=True)
class Recipe:
    version: str
    description: str
    extra_features: tuple[str, ...]
    params: dict[str, Any]


RECIPES = (
    Recipe(
        "v1",
        "Random forest without protected attributes or their proxies",
        (),
        {"n_estimators": 200, "max_depth": 8, "min_samples_leaf": 5},
    ),
    Recipe(
        "v2",
        "Adds personal_status_sex, a proxy for sex (should not pass review)",
        ("personal_status_sex",),
        {"n_estimators": 300, "max_depth": 10, "min_samples_leaf": 3},
    ),
)


def load_credit_data() -> pd.DataFrame:
    df = pd.read_csv(DATA_FILE)
    df[TARGET] = (df["credit_risk"] == "good").astype(int)
    return df


def feature_columns(df: pd.DataFrame, recipe: Recipe) -> list[str]:
    base = [c for c in df.columns if c not in EXCLUDED | {TARGET}]
    return base + list(recipe.extra_features)


def train(df: pd.DataFrame, recipe: Recipe) -> tuple[Any, pd.DataFrame, dict[str, float]]:
    """Fit the pipeline; returns it, the held-out split with predictions, and its metrics."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    features = feature_columns(df, recipe)
    categorical = [c for c in features if df[c].dtype == object]
    train_df, test_df = train_test_split(df, test_size=0.3, random_state=SEED, stratify=df[TARGET])
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                            categorical,
                        )
                    ],
                    remainder="passthrough",
                    verbose_feature_names_out=False,
                ),
            ),
            ("clf", RandomForestClassifier(random_state=SEED, n_jobs=1, **recipe.params)),
        ]
    )
    pipe.fit(train_df[features], train_df[TARGET])
    held_out = test_df.copy()
    held_out["score"] = pipe.predict_proba(held_out[features])[:, 1]
    held_out["prediction"] = (held_out["score"] >= 0.5).astype(int)
    metrics = {
        "accuracy": float(accuracy_score(held_out[TARGET], held_out["prediction"])),
        "f1": float(f1_score(held_out[TARGET], held_out["prediction"])),
        "roc_auc": float(roc_auc_score(held_out[TARGET], held_out["score"])),
    }
    return pipe, held_out, metrics


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if len(commit) >= 7 else None


def build_version(
    df: pd.DataFrame, recipe: Recipe, workdir: Path, train_uri: str, train_sha: str
) -> VersionCreate:
    import skops.io

    pipe, held_out, metrics = train(df, recipe)
    vdir = workdir / recipe.version
    vdir.mkdir(parents=True, exist_ok=True)
    artifact = vdir / "model.skops"
    skops.io.dump(pipe, artifact)
    reference = vdir / "reference.csv"
    held_out.to_csv(reference, index=False)
    features = feature_columns(df, recipe)
    return VersionCreate(
        version=recipe.version,
        description=recipe.description,
        artifact_uri=artifact.resolve().as_uri(),
        artifact_sha256=sha256_file(artifact),
        data_schema=DataSchema(
            features=features,
            target=TARGET,
            prediction="prediction",
            score="score",
            sensitive_features=SENSITIVE,
            categorical_features=[c for c in features if df[c].dtype == object],
        ),
        reference_data_uri=reference.resolve().as_uri(),
        reference_data_sha256=sha256_file(reference),
        lineage=Lineage(
            training_data_uri=train_uri,
            training_data_sha256=train_sha,
            code_repository="https://github.com/modelgate/modelgate",
            code_commit=_git_commit(),
            hyperparameters={
                "estimator": "RandomForestClassifier",
                **recipe.params,
                "test_size": 0.3,
            },
            random_seed=SEED,
            training_run_id=f"demo-{recipe.version}",
        ),
        metrics=metrics,
    )


def run_demo(settings: Settings, console: Console) -> dict[str, Any]:
    """Run the demo; returns a summary (used by tests)."""
    engine = make_engine(settings)
    upgrade(engine)
    workdir = settings.home / "demo" / MODEL
    workdir.mkdir(parents=True, exist_ok=True)
    train_copy = workdir / "german_credit.csv"
    shutil.copyfile(DATA_FILE, train_copy)
    train_uri, train_sha = train_copy.resolve().as_uri(), sha256_file(train_copy)
    df = load_credit_data()
    notes: list[str] = []

    with session_scope(engine) as s:
        try:
            service.get_model(s, name=MODEL)
            notes.append(f"model {MODEL} already registered; reusing it")
        except NotFound:
            service.create_model(
                s,
                actor=ACTOR,
                spec=ModelCreate(
                    name=MODEL,
                    owner="risk-analytics@example.com",
                    team="credit-risk",
                    risk_tier="high",
                    tags=["credit", "tabular", "demo"],
                    slack_channel="#credit-risk-models",
                    flavor="sklearn",
                    description="Predicts whether a loan applicant repays (UCI German Credit).",
                ),
            )
    for recipe in RECIPES:
        with session_scope(engine) as s:
            try:
                service.get_version(s, model_name=MODEL, version=recipe.version)
                notes.append(f"version {recipe.version} already registered; reusing it")
                continue
            except NotFound:
                pass
        console.print(f"training {MODEL} {recipe.version}: {recipe.description} …")
        spec = build_version(df, recipe, workdir, train_uri, train_sha)
        with session_scope(engine) as s:
            service.register_version(s, model_name=MODEL, spec=spec, actor=ACTOR)
    with session_scope(engine) as s:
        for stage, version in (("production", "v1"), ("staging", "v2")):
            service.set_stage(
                s,
                model_name=MODEL,
                stage=stage,
                version=version,
                actor=ACTOR,
                reason="demo: initial rollout",
                stages=settings.stages,
                via="demo",
            )
    summary = _show(engine, settings, console, notes)
    return summary


def _show(engine: Any, settings: Settings, console: Console, notes: list[str]) -> dict[str, Any]:
    from modelgate.audit import verify
    from modelgate.cli.output import fields_table, table

    with session_scope(engine) as s:
        versions, _ = service.list_versions(s, model_name=MODEL)
        model = service.get_model(s, name=MODEL)
        outs = [service.version_out(model, v) for v in reversed(versions)]
        stages = service.stages_view(s, model_name=MODEL, stages=settings.stages)
        history, _ = service.stage_history(s, model_name=MODEL, limit=20)
        chain = verify(s)
    for note in notes:
        console.print(f"[dim]{note}[/]")
    console.print()
    console.print(
        table(
            f"model {MODEL} — versions and lineage",
            [
                "version",
                "stage",
                "accuracy",
                "roc_auc",
                "seed",
                "commit",
                "training data",
            ],
            [
                (
                    v.version,
                    v.stage,
                    f"{v.metrics.get('accuracy', float('nan')):.3f}",
                    f"{v.metrics.get('roc_auc', float('nan')):.3f}",
                    v.lineage.random_seed,
                    (v.lineage.code_commit or "")[:8] or None,
                    "sha256:" + (v.lineage.training_data_sha256 or "")[:10],
                )
                for v in outs
            ],
        )
    )
    console.print(
        table(
            "stages",
            ["stage", "version", "since", "by"],
            [(h.stage, h.version, h.since, h.by) for h in stages.stages],
        )
    )
    console.print(
        table(
            "stage history (newest first)",
            ["when", "stage", "from", "to", "by"],
            [(h.at, h.stage, h.from_version, h.to_version, h.actor) for h in history],
        )
    )
    console.print(
        fields_table(
            "audit log",
            [
                ("entries", chain.entries),
                (
                    "hash chain",
                    "intact" if chain.ok else f"BROKEN at {chain.broken_at}: {chain.reason}",
                ),
                ("database", engine.url.render_as_string(hide_password=True)),
            ],
        )
    )
    return {"versions": {v.version: v for v in outs}, "stages": stages, "audit": chain}
