"""What every command needs: settings and a migrated database."""

from __future__ import annotations

from sqlalchemy import Engine

from modelgate.config import Settings
from modelgate.db import current_revision, head_revision, make_engine
from modelgate.errors import ModelgateError


def settings() -> Settings:
    return Settings()


def engine(s: Settings | None = None) -> Engine:
    """An engine for a database at the latest migration; says what to run if it is not."""
    s = s or settings()
    eng = make_engine(s)
    current = current_revision(eng)
    if current != head_revision():
        where = "no schema yet" if current is None else f"schema revision {current}"
        raise ModelgateError(
            f"the database ({eng.url.render_as_string(hide_password=True)}) has {where}; "
            "run `modelgate db upgrade` first"
        )
    return eng
