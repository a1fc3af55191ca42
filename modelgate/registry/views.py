"""Reading the registry: who holds each stage, stage history, the holder at a time, last
known good, and the API's output shapes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from modelgate.config import ARCHIVED
from modelgate.registry.lookup import get_model, stage_holder, version_labels
from modelgate.registry.models import Model, ModelVersion, StageTransition
from modelgate.registry.schemas import (
    Lineage,
    ModelOut,
    StageHolder,
    StagesOut,
    TransitionOut,
    VersionOut,
)

LINEAGE_FIELDS = tuple(Lineage.model_fields)


def stages_view(session: Session, *, model_name: str, stages: Sequence[str]) -> StagesOut:
    model = get_model(session, name=model_name)
    holders = {
        v.stage: v
        for v in session.exec(
            select(ModelVersion).where(
                ModelVersion.model_id == model.id, col(ModelVersion.stage).is_not(None)
            )
        ).all()
    }
    out: list[StageHolder] = []
    for stage in stages:
        v = holders.get(stage)
        last = session.exec(
            select(StageTransition)
            .where(
                StageTransition.model_id == model.id,
                StageTransition.stage == stage,
            )
            .order_by(col(StageTransition.created_at).desc(), col(StageTransition.id).desc())
        ).first()
        out.append(
            StageHolder(
                stage=stage,
                version=v.version if v else None,
                since=last.created_at if (last and v) else None,
                by=last.actor if (last and v) else None,
            )
        )
    return StagesOut(
        model=model.name,
        stages=out,
        last_known_good=last_known_good(session, model_name=model_name),
    )


def stage_history(
    session: Session,
    *,
    model_name: str,
    stage: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[TransitionOut], int]:
    model = get_model(session, name=model_name)
    query = select(StageTransition).where(StageTransition.model_id == model.id)
    if stage:
        query = query.where(StageTransition.stage == stage)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(StageTransition.created_at).desc(), col(StageTransition.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    labels = version_labels(session, model)
    return [
        TransitionOut(
            stage=t.stage,
            from_version=labels.get(t.from_version_id),
            to_version=labels.get(t.to_version_id),
            actor=t.actor,
            reason=t.reason,
            via=t.via,
            at=t.created_at,
        )
        for t in rows
    ], int(total)


def version_in_stage_at(
    session: Session, *, model_name: str, stage: str, at: datetime
) -> str | None:
    """Which version held `stage` at time `at` (None if the stage was empty)."""
    model = get_model(session, name=model_name)
    last = session.exec(
        select(StageTransition)
        .where(
            StageTransition.model_id == model.id,
            StageTransition.stage == stage,
            StageTransition.created_at <= at,
        )
        .order_by(col(StageTransition.created_at).desc(), col(StageTransition.id).desc())
    ).first()
    if last is None or last.to_version_id is None:
        return None
    return version_labels(session, model).get(last.to_version_id)


def last_known_good(session: Session, *, model_name: str, stage: str = "production") -> str | None:
    """The most recent earlier holder of `stage` that is not the current one nor archived."""
    model = get_model(session, name=model_name)
    current = stage_holder(session, model, stage)
    rows = session.exec(
        select(StageTransition.to_version_id)
        .where(
            StageTransition.model_id == model.id,
            StageTransition.stage == stage,
            col(StageTransition.to_version_id).is_not(None),
        )
        .order_by(col(StageTransition.created_at).desc(), col(StageTransition.id).desc())
    ).all()
    for vid in rows:
        if current is not None and vid == current.id:
            continue
        v = session.get(ModelVersion, vid)
        if v is not None and v.status != ARCHIVED:
            return v.version
    return None


def model_out(session: Session, model: Model) -> ModelOut:
    stages = {
        v.stage: v.version
        for v in session.exec(
            select(ModelVersion).where(
                ModelVersion.model_id == model.id, col(ModelVersion.stage).is_not(None)
            )
        ).all()
        if v.stage
    }
    return ModelOut(**model.model_dump(exclude={"id"}), stages=stages)


def version_out(model: Model, v: ModelVersion) -> VersionOut:
    data = v.model_dump(exclude={"id", "model_id", *LINEAGE_FIELDS})
    lineage = Lineage.model_construct(**{f: getattr(v, f) for f in LINEAGE_FIELDS})
    return VersionOut(model=model.name, lineage=lineage, **data)
