"""model and version commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml

from modelgate.cli import context
from modelgate.cli.output import JsonOpt, console, emit_json, fields_table, table
from modelgate.db import session_scope
from modelgate.errors import InvalidInput
from modelgate.files import to_uri
from modelgate.registry import service
from modelgate.registry.schemas import ModelCreate, VersionCreate

model_app = typer.Typer(help="Register, list and inspect models.", no_args_is_help=True)
version_app = typer.Typer(help="Register, list and inspect model versions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
    app.add_typer(version_app, name="version")


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _pairs(items: list[str], *, option: str, numeric: bool = False) -> dict[str, Any]:
    """Parse k=v options; values are JSON where they parse (numbers, true/false), else text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{option} expects KEY=VALUE, got {item!r}", field=option)
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if numeric and not isinstance(value, int | float):
            raise InvalidInput(f"{option} {key}: {raw!r} is not a number", field=option)
        out[key.strip()] = value
    return out


@model_app.command("register")
def model_register(
    name: str = typer.Argument(..., help="Unique slug, e.g. credit-risk."),
    owner: str = typer.Option(..., help="Who answers for the model."),
    team: str = typer.Option("", help="Owning team."),
    risk_tier: str = typer.Option("medium", help="low, medium or high."),
    tag: list[str] = typer.Option([], help="A tag (repeatable)."),
    channel: str = typer.Option(None, help="Slack channel for reports, e.g. #credit-models."),
    flavor: str = typer.Option("sklearn", help="sklearn, predictions-only or http."),
    endpoint: str = typer.Option(None, help="Endpoint URL (flavor http)."),
    description: str = typer.Option("", help="What the model does."),
    json_out: bool = JsonOpt,
) -> None:
    """Register a new model."""
    spec = ModelCreate(
        name=name,
        owner=owner,
        team=team,
        risk_tier=risk_tier,
        tags=tag,
        slack_channel=channel,
        flavor=flavor,
        endpoint_url=endpoint,
        description=description,
    )
    s = context.settings()
    with session_scope(context.engine(s)) as session:
        out = service.model_out(
            session, service.create_model(session, spec=spec, actor=s.cli_actor())
        )
    if json_out:
        emit_json(out)
    else:
        console.print(f"registered model [bold]{out.name}[/] ({out.flavor}, risk {out.risk_tier})")


@model_app.command("list")
def model_list(
    risk_tier: str = typer.Option(None, help="Only this risk tier."),
    team: str = typer.Option(None, help="Only this team."),
    all_: bool = typer.Option(False, "--all", help="Include archived models."),
    limit: int = typer.Option(100, min=1, max=500),
    json_out: bool = JsonOpt,
) -> None:
    """List models with the version in each stage."""
    with session_scope(context.engine()) as session:
        rows, total = service.list_models(
            session, limit=limit, risk_tier=risk_tier, team=team, include_archived=all_
        )
        items = [service.model_out(session, m) for m in rows]
    if json_out:
        emit_json({"items": [i.model_dump(mode="json") for i in items], "total": total})
        return
    console.print(
        table(
            f"models ({total})",
            ["name", "risk", "owner", "team", "flavor", "stages"],
            [(m.name, m.risk_tier, m.owner, m.team, m.flavor, m.stages) for m in items],
        )
    )


@model_app.command("show")
def model_show(name: str, json_out: bool = JsonOpt) -> None:
    """Show a model: metadata, stages, versions and recent stage history."""
    s = context.settings()
    with session_scope(context.engine(s)) as session:
        model = service.model_out(session, service.get_model(session, name=name))
        stages = service.stages_view(session, model_name=name, stages=s.stages)
        versions, _ = service.list_versions(session, model_name=name, limit=20)
        history, _ = service.stage_history(session, model_name=name, limit=10)
    if json_out:
        emit_json(
            {
                "model": model.model_dump(mode="json"),
                "stages": stages.model_dump(mode="json"),
                "versions": [
                    {
                        "version": v.version,
                        "stage": v.stage,
                        "status": v.status,
                        "created_at": v.created_at.isoformat(),
                    }
                    for v in versions
                ],
                "history": [h.model_dump(mode="json") for h in history],
            }
        )
        return
    console.print(
        fields_table(
            f"model {model.name}",
            [
                ("description", model.description),
                ("owner", model.owner),
                ("team", model.team),
                ("risk tier", model.risk_tier),
                ("flavor", model.flavor),
                ("tags", model.tags),
                ("slack channel", model.slack_channel),
                ("created", model.created_at),
                ("last known good", stages.last_known_good),
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
            "versions (newest first)",
            ["version", "stage", "status", "created", "by"],
            [(v.version, v.stage, v.status, v.created_at, v.created_by) for v in versions],
        )
    )
    if history:
        console.print(
            table(
                "stage history",
                ["when", "stage", "from", "to", "by", "reason"],
                [(h.at, h.stage, h.from_version, h.to_version, h.actor, h.reason) for h in history],
            )
        )


@model_app.command("stage")
def model_stage(
    name: str,
    stage: str,
    version: str = typer.Argument(..., help="Version label, or 'none' to empty the stage."),
    reason: str = typer.Option(..., help="Why (kept in history and audit log)."),
    json_out: bool = JsonOpt,
) -> None:
    """Set a stage directly: the audited admin escape hatch (no approvals)."""
    s = context.settings()
    with session_scope(context.engine(s)) as session:
        service.set_stage(
            session,
            model_name=name,
            stage=stage,
            version=None if version == "none" else version,
            actor=s.cli_actor(),
            reason=reason,
            stages=s.stages,
            via="cli-admin",
        )
        out = service.stages_view(session, model_name=name, stages=s.stages)
    if json_out:
        emit_json(out)
    else:
        console.print(f"{name}: {stage} → {version}")


def _version_spec(spec_file: Path | None, **opts: Any) -> VersionCreate:
    data: dict[str, Any] = {}
    if spec_file is not None:
        if not spec_file.is_file():
            raise InvalidInput(f"--from-file: no such file {spec_file}", field="from_file")
        data = yaml.safe_load(spec_file.read_text()) or {}
        if not isinstance(data, dict):
            raise InvalidInput(f"{spec_file} must hold a mapping of version fields")
    schema = data.setdefault("data_schema", {})
    lineage = data.setdefault("lineage", {})
    for key, value in (
        ("features", _csv(opts["features"])),
        ("target", opts["target"]),
        ("prediction", opts["prediction"]),
        ("score", opts["score"]),
        ("sensitive_features", _csv(opts["sensitive"])),
        ("timestamp", opts["timestamp"]),
    ):
        if value:
            schema[key] = value
    if opts["categorical"]:
        schema["categorical_features"] = _csv(opts["categorical"])
    for location, sha, uri_key, sha_key, target in (
        (opts["artifact"], opts["artifact_sha256"], "artifact_uri", "artifact_sha256", data),
        (
            opts["reference"],
            opts["reference_sha256"],
            "reference_data_uri",
            "reference_data_sha256",
            data,
        ),
        (
            opts["train_data"],
            opts["train_data_sha256"],
            "training_data_uri",
            "training_data_sha256",
            lineage,
        ),
    ):
        if location:
            uri, digest = to_uri(location, field=uri_key)
            target[uri_key] = uri
            if digest or sha:
                target[sha_key] = sha or digest
    for key in (
        "data_version",
        "code_repository",
        "code_commit",
        "random_seed",
        "training_run_id",
        "training_run_url",
    ):
        if opts[key] is not None:
            lineage[key] = opts[key]
    lineage.setdefault("hyperparameters", {}).update(_pairs(opts["param"], option="--param"))
    data.setdefault("metrics", {}).update(_pairs(opts["metric"], option="--metric", numeric=True))
    data["version"] = opts["version"]
    if opts["description"]:
        data["description"] = opts["description"]
    if opts["tag"]:
        data["tags"] = opts["tag"]
    return VersionCreate.model_validate(data)


@version_app.command("register")
def version_register(
    model: str = typer.Argument(..., help="Model name."),
    version: str = typer.Argument(..., help="Version label, e.g. v3."),
    artifact: str = typer.Option(None, help="Model file (.skops) path or URI."),
    artifact_sha256: str = typer.Option(None, help="Needed for remote artifact URIs."),
    reference: str = typer.Option(None, help="Reference data (CSV/Parquet) path."),
    reference_sha256: str = typer.Option(None, help="Needed for remote reference data."),
    features: str = typer.Option(None, help="Feature columns, comma-separated."),
    target: str = typer.Option(None, help="Target (label) column."),
    prediction: str = typer.Option(None, help="Prediction column."),
    score: str = typer.Option(None, help="Score / probability column."),
    sensitive: str = typer.Option(None, help="Sensitive feature columns, comma-separated."),
    timestamp: str = typer.Option(None, help="Timestamp column."),
    categorical: str = typer.Option(None, help="Categorical features, comma-separated."),
    train_data: str = typer.Option(None, help="Training data path or URI."),
    train_data_sha256: str = typer.Option(None, help="Needed for remote training data."),
    data_version: str = typer.Option(None, help="Data version, e.g. a DVC revision."),
    code_repository: str = typer.Option(None, "--code-repo", help="Code repository URL."),
    code_commit: str = typer.Option(None, help="Git commit of the training code."),
    param: list[str] = typer.Option([], help="Hyperparameter KEY=VALUE (repeatable)."),
    random_seed: int = typer.Option(None, "--seed", help="Random seed used in training."),
    training_run_id: str = typer.Option(None, "--run-id", help="Training run id."),
    training_run_url: str = typer.Option(None, "--run-url", help="Training run URL."),
    metric: list[str] = typer.Option([], help="Training metric KEY=VALUE (repeatable)."),
    description: str = typer.Option("", help="What changed in this version."),
    tag: list[str] = typer.Option([], help="A tag (repeatable)."),
    from_file: Path = typer.Option(None, "--from-file", help="YAML/JSON file of version fields."),
    json_out: bool = JsonOpt,
) -> None:
    """Register a version with its lineage. Local files are hashed for you."""
    spec = _version_spec(
        from_file,
        **{k: v for k, v in locals().items() if k not in ("from_file", "model", "json_out")},
    )
    s = context.settings()
    with session_scope(context.engine(s)) as session:
        v = service.register_version(session, model_name=model, spec=spec, actor=s.cli_actor())
        out = service.version_out(service.get_model(session, name=model), v)
    if json_out:
        emit_json(out)
    else:
        console.print(
            f"registered [bold]{model}[/] version [bold]{out.version}[/]"
            + (f" (artifact sha256 {out.artifact_sha256[:12]}…)" if out.artifact_sha256 else "")
        )


@version_app.command("list")
def version_list(
    model: str, limit: int = typer.Option(50, min=1, max=500), json_out: bool = JsonOpt
) -> None:
    """List a model's versions, newest first."""
    with session_scope(context.engine()) as session:
        rows, total = service.list_versions(session, model_name=model, limit=limit)
        m = service.get_model(session, name=model)
        items = [service.version_out(m, v) for v in rows]
    if json_out:
        emit_json({"items": [i.model_dump(mode="json") for i in items], "total": total})
        return
    console.print(
        table(
            f"{model} versions ({total})",
            ["version", "stage", "status", "code commit", "seed", "created", "by"],
            [
                (
                    v.version,
                    v.stage,
                    v.status,
                    v.lineage.code_commit,
                    v.lineage.random_seed,
                    v.created_at,
                    v.created_by,
                )
                for v in items
            ],
        )
    )


@version_app.command("show")
def version_show(model: str, version: str, json_out: bool = JsonOpt) -> None:
    """Show a version: artifact, data schema, lineage and metrics."""
    with session_scope(context.engine()) as session:
        v = service.get_version(session, model_name=model, version=version)
        out = service.version_out(service.get_model(session, name=model), v)
    if json_out:
        emit_json(out)
        return
    ln = out.lineage
    console.print(
        fields_table(
            f"{model} {out.version}",
            [
                ("stage", out.stage),
                ("status", out.status),
                ("description", out.description),
                ("artifact", out.artifact_uri),
                ("artifact sha256", out.artifact_sha256),
                ("reference data", out.reference_data_uri),
                ("reference sha256", out.reference_data_sha256),
                ("created", f"{out.created_at:%Y-%m-%d %H:%M:%S} UTC by {out.created_by}"),
            ],
        )
    )
    console.print(fields_table("data schema", list(out.data_schema.items())))
    console.print(
        fields_table(
            "lineage",
            [
                ("training data", ln.training_data_uri),
                ("training data sha256", ln.training_data_sha256),
                ("data version", ln.data_version),
                ("code", ln.code_repository),
                ("commit", ln.code_commit),
                ("random seed", ln.random_seed),
                ("run", ln.training_run_id),
                ("run url", ln.training_run_url),
                ("hyperparameters", ln.hyperparameters),
            ],
        )
    )
    if out.metrics:
        console.print(
            table(
                "training metrics",
                ["metric", "value"],
                [(k, f"{v:.4f}") for k, v in out.metrics.items()],
            )
        )
