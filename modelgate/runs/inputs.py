"""Everything a run reads before the checks start: roles, datasets, models, the champion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from checks.base import CheckInputError, ColumnRoles, Dataset
from checks.data import ensure_predictions, load_dataset
from checks.models import load_model
from modelgate.config import Settings
from modelgate.registry.models import Model, ModelVersion
from modelgate.runs.service import latest_finished, results_of

log = logging.getLogger(__name__)


@dataclass
class VersionInfo:
    """Plain data read from the database, so files load outside any transaction."""

    model: str
    version: str
    flavor: str
    data_schema: dict[str, Any]
    artifact_uri: str | None
    artifact_sha256: str | None
    reference_uri: str | None


@dataclass
class RunInputs:
    roles: ColumnRoles
    reference: Dataset | None
    current: Dataset | None
    model: Any | None
    champion_model: Any | None = None
    champion_values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def version_info(model: Model, v: ModelVersion) -> VersionInfo:
    return VersionInfo(
        model=model.name,
        version=v.version,
        flavor=model.flavor,
        data_schema=dict(v.data_schema),
        artifact_uri=v.artifact_uri,
        artifact_sha256=v.artifact_sha256,
        reference_uri=v.reference_data_uri,
    )


def roles_of(schema: dict[str, Any]) -> ColumnRoles:
    cat = schema.get("categorical_features")
    return ColumnRoles(
        features=tuple(schema.get("features", ())),
        target=schema.get("target"),
        prediction=schema.get("prediction"),
        score=schema.get("score"),
        sensitive_features=tuple(schema.get("sensitive_features", ())),
        timestamp=schema.get("timestamp"),
        categorical=tuple(cat) if cat is not None else None,
    )


def expand_roles(value: Any, roles: ColumnRoles) -> Any:
    """Replace `@sensitive_features` / `@features` in params with the schema's columns:
    as list items they expand in place; as mapping keys each column gets the value."""
    names = {"@sensitive_features": roles.sensitive_features, "@features": roles.features}
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            out.extend(
                names[item]
                if isinstance(item, str) and item in names
                else [expand_roles(item, roles)]
            )
        return list(dict.fromkeys(out)) if all(isinstance(i, str) for i in out) else out
    if isinstance(value, dict):
        expanded: dict[Any, Any] = {}
        for key, item in value.items():
            if key in names:
                for col in names[key]:
                    expanded.setdefault(col, expand_roles(item, roles))
            else:
                expanded[key] = expand_roles(item, roles)  # explicit entries win
        return expanded
    return value


def champion_of(
    session: Session, model: Model, version: ModelVersion
) -> tuple[VersionInfo | None, dict[str, Any]]:
    """The production version (if it is another one) and its last measured values."""
    from modelgate.registry.lookup import stage_holder
    from modelgate.runs.service import PRODUCTION

    holder = stage_holder(session, model, PRODUCTION)
    if holder is None or holder.id == version.id:
        return None, {}
    values: dict[str, Any] = {}
    last = latest_finished(session, holder.id) if holder.id is not None else None
    if last is not None:
        for r in results_of(session, last.id):
            for k, val in r.values.items():
                if isinstance(val, int | float) and not isinstance(val, bool):
                    values.setdefault(k, val)
    return version_info(model, holder), values


def load_inputs(
    settings: Settings,
    info: VersionInfo,
    current_uri: str | None,
    champion: VersionInfo | None,
    champion_values: dict[str, Any],
) -> RunInputs:
    """Load data and models. Errors a person can fix raise CheckInputError."""
    roles = roles_of(info.data_schema)
    model = _model(settings, info)
    reference = (
        load_dataset(info.reference_uri, allow_http=settings.allow_http_data)
        if info.reference_uri
        else None
    )
    current = (
        load_dataset(current_uri, allow_http=settings.allow_http_data) if current_uri else None
    )
    if reference is None and current is None:
        raise CheckInputError(
            f"{info.model} {info.version} has no reference data and no current window was "
            "given: there is nothing to check (register reference_data_uri or pass current data)"
        )
    inputs = RunInputs(
        roles=roles,
        reference=reference,
        current=current,
        model=model,
        champion_values=champion_values,
    )
    if model is not None:  # score once here, so no check recomputes predictions
        for name in ("reference", "current"):
            ds = getattr(inputs, name)
            if ds is not None and _has_features(ds, roles):
                setattr(inputs, name, ensure_predictions(ds, roles, model, label=f"{name} data"))
    if champion is not None and champion.artifact_uri:
        try:
            inputs.champion_model = _model(settings, champion)
        except CheckInputError as exc:
            inputs.notes.append(f"champion {champion.version} not loaded: {exc}")
    return inputs


def _has_features(ds: Dataset, roles: ColumnRoles) -> bool:
    return all(c in ds.frame.columns for c in roles.features)


def _model(settings: Settings, info: VersionInfo) -> Any | None:
    if info.flavor != "sklearn" or not info.artifact_uri:
        return None
    return load_model(
        info.artifact_uri, expected_sha256=info.artifact_sha256, allow_pickle=settings.allow_pickle
    )
