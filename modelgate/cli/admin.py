"""token and audit commands."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

import typer

from modelgate.audit.service import AuditFilter, export_lines, verify
from modelgate.cli import context
from modelgate.cli.output import JsonOpt, console, emit_json, err_console, table
from modelgate.db import session_scope
from modelgate.tokens import TokenInfo, create_token, list_tokens, parse_scopes, revoke_token
from modelgate.types import as_utc, utcnow

token_app = typer.Typer(
    help="API tokens (stored hashed; the secret is shown once).", no_args_is_help=True
)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
    app.add_typer(audit_app, name="audit")


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., help="A name for the token, e.g. ci."),
    scopes: str = typer.Option("read", help="Comma-separated: read, write, admin."),
    expires_days: int = typer.Option(None, min=1, help="Expire after this many days."),
    json_out: bool = JsonOpt,
) -> None:
    """Create a token and print its secret (once: it is stored only as a hash)."""
    s = context.settings()
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    with session_scope(context.engine(s)) as session:
        secret, token = create_token(
            session, name=name, scopes=parse_scopes(scopes), actor=s.cli_actor(), expires_at=expires
        )
        info = TokenInfo.of(token)
    if json_out:
        emit_json({"token": secret, **info.model_dump(mode="json")})
        return
    console.print(f"token [bold]{name}[/] created with scopes {', '.join(info.scopes)}.")
    err_console.print("Copy it now; it will not be shown again:", style="yellow")
    typer.echo(secret)


@token_app.command("list")
def token_list(json_out: bool = JsonOpt) -> None:
    """List tokens (never their secrets)."""
    with session_scope(context.engine()) as session:
        items = [TokenInfo.of(t) for t in list_tokens(session)]
    if json_out:
        emit_json(items)
        return
    console.print(
        table(
            "API tokens",
            ["name", "prefix", "scopes", "created", "last used", "expires", "revoked"],
            [
                (
                    t.name,
                    t.prefix + "…",
                    t.scopes,
                    t.created_at,
                    t.last_used_at,
                    t.expires_at,
                    t.revoked_at,
                )
                for t in items
            ],
        )
    )


@token_app.command("revoke")
def token_revoke(name: str, json_out: bool = JsonOpt) -> None:
    """Revoke a token; requests with it are refused from now on."""
    s = context.settings()
    with session_scope(context.engine(s)) as session:
        info = TokenInfo.of(revoke_token(session, name=name, actor=s.cli_actor()))
    if json_out:
        emit_json(info)
    else:
        console.print(f"token [bold]{name}[/] revoked")


@audit_app.command("verify")
def audit_verify(json_out: bool = JsonOpt) -> None:
    """Verify the hash chain; exit 1 and name the first broken entry if any was tampered."""
    with session_scope(context.engine()) as session:
        result = verify(session)
    if json_out:
        emit_json(result)
    elif result.ok:
        console.print(f"[green]audit log intact[/]: {result.entries} entries, chain verified")
    else:
        err_console.print(
            f"[bold red]audit log broken at entry {result.broken_at}[/]: {result.reason}"
        )
    if not result.ok:
        raise typer.Exit(1)


def _when(value: datetime | None) -> datetime | None:
    return as_utc(value) if value else None


@audit_app.command("export")
def audit_export(
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default stdout)."),
    actor: str = typer.Option(None),
    action: str = typer.Option(None),
    subject: str = typer.Option(None, help="Exact subject, or a prefix ending in *."),
    since: datetime = typer.Option(None, help="From this time (UTC unless an offset is given)."),
    until: datetime = typer.Option(None, help="Before this time."),
) -> None:
    """Export entries as JSON Lines, oldest first, with their hashes."""
    f = AuditFilter(
        actor=actor, action=action, subject=subject, since=_when(since), until=_when(until)
    )
    count = 0
    with session_scope(context.engine()) as session:
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for line in export_lines(session, f):
                out.write(line)
                count += 1
        finally:
            if output:
                out.close()
    if output:
        console.print(f"wrote {count} entries to {output}")
