"""`modelgate demo`: the German Credit model end to end on the embedded default.

Trains two credit-risk models on the UCI German Credit data (see demo_data/README.md for the
attribution), saves them with skops, registers them as `credit-risk` v1 and v2 with their
lineage, puts v1 in production and v2 in staging, and prints what it did. Then it checks
v1 and v2 against their policies on this week's applicants, and v1 on a shifted window, and
shows each report as it would reach Slack (saved under MODELGATE_HOME/outbox/). Safe to
re-run: what already exists is reused, not duplicated.
"""

from __future__ import annotations

import json
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
DEMO_POLICY = Path(__file__).parent / "demo_data" / "policies" / "credit-risk.yaml"
MODEL = "credit-risk"
ACTOR = "demo"
TARGET = "good_credit"  # 1 = the applicant repaid (credit_risk == "good")
SENSITIVE = ["sex", "foreign_worker"]
# Protected attributes and their known proxies are never model inputs (v2 breaks that rule).
EXCLUDED = {"credit_risk", "sex", "personal_status_sex", "foreign_worker"}
SEED = 7
# Approve when P(repay) >= 0.7: a lender's cut-off, well above the 0.5 of plain accuracy.
DECISION_THRESHOLD = 0.7


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


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """60% training, 20% reference (validation, registered with the version), 20% held back
    as "this week's applicants": data neither model has seen."""
    from sklearn.model_selection import train_test_split

    train_df, rest = train_test_split(df, test_size=0.4, random_state=SEED, stratify=df[TARGET])
    reference, current = train_test_split(
        rest, test_size=0.5, random_state=SEED, stratify=rest[TARGET]
    )
    return train_df, reference, current


def train(df: pd.DataFrame, recipe: Recipe) -> tuple[Any, pd.DataFrame, dict[str, float]]:
    """Fit the model; returns it, the reference split with its predictions, and metrics.

    The decision threshold is part of the artifact (FixedThresholdClassifier), so whoever
    scores new data with it applies the same cut-off as the reference predictions.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    features = feature_columns(df, recipe)
    categorical = [c for c in features if df[c].dtype == object]
    train_df, reference, _ = split(df)
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    prep = ColumnTransformer(
        [("cat", encode, categorical)], remainder="passthrough", verbose_feature_names_out=False
    )
    forest = RandomForestClassifier(random_state=SEED, n_jobs=1, **recipe.params)
    model = FixedThresholdClassifier(
        Pipeline([("prep", prep), ("clf", forest)]), threshold=DECISION_THRESHOLD
    )
    model.fit(train_df[features], train_df[TARGET])
    reference = reference.copy()
    reference["score"] = model.predict_proba(reference[features])[:, 1]
    reference["prediction"] = model.predict(reference[features])
    y = reference[TARGET]
    metrics = {
        "accuracy": float(accuracy_score(y, reference["prediction"])),
        "f1": float(f1_score(y, reference["prediction"])),
        "roc_auc": float(roc_auc_score(y, reference["score"])),
    }
    return model, reference, metrics


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

    model, reference_df, metrics = train(df, recipe)
    vdir = workdir / recipe.version
    vdir.mkdir(parents=True, exist_ok=True)
    artifact = vdir / "model.skops"
    skops.io.dump(model, artifact)
    reference = vdir / "reference.csv"
    reference_df.to_csv(reference, index=False)
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
                "split": "60/20/20",
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
    policy_dir = settings.home / "policies"
    policy_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEMO_POLICY, policy_dir / DEMO_POLICY.name)
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
    summary["runs"] = _check(settings, console, df, workdir)
    return summary


def current_windows(df: pd.DataFrame, workdir: Path) -> dict[str, Path]:
    """Two windows of new applicants (raw columns with labels, no predictions): the held-back
    20%, and the same people as an older population asking for bigger, longer loans."""
    _, _, stable = split(df)
    shifted = stable.copy()
    shifted["age"] = shifted["age"] + 12
    shifted["credit_amount"] = (shifted["credit_amount"] * 1.6).round()
    shifted["duration_months"] = shifted["duration_months"] + 12
    out = {"stable": workdir / "current-stable.csv", "shifted": workdir / "current-shifted.csv"}
    stable.to_csv(out["stable"], index=False)
    shifted.to_csv(out["shifted"], index=False)
    return out


def _check(settings: Settings, console: Console, df: pd.DataFrame, workdir: Path) -> dict[str, Any]:
    """v1 on a stable window, v2 on the same, v1 on a shifted window. Each report goes to
    the console notifier, which shows what Slack would receive (no token needed)."""
    from rich.panel import Panel

    from bot.notify import ConsoleNotifier, as_text
    from modelgate.cli.checks import print_run
    from modelgate.runs.flows import run_artifacts_dir, run_now

    engine = make_engine(settings)
    notifier = ConsoleNotifier(settings, engine)
    windows = current_windows(df, workdir)
    plan = (
        ("v1", "stable", "v1 on this week's applicants"),
        ("v2", "stable", "v2 (uses a proxy for sex) on the same applicants"),
        ("v1", "shifted", "v1 on a shifted window: older applicants, bigger loans"),
    )
    runs: dict[str, Any] = {}
    for version, window, title in plan:
        console.rule(f"[bold]check: {title}")
        out = run_now(
            settings,
            model_name=MODEL,
            version=version,
            requested_by=ACTOR,
            trigger="demo",
            current_uri=windows[window].resolve().as_uri(),
            notifier=notifier,
        )
        print_run(out, report=run_artifacts_dir(settings, out.id) / "report.html", to=console)
        runs[f"{version}-{window}"] = out
        sent = notifier.sent[-1]
        doc = json.loads(sent.read_text())
        console.print(
            Panel(
                as_text(doc),
                title=f"Slack message to {doc['channel']} (saved as Block Kit: {sent})",
                title_align="left",
                border_style="dim",
            ),
            markup=False,
            highlight=False,
        )
    engine.dispose()
    return runs


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
