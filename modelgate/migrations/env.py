"""Alembic environment: runs against the engine handed in by `modelgate.db.upgrade`, or the
configured database when invoked through the `alembic` command."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import modelgate.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from modelgate.config import Settings
from modelgate.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(Settings())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
