"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import errors
from api.routes import audit, health, models, reports, runs, stages, versions
from modelgate import __version__
from modelgate.config import Settings
from modelgate.db import make_engine
from modelgate.ports import Notifier
from modelgate.runs.worker import RunPool

log = logging.getLogger("modelgate.api")

DESCRIPTION = """\
modelgate's REST API: the model registry with lineage and stage history, and the
hash-chained audit log. Authenticate with `Authorization: Bearer <token>`; create tokens with
`modelgate token create --name ci --scopes read,write`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings)

    run_pool = RunPool(settings, engine)
    slack = _slack(settings, engine, run_pool)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        run_pool.notifier = _notifier(settings, engine, slack)
        await asyncio.to_thread(_warm_up)
        # What startup loaded lives as long as the process: keep it out of the collector's
        # full passes, which otherwise pause every request for ~0.1-0.2 s (Slack acks too).
        gc.freeze()
        try:
            yield
        finally:
            if slack is not None:
                await slack[1].replies.aclose()
            run_pool.shutdown(wait=False)
            engine.dispose()

    app = FastAPI(
        title="modelgate", version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.runs = run_pool
    errors.install(app)
    app.include_router(health.router)
    app.include_router(reports.router)
    if slack is not None:
        from bot.app import mount

        assert settings.slack_signing_secret is not None
        mount(app, slack[0], settings.slack_signing_secret.get_secret_value())
    for router in (models.router, versions.router, stages.router, runs.router, audit.router):
        app.include_router(router, responses=errors.ERROR_RESPONSES)
    return app


def _warm_up() -> None:
    """Import the check engine now, not on the first request that needs a policy."""
    import checks.registry  # noqa: F401


def _slack(settings: Settings, engine: Any, pool: RunPool) -> tuple[Any, Any] | None:
    """The Bolt app and its dependencies, when Slack is configured."""
    if settings.slack_signing_secret is None or settings.slack_bot_token is None:
        if settings.slack_signing_secret or settings.slack_bot_token:
            log.warning("Slack is off: set both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
        return None
    from bot.app import create_bolt_app

    return create_bolt_app(settings, engine, pool)


def _notifier(settings: Settings, engine: Any, slack: tuple[Any, Any] | None) -> Notifier:
    """Slack when configured (posting on this event loop), else the console outbox."""
    if slack is None:
        from bot.notify import ConsoleNotifier

        return ConsoleNotifier(settings, engine)
    from bot.notify import SlackNotifier

    return SlackNotifier(settings, engine, slack[1].client, asyncio.get_running_loop())
