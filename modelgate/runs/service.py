"""Run records: create, claim, finish, read. Transitions are conditional updates."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from checks.base import CheckResult
from modelgate import audit
from modelgate.errors import Conflict, NotFound
from modelgate.registry import service as registry
from modelgate.registry.lookup import stage_holder
from modelgate.registry.models import Model, ModelVersion
from modelgate.registry.service import model_subject
from modelgate.runs.models import CheckResultRow, CheckRun
from modelgate.runs.schemas import RunOut
from modelgate.runs.state import FINISHED, TRANSITIONS, RunStatus, summary
from modelgate.types import utcnow
from policies.schema import EffectivePolicy


def create_run(
    session: Session,
    *,
    model_name: str,
    version: str,
    policy: EffectivePolicy,
    requested_by: str,
    trigger: str,
    current_data_uri: str | None = None,
    notify: dict[str, Any] | None = None,
    active_key: str | None = None,
) -> CheckRun:
    model = registry.get_model(session, name=model_name)
    v = registry.get_version(session, model_name=model_name, version=version)
    if v.status == "archived":
        raise Conflict(f"version {version!r} of {model_name!r} is archived; check an active one")
    run = CheckRun(
        notify=notify,
        active_key=active_key,
        id=uuid.uuid4().hex,
        model_id=model.id,
        version_id=v.id,
        trigger=trigger,
        requested_by=requested_by,
        current_data_uri=current_data_uri,
        policy_sha256=policy.sha256,
        policy=policy.model_dump(mode="json"),
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=requested_by,
        action="run.create",
        subject=model_subject(model_name, version),
        payload={
            "run": run.id,
            "trigger": trigger,
            "policy_sha256": policy.sha256,
            "current_data_uri": current_data_uri,
        },
    )
    return run


PRODUCTION = "production"


def default_version(session: Session, *, model_name: str) -> str:
    """The version a check runs on when none is named: production's, else the newest."""
    prod = stage_holder(session, registry.get_model(session, name=model_name), PRODUCTION)
    if prod is not None:
        return prod.version
    versions, _ = registry.list_versions(
        session, model_name=model_name, limit=1, include_archived=False
    )
    if not versions:
        raise NotFound(f"model {model_name!r} has no active versions to check")
    return versions[0].version


def active_key(version_id: int, current_data_uri: str | None, policy_sha256: str) -> str:
    """What makes two requests the same work: the version, the window and the policy."""
    text = f"{version_id}|{current_data_uri or ''}|{policy_sha256}"
    return hashlib.sha256(text.encode()).hexdigest()


def start_or_join_run(
    session: Session,
    *,
    model_name: str,
    version: str,
    policy: EffectivePolicy,
    requested_by: str,
    trigger: str,
    current_data_uri: str | None = None,
    notify: dict[str, Any] | None = None,
) -> tuple[CheckRun, bool]:
    """Create a run, or return the queued/running run already doing the same work (a double
    click, a retried request); the bool says whether a new run was created. The unique
    `active_key` makes this safe under concurrency: the loser of a race joins the winner."""
    v = registry.get_version(session, model_name=model_name, version=version)
    key = active_key(v.id, current_data_uri, policy.sha256)  # type: ignore[arg-type]
    existing = _active(session, key)
    if existing is not None and not _abandon_if_stale(session, existing):
        return existing, False
    try:
        with session.begin_nested():
            run = create_run(
                session,
                model_name=model_name,
                version=version,
                policy=policy,
                requested_by=requested_by,
                trigger=trigger,
                current_data_uri=current_data_uri,
                notify=notify,
                active_key=key,
            )
    except IntegrityError:
        existing = _active(session, key)
        if existing is None:  # it finished between the insert and this read: start afresh
            raise Conflict("an identical run just finished; ask again to start a new one") from None
        return existing, False
    return run, True


STALE_MARGIN = timedelta(minutes=10)  # loading data and models, on top of the check timeouts


def stale_after(run: CheckRun) -> timedelta:
    """How long a run may take at most: its checks' timeouts, plus loading."""
    checks = run.policy.get("checks") or []
    return STALE_MARGIN + timedelta(seconds=sum(float(c.get("timeout_s", 300)) for c in checks))


def _abandon_if_stale(session: Session, run: CheckRun) -> bool:
    """A run queued or running for longer than it possibly can (its worker died with the
    server) is marked errored, so it stops holding its place; True if it was."""
    started = run.started_at or run.created_at
    if utcnow() - started <= stale_after(run):
        return False
    return _transition(
        session,
        run.id,
        RunStatus.ERRORED,
        finished_at=utcnow(),
        error="abandoned: no result within the checks' time limits (the worker was lost)",
    )


def _active(session: Session, key: str) -> CheckRun | None:
    return session.exec(select(CheckRun).where(CheckRun.active_key == key)).first()


def set_notify(session: Session, run_id: str, notify: dict[str, Any]) -> None:
    """Record where the run reports back (e.g. the Slack message to update)."""
    session.execute(update(CheckRun).where(col(CheckRun.id) == run_id).values(notify=notify))


def _transition(session: Session, run_id: str, to: RunStatus, **values: Any) -> bool:
    """Move a run to `to` if its current status allows it; False if it was not allowed
    (already claimed, already finished): the caller then does nothing."""
    allowed_from = [s.value for s, targets in TRANSITIONS.items() if to in targets]
    if to in FINISHED:
        values["active_key"] = None  # the same work may be requested again
    result = session.execute(
        update(CheckRun)
        .where(CheckRun.id == run_id, col(CheckRun.status).in_(allowed_from))
        .values(status=to.value, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_run(session: Session, run_id: str) -> bool:
    return _transition(session, run_id, RunStatus.RUNNING, started_at=utcnow())


def finish_run(
    session: Session,
    run_id: str,
    *,
    status: RunStatus,
    results: list[CheckResult],
    current_sha256: str | None = None,
    error: str | None = None,
    skipped: list[str] | None = None,
) -> bool:
    """Record the verdict and results; False (and nothing written) if already finished."""
    brief = {**summary(results), "skipped": skipped or []}
    if not _transition(
        session,
        run_id,
        status,
        finished_at=utcnow(),
        summary=brief,
        error=error,
        current_data_sha256=current_sha256,
    ):
        return False
    for i, r in enumerate(results):
        session.add(CheckResultRow(run_id=run_id, position=i, **r.model_dump(mode="json")))
    run = session.get(CheckRun, run_id)
    assert run is not None
    model = session.get(Model, run.model_id)
    version = session.get(ModelVersion, run.version_id)
    assert model is not None and version is not None
    audit.record(
        session,
        actor="modelgate",
        action="run.finish",
        subject=model_subject(model.name, version.version),
        payload={"run": run_id, "status": status.value, **brief, "error": error},
    )
    return True


def get_run(session: Session, run_id: str) -> CheckRun:
    run = session.get(CheckRun, run_id)
    if run is None:
        raise NotFound(f"no run {run_id!r}", field="run_id")
    return run


def results_of(session: Session, run_id: str) -> list[CheckResult]:
    rows = session.exec(
        select(CheckResultRow)
        .where(CheckResultRow.run_id == run_id)
        .order_by(col(CheckResultRow.position))
    ).all()
    return [
        CheckResult.model_validate(r.model_dump(exclude={"id", "run_id", "position"})) for r in rows
    ]


def run_out(session: Session, run: CheckRun, *, with_results: bool = True) -> RunOut:
    model = session.get(Model, run.model_id)
    version = session.get(ModelVersion, run.version_id)
    assert model is not None and version is not None
    return RunOut(
        id=run.id,
        model=model.name,
        version=version.version,
        status=run.status,
        trigger=run.trigger,
        requested_by=run.requested_by,
        current_data_uri=run.current_data_uri,
        current_data_sha256=run.current_data_sha256,
        policy_sha256=run.policy_sha256,
        policy_sources=run.policy.get("sources", []),
        summary=run.summary,
        error=run.error,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        results=results_of(session, run.id) if with_results else [],
        report_url=f"/api/v1/runs/{run.id}/report",
    )


def list_runs(
    session: Session,
    *,
    model_name: str,
    version: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CheckRun], int]:
    model = registry.get_model(session, name=model_name)
    query = select(CheckRun).where(CheckRun.model_id == model.id)
    if version:
        v = registry.get_version(session, model_name=model_name, version=version)
        query = query.where(CheckRun.version_id == v.id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(CheckRun.created_at).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)


def latest_runs(
    session: Session, version_ids: list[int], *, finished_only: bool = True
) -> dict[int, CheckRun]:
    """The newest run of each version (finished ones only, unless told otherwise)."""
    return _newest(session, "version_id", version_ids, finished_only=finished_only)


def latest_runs_of_models(session: Session, model_ids: list[int]) -> dict[int, CheckRun]:
    """The newest run (in any state) of each model."""
    return _newest(session, "model_id", model_ids, finished_only=False)


def _newest(
    session: Session, key: str, ids: list[int], *, finished_only: bool
) -> dict[int, CheckRun]:
    if not ids:
        return {}
    column = getattr(CheckRun, key)
    where = [col(column).in_(ids)]
    if finished_only:
        where.append(col(CheckRun.status).in_([s.value for s in FINISHED]))
    newest = (
        select(column.label("k"), func.max(CheckRun.created_at).label("at"))
        .where(*where)
        .group_by(column)
        .subquery()
    )
    rows = session.exec(
        select(CheckRun)
        .join(newest, and_(col(column) == newest.c.k, col(CheckRun.created_at) == newest.c.at))
        .where(*where)
    )
    return {getattr(run, key): run for run in rows}


def champion_run(session: Session, *, model_name: str, version: str) -> CheckRun | None:
    """The latest finished run of the production version, if that is not `version`."""
    prod = stage_holder(session, registry.get_model(session, name=model_name), PRODUCTION)
    if prod is None or prod.version == version:
        return None
    return latest_finished(session, prod.id)  # type: ignore[arg-type]


def latest_finished(session: Session, version_id: int) -> CheckRun | None:
    return session.exec(
        select(CheckRun)
        .where(
            CheckRun.version_id == version_id,
            col(CheckRun.status).in_(["passed", "warned", "failed"]),
        )
        .order_by(col(CheckRun.finished_at).desc())
    ).first()
