"""What the read commands show, fetched from the domain (synchronous: run in a thread).

Each function returns a :class:`~bot.blocks.Message` or raises a :class:`UserError` whose
text tells the user what is wrong and what to type instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.blocks import (
    Message,
    ModelRow,
    model_status,
    models_list,
    run_report,
    stage_history,
)
from bot.notify import champion_of
from modelgate.config import Settings
from modelgate.db import session_scope
from modelgate.errors import NotFound
from modelgate.links import report_url
from modelgate.registry import service as registry
from modelgate.registry.lookup import version_labels
from modelgate.registry.models import Model, ModelVersion
from modelgate.runs import service as runs
from modelgate.runs.models import CheckRun

MAX_MODELS = 500
HISTORY_SHOWN = 20


class UserError(Exception):
    """A problem with what the user typed: shown to them ephemerally."""

    def __init__(self, problem: str, suggestion: str | None = None) -> None:
        super().__init__(problem)
        self.problem, self.suggestion = problem, suggestion


def closest(word: str, choices: Sequence[str]) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return match[0] if match else None


def resolve_model(s: object, name: str) -> Model:
    """The model called `name`, or a UserError suggesting the closest registered name."""
    try:
        return registry.get_model(s, name=name)  # type: ignore[arg-type]
    except NotFound:
        names = list(s.exec(select(Model.name)).all())  # type: ignore[attr-defined]
        guess = closest(name, names)
        hint = (
            f"Did you mean `{guess}`?"
            if guess
            else "Type `/modelgate models` to see the registered models."
        )
        raise UserError(f"There is no model called {name!r}.", hint) from None


def resolve_version(s: object, model: Model, version: str) -> ModelVersion:
    try:
        return registry.get_version(s, model_name=model.name, version=version)  # type: ignore[arg-type]
    except NotFound:
        labels = list(version_labels(s, model).values())  # type: ignore[arg-type]
        guess = closest(version, labels)
        hint = f"Did you mean `{guess}`?" if guess else f"Versions: {', '.join(labels) or 'none'}."
        raise UserError(f"{model.name} has no version {version!r}.", hint) from None


def models_message(engine: Engine) -> Message:
    with session_scope(engine) as s:
        models, _ = registry.list_models(s, limit=MAX_MODELS)
        prod = {
            v.model_id: v
            for v in s.exec(select(ModelVersion).where(ModelVersion.stage == "production")).all()
        }
        latest_by_model = runs.latest_runs_of_models(s, [m.id for m in models])  # type: ignore[misc]
        rows = [
            ModelRow(
                name=m.name,
                risk_tier=m.risk_tier,
                production_version=prod[m.id].version if m.id in prod else None,
                last_run_status=latest_by_model[m.id].status if m.id in latest_by_model else None,
                last_run_at=(
                    latest_by_model[m.id].finished_at or latest_by_model[m.id].created_at
                    if m.id in latest_by_model
                    else None
                ),
            )
            for m in models
        ]
    return models_list(rows)


def status_message(settings: Settings, engine: Engine, name: str) -> Message:
    with session_scope(engine) as s:
        model = resolve_model(s, name)
        stages = registry.stages_view(s, model_name=model.name, stages=settings.stages)
        versions, _ = registry.list_versions(s, model_name=model.name, limit=50)
        order = {stage: i for i, stage in enumerate(reversed(settings.stages))}
        versions.sort(key=lambda v: (order.get(v.stage or "", len(order)), -v.id))  # type: ignore[operator]
        latest = runs.latest_runs(s, [v.id for v in versions])  # type: ignore[misc]
        pairs = [
            (v.version, runs.run_out(s, latest[v.id]) if v.id in latest else None) for v in versions
        ]
        out = registry.model_out(s, model)
    return model_status(out, stages, pairs)


def history_message(engine: Engine, name: str) -> Message:
    with session_scope(engine) as s:
        model = resolve_model(s, name)
        items, total = registry.stage_history(s, model_name=model.name, limit=HISTORY_SHOWN)
    return stage_history(model.name, items, total)


def report_message(settings: Settings, engine: Engine, run_ref: str) -> Message:
    """A run by id, or by a unique prefix of at least 6 characters."""
    ref = run_ref.strip().lower()
    if not ref.isalnum() or len(ref) < 6:
        raise UserError(
            f"{run_ref!r} is not a run id.",
            "Run ids are 32 hex characters (the first 8 are enough), e.g. "
            "`/modelgate report 7abff69c`.",
        )
    with session_scope(engine) as s:
        matches = s.exec(select(CheckRun.id).where(col(CheckRun.id).startswith(ref)).limit(2)).all()
        if not matches:
            raise UserError(
                f"There is no run {run_ref!r}.",
                "`/modelgate status <model>` lists the latest runs with their ids.",
            )
        if len(matches) > 1:
            raise UserError(f"{run_ref!r} matches several runs.", "Type more of the run id.")
        out = runs.run_out(s, runs.get_run(s, matches[0]))
        if out.status in ("queued", "running"):
            raise UserError(
                f"Run {out.id[:8]} is still {out.status}.",
                f"Its report will be posted when it finishes; then `/modelgate report "
                f"{out.id[:8]}` shows it here.",
            )
        champion = champion_of(s, out)
    return run_report(out, report_url=report_url(settings, out.id), champion=champion)
