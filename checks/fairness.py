"""Group fairness of a binary classifier's decisions.

Runs on the current window when one is given, otherwise on the reference data (e.g. the
hold-out set at registration). Per group of each sensitive feature (and of their cross
product) it counts rows, selections and the confusion matrix in one ``np.bincount`` pass, then
derives selection rate, TPR, FPR, FNR, accuracy, precision and recall. Definitions follow
fairlearn exactly: a rate whose denominator is 0 is 0 (sklearn's ``confusion_matrix`` with
``normalize="true"`` and ``zero_division`` 0); a *difference* is max - min over groups; a
*ratio* is min / max (NaN when max is 0); equalized odds (``agg="worst_case"``) is the larger
of the TPR and FPR differences, its ratio the smaller of the two ratios.

Groups smaller than ``min_group_size`` and rows with a missing sensitive value are shown in
``details`` but not judged. Without labels only selection-rate metrics are computed; rows
whose label is missing count for selection rate only.
"""

from __future__ import annotations

import logging
from itertools import pairwise
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from checks.base import (
    Bound,
    CheckContext,
    CheckInputError,
    CheckParams,
    InsufficientData,
    Measurement,
    Violation,
)
from checks.data import ensure_predictions, evaluation_data, prediction_column, require_columns
from checks.fairness_metrics import RATES, GroupTable, disparities, group_tables

log = logging.getLogger(__name__)

MetricName = Literal[
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "selection_rate_gap",
    "tpr_gap",
    "fpr_gap",
    "fnr_gap",
    "accuracy_gap",
    "precision_gap",
    "recall_gap",
]
METRIC_NAMES: tuple[str, ...] = MetricName.__args__  # type: ignore[attr-defined]
LABEL_FREE = {"demographic_parity_difference", "demographic_parity_ratio", "selection_rate_gap"}
NICE = {"selection_rate": "selection rate", "tpr": "TPR", "fpr": "FPR", "fnr": "FNR"}


class FairnessParams(CheckParams):
    sensitive_features: list[str] | None = None  # default: the schema's sensitive features
    bins: dict[str, list[float]] = Field(default_factory=dict)  # {age: [25]} -> <25, >=25
    intersections: bool = True  # also judge the cross product of the sensitive features
    min_group_size: int = Field(default=30, ge=1)
    missing_as_group: bool = False  # judge rows with a missing sensitive value as a group
    pos_label: int | float | bool | str = 1
    thresholds: dict[MetricName, Bound] = Field(default_factory=dict)

    @field_validator("bins")
    @classmethod
    def _increasing(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        for col, edges in v.items():
            if not edges or any(b <= a for a, b in pairwise(edges)):
                raise ValueError(f"bins for `{col}` must be a non-empty increasing list")
        return v


def _num(x: float) -> str:
    return f"{x:.2g}" if 0 < abs(x) < 0.01 else f"{x:.2f}"


def _beside(value: float, bound: float) -> str:
    """`value` with enough digits not to read as equal to the bound it violates."""
    for digits in (2, 3, 4, 6):
        text = f"{value:.{digits}f}"
        if text != f"{bound:.{digits}f}":
            return text
    return repr(value)


def _message(metric: str, g: GroupTable, d: tuple, v: Violation) -> str:
    value, rate, lo, hi = d
    what = metric.replace("_gap", "").replace("_", " ")
    what = f"{NICE.get(rate, rate)} gap" if metric.endswith("_gap") else what
    if lo is None:
        return f"{what} for {g.name} could not be computed: fewer than two groups have labels"
    if value != value:
        return f"{what} for {g.name} could not be computed: every group's {rate} is 0"
    bound = float(v.threshold or 0)
    limit = f"exceeds max {_num(bound)}" if v.op == "<=" else f"is below min {_num(bound)}"
    via = f" ({NICE.get(rate, rate)})" if metric.startswith("equalized_odds") else ""
    rates = g.rates()[rate]
    shown = _beside(value, bound) if abs(value) >= 0.01 else _num(value)
    return (
        f"{what} {shown}{via} between {g.labels[hi]} and {g.labels[lo]} {limit} "
        f"({NICE.get(rate, rate)} {_num(rates[hi])} vs {_num(rates[lo])})"
    )


def _check_binary(s: pd.Series, col: str | None, pos: Any, where: str) -> None:
    """Binary labels that include `pos` (or, if only one value occurs, of the same kind)."""
    values = pd.unique(s.dropna()).tolist()
    if len(values) > 2:
        raise CheckInputError(
            f"column `{col}` has {len(values)} distinct values in {where}; the fairness check "
            "needs binary class labels"
        )
    same_kind = all(isinstance(v, str) == isinstance(pos, str) for v in values)
    if pos not in values and (len(values) == 2 or not same_kind):
        raise CheckInputError(
            f"pos_label {pos!r} does not occur in column `{col}` of {where} (values: "
            f"{', '.join(map(repr, values))}); set `pos_label` in the fairness check"
        )


def _clean(x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    return None if isinstance(x, float) and x != x else x


class FairnessCheck:
    type: ClassVar[str] = "fairness"
    Params: ClassVar[type[CheckParams]] = FairnessParams
    needs_current: ClassVar[bool] = False

    def measure(self, ctx: CheckContext, params: FairnessParams) -> Measurement:
        ds, label = evaluation_data(ctx)
        sensitive = list(params.sensitive_features or ctx.roles.sensitive_features)
        if not sensitive:
            raise CheckInputError(
                "fairness check has no sensitive features: set `sensitive_features` in the "
                "policy or declare them in the model version's data schema"
            )
        require_columns(ds, sensitive, role="sensitive feature", source=ctx.source, label=label)
        if unknown := sorted(set(params.bins) - set(sensitive)):
            raise CheckInputError(f"`bins` names {unknown}, which are not sensitive features")
        if ds.rows == 0:
            raise InsufficientData(f"{label} {ds.uri} has no rows")
        ds = ensure_predictions(ds, ctx.roles, ctx.model, need_score=False, label=label)
        frame, pred_col, target = ds.frame, prediction_column(ctx.roles), ctx.roles.target
        y_pred = frame[pred_col]
        y_true = frame[target] if target and target in frame.columns else None
        for col, s in ((pred_col, y_pred), (target, y_true)):
            if s is not None:
                _check_binary(s, col, params.pos_label, f"{label} {ds.uri}")
        if n_missing := int(y_pred.isna().sum()):
            raise CheckInputError(
                f"prediction column `{pred_col}` has {n_missing} missing values in {label} {ds.uri}"
            )
        label_metrics = sorted(m for m in params.thresholds if m not in LABEL_FREE)
        no_labels = y_true is None or bool(y_true.isna().all())
        if no_labels and label_metrics:
            why = (
                f"`{target}` has no labels in {label} {ds.uri}"
                if target
                else "the model version's data schema names no target column"
            )
            raise CheckInputError(
                f"fairness thresholds on {', '.join(label_metrics)} need true labels, but {why}; "
                "provide labels or keep only demographic parity / selection_rate_gap thresholds"
            )
        tables = group_tables(
            frame,
            sensitive,
            y_pred,
            None if no_labels else y_true,
            pos_label=params.pos_label,
            bins=params.bins,
            intersections=params.intersections,
        )
        return self._judge(tables, params, no_labels, label, ds.uri, len(frame), y_true)

    @staticmethod
    def _judge(
        tables: list[GroupTable],
        p: FairnessParams,
        no_labels: bool,
        label: str,
        uri: str,
        rows: int,
        y_true: pd.Series | None,
    ) -> Measurement:
        values: dict[str, Any] = {"rows": rows}
        if y_true is not None and not no_labels:
            values["unlabeled_rows"] = int(y_true.isna().sum())
        groups: dict[str, list[dict]] = {}
        not_judged: dict[str, str] = {}
        violations: list[Violation] = []
        shown = [m for m in RATES if not (no_labels and m != "selection_rate")]
        for g in tables:
            r = g.rates()
            missing = g.missing & (not p.missing_as_group)
            judged = (r["count"] >= p.min_group_size) & ~missing
            status = np.where(missing, "missing", np.where(judged, "judged", "insufficient"))
            groups[g.name] = [
                {
                    "group": g.labels[i],
                    **g.keys[i],
                    "status": str(status[i]),
                    **{k: _clean(r[k][i]) for k in ("count", *shown)},
                    **(
                        {}
                        if no_labels
                        else {k: _clean(r[k][i]) for k in ("positives", "negatives")}
                    ),
                }
                for i in range(len(g.labels))
            ]
            if judged.sum() < 2:
                not_judged[g.name] = f"fewer than 2 groups with at least {p.min_group_size} rows"
                continue
            d = disparities(r, judged)
            for metric in METRIC_NAMES:
                if no_labels and metric not in LABEL_FREE:
                    continue
                values[f"{metric}[{g.name}]"] = _clean(d[metric][0])
                bound = p.thresholds.get(metric)
                if bound and (v := bound.violation(f"{metric}[{g.name}]", d[metric][0])):
                    violations.append(
                        v.model_copy(update={"message": _message(metric, g, d[metric], v)})
                    )
        if len(not_judged) == len(tables):
            raise InsufficientData(
                f"fairness not judged on {label} {uri}: no sensitive feature has two groups "
                f"with at least {p.min_group_size} rows ({_sizes(tables)})"
            )
        ok = "all fairness thresholds met"
        if not_judged:
            ok += f" (not judged: {', '.join(not_judged)}: too few rows per group)"
        details: dict[str, Any] = {
            "evaluated_on": label,
            "uri": uri,
            "pos_label": p.pos_label,
            "min_group_size": p.min_group_size,
            "groups": groups,
            "not_judged": not_judged,
        }
        if no_labels:
            details["not_computable"] = {
                m: "no true labels" for m in METRIC_NAMES if m not in LABEL_FREE
            }
        return Measurement(
            values=values,
            thresholds={m: b.applied() for m, b in p.thresholds.items()},
            violations=violations,
            details=details,
            library_versions={"numpy": np.__version__, "pandas": pd.__version__},
            ok_message=ok,
        )


def _sizes(tables: list[GroupTable]) -> str:
    """Group sizes of the single-feature groupings, e.g. "sex=female n=12, sex=male n=20"."""
    sizes = [
        f"{lab} n={int(n)}"
        for t in tables
        if "*" not in t.name
        for lab, n in zip(t.labels, t.counts.sum(axis=(1, 2)), strict=True)
    ]
    return ", ".join(sizes[:12]) + (", ..." if len(sizes) > 12 else "")
