"""serve, demo and db commands."""

from __future__ import annotations

import typer

from modelgate.cli import context
from modelgate.cli.output import JsonOpt, console, emit_json, fields_table

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
    app.add_typer(db_app, name="db")


def serve(
    host: str = typer.Option(None, help="Interface to bind (default MODELGATE_HOST)."),
    port: int = typer.Option(None, help="Port (default MODELGATE_PORT)."),
    migrate: bool = typer.Option(True, help="Apply database migrations before starting."),
) -> None:
    """Run the API server (OpenAPI docs at /docs)."""
    import uvicorn

    from api.main import create_app
    from modelgate.db import make_engine, upgrade

    s = context.settings()
    if migrate:
        upgrade(make_engine(s))
    console.print(f"modelgate API on http://{host or s.host}:{port or s.port}  (docs: /docs)")
    uvicorn.run(create_app(s), host=host or s.host, port=port or s.port, log_level=s.log_level)


def demo() -> None:
    """Train the German Credit demo model, register two versions and promote v1."""
    from modelgate.demo import run_demo

    run_demo(context.settings(), console)


@db_app.command("upgrade")
def db_upgrade(json_out: bool = JsonOpt) -> None:
    """Apply all migrations (safe to repeat)."""
    from modelgate.db import make_engine, migration_status, upgrade

    eng = make_engine(context.settings())
    upgrade(eng)
    status = migration_status(eng)
    if json_out:
        emit_json(status)
        return
    console.print(
        f"database {eng.url.render_as_string(hide_password=True)} is at revision "
        f"{status['current']} (latest)"
    )


@db_app.command("status")
def db_status(json_out: bool = JsonOpt) -> None:
    """Show the database's migration revision."""
    from modelgate.db import make_engine, migration_status

    eng = make_engine(context.settings())
    status = migration_status(eng)
    if json_out:
        emit_json(status)
    else:
        console.print(
            fields_table(
                "database",
                [
                    ("url", eng.url.render_as_string(hide_password=True)),
                    ("revision", status["current"]),
                    ("latest", status["head"]),
                    (
                        "up to date",
                        "yes" if status["up_to_date"] else "no — run `modelgate db upgrade`",
                    ),
                ],
            )
        )
    if not status["up_to_date"]:
        raise typer.Exit(1)
