"""check and policy commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from checks.base import CheckResult
from modelgate.cli import context
from modelgate.cli.output import JsonOpt, emit_json, err_console, fail, table
from modelgate.cli.output import console as default_console
from modelgate.db import session_scope
from modelgate.errors import InvalidInput
from modelgate.files import to_uri
from modelgate.policy import effective_for
from modelgate.runs.flows import run_artifacts_dir, run_now
from modelgate.runs.schemas import RunOut
from modelgate.runs.service import default_version
from modelgate.runs.state import EXIT_CODES, RunStatus
from policies.loader import PolicyError, load_policies
from policies.schema import CheckSpec, format_duration

policy_app = typer.Typer(help="Validate and inspect policies.", no_args_is_help=True)

STYLE = {
    "pass": "green",
    "passed": "green",
    "warn": "yellow",
    "warned": "yellow",
    "fail": "bold red",
    "failed": "bold red",
    "error": "magenta",
    "errored": "magenta",
    "insufficient_data": "dim",
}


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.add_typer(policy_app, name="policy")


def _default_version(model: str) -> str:
    s = context.settings()
    with session_scope(context.engine(s)) as session:
        return default_version(session, model_name=model)


def check(
    model: str = typer.Argument(..., help="Model name."),
    version: str = typer.Option(None, help="Version (default: production's, else newest)."),
    current: str = typer.Option(None, help="Current data window: CSV/Parquet path or URI."),
    policy: Path = typer.Option(None, help="Extra policy file applied on top (highest priority)."),
    json_out: bool = JsonOpt,
) -> None:
    """Check a version against its policy. Exit 0 pass/warn, 1 blocking failure, 2 error."""
    s = context.settings()
    context.engine(s)  # fails early, with a hint, if the database is not migrated
    version = version or _default_version(model)
    current_uri = to_uri(current, field="current")[0] if current else None
    override = None
    if policy is not None:
        if not policy.is_file():
            raise InvalidInput(f"--policy: no such file {policy}")
        override = policy.read_text(encoding="utf-8")
    kwargs = {
        "model_name": model,
        "version": version,
        "requested_by": s.cli_actor(),
        "trigger": "cli",
        "current_uri": current_uri,
        "override_yaml": override,
        "override_name": str(policy) if policy else "<request>",
    }
    if json_out:
        out = run_now(s, **kwargs)
        emit_json(out)
        raise typer.Exit(EXIT_CODES.get(RunStatus(out.status), 2))
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"checking {model} {version}: loading data and model…")

        def progress(spec: CheckSpec, result: CheckResult | None) -> None:
            if result is None:
                bar.update(task, description=f"checking {model} {version}: {spec.key}…")

        out = run_now(s, **kwargs, progress=progress)
    print_run(out, report=run_artifacts_dir(s, out.id) / "report.html")
    raise typer.Exit(EXIT_CODES.get(RunStatus(out.status), 2))


def print_run(out: RunOut, *, report: Path, to: Console | None = None) -> None:
    """The results table, the verdict and where the report is (also used by the demo)."""
    console = to or default_console
    if out.results:
        console.print(_results_table(out.results))
    verdict = f"[{STYLE.get(out.status, '')}]{out.status.upper()}[/]"
    console.print(
        f"{out.model} {out.version}: {verdict}" + (f" — {out.error}" if out.error else "")
    )
    if out.summary.get("skipped"):
        console.print(
            f"[dim]not run (they need --current data): {', '.join(out.summary['skipped'])}[/]"
        )
    console.print(f"report: {report}")


def _results_table(results: list[CheckResult]) -> Table:
    rows = [
        (
            r.check,
            f"[{STYLE.get(r.status.value, '')}]{r.status.value}[/]",
            r.severity.value,
            r.message,
            f"{r.duration_s:.2f}s",
        )
        for r in results
    ]
    return table("results", ["check", "status", "severity", "result", "time"], rows)


@policy_app.command("validate")
def policy_validate(
    paths: list[Path] = typer.Argument(
        None, help="Files or directories (default: the configured paths)."
    ),
) -> None:
    """Validate policy files; exit 1 and list every problem as file:line."""
    targets = paths or context.settings().effective_policy_paths()
    try:
        loaded = load_policies(targets)
    except PolicyError as exc:
        for issue in exc.issues:
            err_console.print(f"[red]error:[/] {issue}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if not loaded:
        raise fail(f"no policy files found in {', '.join(map(str, targets))}")
    for p in loaded:
        default_console.print(f"[green]ok[/] {p.path} ({p.spec.name}: {len(p.spec.checks)} checks)")


@policy_app.command("show")
def policy_show(model: str, json_out: bool = JsonOpt) -> None:
    """The effective policy for a model: every matching file merged by priority."""
    s = context.settings()
    with session_scope(context.engine(s)) as session:
        effective = effective_for(session, s, model_name=model)
    if json_out:
        emit_json(effective)
        return
    default_console.print(
        f"effective policy for [bold]{model}[/] (sha256 {effective.sha256[:16]}…)"
    )
    default_console.print("from " + ", ".join(effective.sources))
    default_console.print(
        table(
            "checks",
            ["check", "type", "severity", "timeout", "declared at"],
            [
                (
                    c.key,
                    c.type,
                    c.severity.value,
                    f"{c.timeout_s:g}s",
                    effective.check_sources.get(c.key),
                )
                for c in effective.checks
            ],
        )
    )
    default_console.print(
        table(
            "approvals",
            ["stage", "required", "roles", "quorum", "self-approval", "expires after"],
            [
                (
                    stage,
                    r.required,
                    r.roles,
                    r.quorum or None,
                    "allowed" if r.allow_self_approval else "no",
                    format_duration(r.expires_after),
                )
                for stage, r in effective.approvals.items()
            ],
        )
    )
    if effective.schedule:
        default_console.print(
            f"schedule: {effective.schedule.cron} ({effective.schedule.timezone})"
        )
