"""The `modelgate` command line. Every error ends as one clear line and a non-zero exit."""

from __future__ import annotations

from typing import Any

import click
import typer
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from typer.core import TyperGroup

from modelgate.errors import ModelgateError


def describe_validation(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"] if p != "body")
        parts.append(f"{loc}: {e['msg']}" if loc else e["msg"])
    return "; ".join(parts)


class _Root(TyperGroup):
    """Turns domain and database errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from modelgate.cli.output import fail

        try:
            return super().invoke(ctx)
        except ModelgateError as exc:
            raise fail(exc.message) from None
        except ValidationError as exc:
            raise fail(describe_validation(exc)) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise fail(f"cannot use the database: {reason}") from None


app = typer.Typer(
    cls=_Root,
    name="modelgate",
    help="modelgate: model registry, policy checks, approvals and audit for ML in production.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from modelgate.cli import admin, checks, registry, server

    server.register(app)
    registry.register(app)
    checks.register(app)
    admin.register(app)


_register()
