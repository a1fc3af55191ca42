"""Migrations from empty on both databases; SQLite pragmas; readiness."""

from sqlalchemy import inspect, text

from modelgate.db import head_revision, make_engine, migration_status, upgrade

TABLES = {"model", "model_version", "stage_transition", "audit_event", "audit_head", "api_token"}


def test_migrations_from_empty(settings) -> None:  # type: ignore[no-untyped-def]
    eng = make_engine(settings)
    assert migration_status(eng)["current"] is None
    upgrade(eng)
    assert set(inspect(eng).get_table_names()) >= TABLES
    status = migration_status(eng)
    assert status == {"current": head_revision(), "head": head_revision(), "up_to_date": True}
    upgrade(eng)  # idempotent
    assert migration_status(eng)["up_to_date"]
    with eng.connect() as conn:
        head = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    assert tuple(head) == (0, "0" * 64)
    eng.dispose()


def test_migrations_down_and_up_again(settings) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from modelgate.db import _alembic_config

    eng = make_engine(settings)
    upgrade(eng)
    command.downgrade(_alembic_config(eng), "base")
    assert not TABLES & set(inspect(eng).get_table_names())
    upgrade(eng)
    assert set(inspect(eng).get_table_names()) >= TABLES
    eng.dispose()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from modelgate.config import Settings

    eng = make_engine(Settings(home=tmp_path))
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    eng.dispose()
