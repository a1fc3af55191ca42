"""The self-contained HTML report of a run: summary, per-check details, charts inline."""

from __future__ import annotations

import base64
import functools
import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from checks.base import CheckResult
from modelgate.runs.schemas import RunOut

MAX_TABLE_ROWS = 60
STATUS_ORDER = {"fail": 0, "error": 1, "warn": 2, "insufficient_data": 3, "pass": 4}


@functools.cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("modelgate.runs", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    return env


def fmt_number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4g}"
    return str(value)


def _scalars(values: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (k, v) for k, v in values.items() if isinstance(v, int | float | str | bool) or v is None
    ][:MAX_TABLE_ROWS]


def _tables(details: dict[str, Any]) -> list[dict[str, Any]]:
    """Lists of records in `details` become tables (e.g. per-group fairness, per-column drift)."""
    out = []

    def visit(name: str, value: Any) -> None:
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            cols: list[str] = []
            for r in value[:MAX_TABLE_ROWS]:
                cols += [c for c in r if c not in cols and not isinstance(r[c], dict | list)]
            out.append(
                {
                    "name": name,
                    "columns": cols[:12],
                    "rows": value[:MAX_TABLE_ROWS],
                    "more": max(0, len(value) - MAX_TABLE_ROWS),
                }
            )
        elif isinstance(value, dict):
            if value and all(isinstance(v, dict) for v in value.values()) and len(value) > 1:
                rows = [
                    {"": k, **{c: x for c, x in v.items() if not isinstance(x, dict | list)}}
                    for k, v in value.items()
                ]
                visit(name, rows)
                return
            for k, v in value.items():
                visit(f"{name} · {k}" if name else k, v)

    visit("", details)
    return out


def _notes(details: dict[str, Any]) -> list[str]:
    notes = details.get("notes", [])
    return [str(n) for n in notes] if isinstance(notes, list) else []


def _image(run_dir: Path, rel: str) -> str | None:
    path = (run_dir / rel).resolve()
    if not path.is_relative_to(run_dir.resolve()) or not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _view(r: CheckResult, run_dir: Path, link_prefix: str, link_suffix: str) -> dict[str, Any]:
    images, links = [], []
    for a in r.artifacts:
        if a.media_type == "image/png":
            data = _image(run_dir, a.path)
            if data:
                images.append({"name": a.name, "src": data})
        else:
            links.append({"name": a.name, "href": f"{link_prefix}{a.path}{link_suffix}"})
    return {
        "r": r,
        "measured": _scalars(r.values),
        "tables": _tables(r.details),
        "notes": _notes(r.details),
        "images": images,
        "links": links,
        "thresholds": _scalars(r.thresholds),
    }


def render_report(run: RunOut, run_dir: Path, *, link_prefix: str, link_suffix: str = "") -> str:
    """HTML for `run`. PNG charts are embedded; other artifacts (the Evidently report) are
    linked at `link_prefix + artifact.path`."""
    ordered = sorted(run.results, key=lambda r: STATUS_ORDER.get(r.status.value, 9))
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            run=run,
            checks=[_view(r, run_dir, link_prefix, link_suffix) for r in ordered],
            counts=run.summary.get("counts", {}),
        )
    )
