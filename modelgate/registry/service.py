"""Registry operations. Every change writes its audit entry in the same transaction.

Functions take an open Session and keyword-only arguments; the caller owns the transaction
(`db.session_scope`), so an error anywhere leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from modelgate import audit
from modelgate.config import ARCHIVED
from modelgate.errors import Conflict, InvalidInput

# The lookups and the read side live in their own modules; callers keep using `service.*`.
from modelgate.registry.lookup import get_model as get_model
from modelgate.registry.lookup import get_version as get_version
from modelgate.registry.lookup import stage_holder, versions_of
from modelgate.registry.models import Model, ModelVersion, StageTransition
from modelgate.registry.schemas import (
    ModelCreate,
    ModelUpdate,
    VersionCreate,
    VersionUpdate,
)
from modelgate.registry.views import LINEAGE_FIELDS as LINEAGE_FIELDS
from modelgate.registry.views import last_known_good as last_known_good
from modelgate.registry.views import model_out as model_out
from modelgate.registry.views import stage_history as stage_history
from modelgate.registry.views import stages_view as stages_view
from modelgate.registry.views import version_in_stage_at as version_in_stage_at
from modelgate.registry.views import version_out as version_out
from modelgate.types import utcnow


def model_subject(name: str, version: str | None = None) -> str:
    return f"model/{name}" + (f"/version/{version}" if version else "")


# ---------------------------------------------------------------- models


def create_model(session: Session, *, spec: ModelCreate, actor: str) -> Model:
    if session.exec(select(Model.id).where(Model.name == spec.name)).first() is not None:
        raise Conflict(f"model {spec.name!r} already exists", field="name")
    model = Model(**spec.model_dump(), created_by=actor)
    session.add(model)
    _flush_or_conflict(session, f"model {spec.name!r} already exists", field="name")
    audit.record(
        session,
        actor=actor,
        action="model.create",
        subject=model_subject(spec.name),
        payload=spec.model_dump(mode="json"),
    )
    return model


def list_models(
    session: Session,
    *,
    limit: int = 50,
    offset: int = 0,
    risk_tier: str | None = None,
    team: str | None = None,
    include_archived: bool = False,
) -> tuple[list[Model], int]:
    query = select(Model)
    if risk_tier:
        query = query.where(Model.risk_tier == risk_tier)
    if team:
        query = query.where(Model.team == team)
    if not include_archived:
        query = query.where(col(Model.archived_at).is_(None))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Model.name)).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def update_model(session: Session, *, name: str, patch: ModelUpdate, actor: str) -> Model:
    model = get_model(session, name=name)
    changes = _apply(model, patch.model_dump(exclude_unset=True, mode="json"))
    if model.flavor == "http" and not model.endpoint_url:
        raise InvalidInput("flavor 'http' needs endpoint_url", field="endpoint_url")
    if changes:
        model.updated_at = utcnow()
        session.add(model)
        audit.record(
            session,
            actor=actor,
            action="model.update",
            subject=model_subject(name),
            payload={"changes": changes},
        )
    return model


def archive_model(session: Session, *, name: str, actor: str, reason: str) -> Model:
    """Archive a model and all its versions (nothing is deleted)."""
    model = get_model(session, name=name, for_update=True)
    if model.archived_at is not None:
        return model
    for version in versions_of(session, model):
        if version.status != ARCHIVED:
            _archive_version(session, model, version, actor=actor, reason=reason)
    model.archived_at = model.updated_at = utcnow()
    session.add(model)
    audit.record(
        session,
        actor=actor,
        action="model.archive",
        subject=model_subject(name),
        payload={"reason": reason},
    )
    return model


# ---------------------------------------------------------------- versions


def register_version(
    session: Session, *, model_name: str, spec: VersionCreate, actor: str
) -> ModelVersion:
    model = get_model(session, name=model_name)
    if model.archived_at is not None:
        raise Conflict(f"model {model_name!r} is archived; it takes no new versions")
    if model.flavor == "sklearn" and not spec.artifact_uri:
        raise InvalidInput(
            f"model {model_name!r} has flavor 'sklearn': the version needs an "
            "artifact_uri (a .skops file) and its artifact_sha256",
            field="artifact_uri",
        )
    exists = session.exec(
        select(ModelVersion.id).where(
            ModelVersion.model_id == model.id, ModelVersion.version == spec.version
        )
    ).first()
    if exists is not None:
        raise Conflict(
            f"model {model_name!r} already has version {spec.version!r}; "
            "versions are immutable, register a new label",
            field="version",
        )
    data = spec.model_dump(exclude={"lineage", "data_schema"})
    version = ModelVersion(
        model_id=model.id,
        **data,
        **spec.lineage.model_dump(mode="json"),
        data_schema=spec.data_schema.model_dump(mode="json", exclude_none=True),
        created_by=actor,
    )
    session.add(version)
    _flush_or_conflict(
        session, f"model {model_name!r} already has version {spec.version!r}", field="version"
    )
    audit.record(
        session,
        actor=actor,
        action="version.register",
        subject=model_subject(model_name, spec.version),
        payload=spec.model_dump(mode="json"),
    )
    return version


def list_versions(
    session: Session,
    *,
    model_name: str,
    limit: int = 50,
    offset: int = 0,
    include_archived: bool = True,
) -> tuple[list[ModelVersion], int]:
    model = get_model(session, name=model_name)
    query = select(ModelVersion).where(ModelVersion.model_id == model.id)
    if not include_archived:
        query = query.where(ModelVersion.status != ARCHIVED)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(ModelVersion.created_at).desc(), col(ModelVersion.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(total)


def update_version(
    session: Session, *, model_name: str, version: str, patch: VersionUpdate, actor: str
) -> ModelVersion:
    row = get_version(session, model_name=model_name, version=version)
    changes = _apply(row, patch.model_dump(exclude_unset=True, mode="json"))
    if changes:
        row.updated_at = utcnow()
        session.add(row)
        audit.record(
            session,
            actor=actor,
            action="version.update",
            subject=model_subject(model_name, version),
            payload={"changes": changes},
        )
    return row


def archive_version(
    session: Session, *, model_name: str, version: str, actor: str, reason: str
) -> ModelVersion:
    model = get_model(session, name=model_name, for_update=True)
    row = get_version(session, model_name=model_name, version=version)
    if row.status == ARCHIVED:
        return row
    _archive_version(session, model, row, actor=actor, reason=reason)
    return row


def _archive_version(
    session: Session, model: Model, row: ModelVersion, *, actor: str, reason: str
) -> None:
    if row.stage is not None:
        _move(session, model, stage=row.stage, new=None, actor=actor, reason=reason, via="archive")
    row.status = ARCHIVED
    row.archived_at = row.updated_at = utcnow()
    session.add(row)
    session.add(
        StageTransition(
            model_id=model.id,
            stage=ARCHIVED,
            from_version_id=None,
            to_version_id=row.id,
            actor=actor,
            reason=reason,
            via="archive",
        )
    )
    audit.record(
        session,
        actor=actor,
        action="version.archive",
        subject=model_subject(model.name, row.version),
        payload={"reason": reason},
    )


# ---------------------------------------------------------------- stages


def set_stage(
    session: Session,
    *,
    model_name: str,
    stage: str,
    version: str | None,
    actor: str,
    reason: str,
    stages: Sequence[str],
    via: str = "api",
) -> ModelVersion | None:
    """Put `version` in `stage` (or empty the stage with None), recording history and audit.

    The version leaves the stage it held before; the previous holder of `stage` is left with
    no stage. A no-op if the version already holds the stage.
    """
    if stage not in stages:
        raise InvalidInput(
            f"unknown stage {stage!r}; stages are {', '.join(stages)}", field="stage"
        )
    model = get_model(session, name=model_name)
    target = get_version(session, model_name=model_name, version=version) if version else None
    if target is not None and target.status == ARCHIVED:
        raise Conflict(f"version {version!r} of {model_name!r} is archived and cannot take a stage")
    holder = stage_holder(session, model, stage)
    if (holder.id if holder else None) == (target.id if target else None):
        return target
    if target is not None and target.stage is not None:
        _move(session, model, stage=target.stage, new=None, actor=actor, reason=reason, via=via)
    _move(session, model, stage=stage, new=target, actor=actor, reason=reason, via=via)
    audit.record(
        session,
        actor=actor,
        action="stage.set",
        subject=model_subject(model_name),
        payload={
            "stage": stage,
            "from_version": holder.version if holder else None,
            "to_version": version,
            "reason": reason,
            "via": via,
        },
    )
    return target


def check_stage(stage: str, stages: Sequence[str]) -> None:
    if stage not in stages:
        raise InvalidInput(
            f"unknown stage {stage!r}; stages are {', '.join(stages)}", field="stage"
        )


def _move(
    session: Session,
    model: Model,
    *,
    stage: str,
    new: ModelVersion | None,
    actor: str,
    reason: str,
    via: str,
) -> None:
    """Change who holds one stage; the only place `ModelVersion.stage` is written."""
    old = stage_holder(session, model, stage)
    if old is not None:
        old.stage = None
        old.updated_at = utcnow()
        session.add(old)
        session.flush()  # free the (model, stage) slot before the new holder takes it
    if new is not None:
        new.stage = stage
        new.updated_at = utcnow()
        session.add(new)
    session.add(
        StageTransition(
            model_id=model.id,
            stage=stage,
            from_version_id=old.id if old else None,
            to_version_id=new.id if new else None,
            actor=actor,
            reason=reason,
            via=via,
        )
    )
    _flush_or_conflict(
        session, f"stage {stage!r} of {model.name!r} was changed concurrently; retry"
    )


# ---------------------------------------------------------------- helpers


def _apply(row: Any, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for key, new in values.items():
        old = getattr(row, key)
        if old != new:
            changes[key] = {"from": old, "to": new}
            setattr(row, key, new)
    return changes


def _flush_or_conflict(session: Session, message: str, *, field: str | None = None) -> None:
    """Flush; a unique-constraint race (another writer got there first) becomes a Conflict."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(message, field=field) from exc
