"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import audit, health, models, runs, stages, versions
from modelgate import __version__
from modelgate.config import Settings
from modelgate.db import make_engine
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

    run_pool = RunPool(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
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
    for router in (models.router, versions.router, stages.router, runs.router, audit.router):
        app.include_router(router, responses=errors.ERROR_RESPONSES)
    return app
