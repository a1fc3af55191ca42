"""Finding registry rows: a model by name, a version by label, a stage's holder. Shared by
the writes (`service`) and the reads (`views`)."""

from __future__ import annotations

from sqlmodel import Session, select

from modelgate.errors import NotFound
from modelgate.registry.models import Model, ModelVersion


def get_model(session: Session, *, name: str, for_update: bool = False) -> Model:
    """The model by name. `for_update` locks its row until commit (PostgreSQL), which
    serialises stage changes per model; SQLite transactions are already exclusive."""
    query = select(Model).where(Model.name == name)
    model = session.exec(query.with_for_update() if for_update else query).first()
    if model is None:
        raise NotFound(f"no model named {name!r}", field="name")
    return model


def get_version(session: Session, *, model_name: str, version: str) -> ModelVersion:
    model = get_model(session, name=model_name)
    row = session.exec(
        select(ModelVersion).where(
            ModelVersion.model_id == model.id, ModelVersion.version == version
        )
    ).first()
    if row is None:
        raise NotFound(f"model {model_name!r} has no version {version!r}", field="version")
    return row


def stage_holder(session: Session, model: Model, stage: str) -> ModelVersion | None:
    return session.exec(
        select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.stage == stage)
    ).first()


def versions_of(session: Session, model: Model) -> list[ModelVersion]:
    return list(session.exec(select(ModelVersion).where(ModelVersion.model_id == model.id)).all())


def version_labels(session: Session, model: Model) -> dict[int | None, str]:
    return {v.id: v.version for v in versions_of(session, model)}
