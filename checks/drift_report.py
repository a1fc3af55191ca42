"""Words and pictures of the drift check: violation messages, a PNG of per-column scores and
an Evidently HTML report.

Both are optional extras: the caller catches failures and records them, so a broken plotting
backend or an evidently quirk never changes the check's outcome. Heavy imports stay inside the
functions (importing evidently alone takes seconds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from checks.base import Violation

if TYPE_CHECKING:
    from checks.drift import DriftParams

OP_SYMBOL = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def describe(col: str, res: Mapping[str, Any]) -> str:
    """`age (wasserstein 0.31 ≥ 0.1)` / `purpose (chisquare p=0.003 < 0.05)`."""
    score, thr = res["score"], res["threshold"]
    op = OP_SYMBOL[res["op"]] if res["drifted"] else _negate(res["op"])
    value = f"p={score:.3g}" if res["score_type"] == "p_value" else f"{score:.3g}"
    return f"{col} ({res['stattest']} {value} {op} {thr:g})"


def _negate(op: str) -> str:
    return {"<": "≥", "<=": ">", ">": "≤", ">=": "<"}[op]


def severity_key(res: Mapping[str, Any]) -> float:
    """How far past its threshold a column is, comparable across tests (bigger: worse)."""
    score, thr = float(res["score"]), float(res["threshold"])
    if res["score_type"] == "p_value":
        return (thr + 1e-300) / (score + 1e-300)
    return score / thr if thr else score


def drift_violations(
    params: DriftParams,
    features: dict[str, dict[str, Any]],
    by_role: dict[str, dict[str, dict[str, Any]]],
    errors: dict[str, str],
    share: float,
) -> list[Violation]:
    out: list[Violation] = []
    drifted = sorted(
        (c for c, r in features.items() if r["drifted"]),
        key=lambda c: -severity_key(features[c]),
    )
    listing = ", ".join(describe(c, features[c]) for c in drifted[:5])
    if len(drifted) > 5:
        listing += f", and {len(drifted) - 5} more"
    v = params.drift_share.violation("share_drifted", share if features else None)
    if v is not None:
        bound = " ".join(f"{k} {x:.2f}" for k, x in params.drift_share.applied().items())
        cmp = ">" if v.op == "<=" else "<"
        msg = (
            f"{len(drifted)} of {len(features)} columns drifted "
            f"(share {share:.2f} {cmp} {bound})" + (f": {listing}" if listing else "")
        )
        if not features:
            msg = "no column could be tested for drift"
        out.append(v.model_copy(update={"message": msg}))
    limit = params.max_drifted_columns
    if limit is not None and len(drifted) > limit:
        out.append(
            Violation(
                metric="n_drifted",
                value=len(drifted),
                threshold=limit,
                op="<=",
                message=f"{len(drifted)} columns drifted (max {limit}): {listing}",
            )
        )
    for col in params.fail_on:
        r = features.get(col)
        if r is not None and r["drifted"]:
            msg = f"`{col}` drifted and is listed in fail_on: {describe(col, r)}"
            out.append(_column_violation(f"drift.{col}", r, msg))
    for role, cols in by_role.items():
        for col, r in cols.items():
            if r["drifted"]:
                msg = f"{role} `{col}` drifted: {describe(col, r)}"
                out.append(_column_violation(f"{role}_drift.{col}", r, msg))
    for col, reason in errors.items():
        out.append(
            Violation(
                metric=f"drift.{col}",
                value=None,
                threshold=None,
                op="defined",
                message=f"{reason}; drift cannot be computed",
            )
        )
    return out


def _column_violation(metric: str, r: dict[str, Any], message: str) -> Violation:
    not_drifted = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[r["op"]]
    return Violation(
        metric=metric, value=r["score"], threshold=r["threshold"], op=not_drifted, message=message
    )


def write_score_chart(results: Mapping[str, Mapping[str, Any]], path: Path) -> None:
    """Horizontal bars of each column's score over its threshold (1.0 = threshold)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    items = sorted(results.items(), key=lambda kv: severity_key(kv[1]))
    labels = [f"{c} ({r['stattest']})" for c, r in items]
    ratios = [min(severity_key(r), 100.0) for _, r in items]
    colors = ["#d62728" if r["drifted"] else "#2ca02c" for _, r in items]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * len(items) + 1.2)))
    try:
        ax.barh(labels, ratios, color=colors)
        ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="drift threshold")
        ax.set_xscale("log")
        ax.set_xlabel("drift score relative to threshold (p-values: threshold / p; log scale)")
        ax.set_title("Per-column drift (red: drifted)")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def write_evidently_html(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    path: Path,
    sample_rows: int,
    seed: int = 0,
) -> dict[str, int]:
    """Evidently's own DataDriftPreset report on a bounded random sample of both sides."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    columns: Sequence[str] = list(kinds)
    ref = _sample(reference[list(columns)], sample_rows, seed)
    cur = _sample(current[list(columns)], sample_rows, seed)
    definition = DataDefinition(
        numerical_columns=[c for c in columns if kinds[c] == "num"],
        categorical_columns=[c for c in columns if kinds[c] == "cat"],
    )
    snapshot = Report([DataDriftPreset(columns=list(columns))]).run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    snapshot.save_html(str(path))
    return {"reference_rows": len(ref), "current_rows": len(cur)}


def _sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    if len(frame) <= rows:
        return frame.reset_index(drop=True)
    return frame.sample(n=rows, random_state=seed).reset_index(drop=True)
