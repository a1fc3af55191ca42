"""Model performance and business KPIs, optionally compared with the production champion.

Runs on the current window when one is given, otherwise on the reference data (like the
fairness check). Model metrics are scikit-learn's functions on the rows that have a label;
``roc_auc`` and ``log_loss`` use the score column (probability of ``pos_label``). Business
KPIs are declared data, never code: an aggregate (``mean``, ``sum``, ``count`` or ``rate``)
of one column over the rows matching ``where`` conditions. A ``column`` may be a real column
name or ``@prediction``, ``@score`` or ``@target`` for the column with that role.
"""

from __future__ import annotations

import logging
import operator
import warnings
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import sklearn
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sklearn import metrics as skm

from checks.base import (
    Bound,
    CheckContext,
    CheckInputError,
    CheckParams,
    ColumnRoles,
    InsufficientData,
    Measurement,
    Violation,
)
from checks.data import (
    ensure_predictions,
    evaluation_data,
    prediction_column,
    require_columns,
    score_column,
)

log = logging.getLogger(__name__)

KpiMetric = Literal[
    "accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "mse", "rmse", "mae", "r2"
]
METRICS: tuple[str, ...] = KpiMetric.__args__  # type: ignore[attr-defined]
SCORE_METRICS = {"roc_auc", "log_loss"}
LOWER_IS_BETTER = {"log_loss", "mse", "rmse", "mae"}
Scalar = int | float | bool | str
OPS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
OP_TEXT = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
    "not_in": "not in",
}
ROLE_TOKENS = ("@prediction", "@score", "@target")


class Condition(BaseModel):
    """One row filter: ``{column: purpose, op: ne, value: business}``."""

    model_config = ConfigDict(extra="forbid")

    column: str
    op: Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"] = "eq"
    value: Scalar | list[Scalar] | None

    @model_validator(mode="after")
    def _list_for_in(self) -> Condition:
        if (self.op in ("in", "not_in")) != isinstance(self.value, list):
            raise ValueError(
                f"op `{self.op}` needs a {'list' if 'in' in self.op else 'single'} value"
            )
        return self


class BusinessKpi(BaseModel):
    """``{name: approval_rate, aggregate: rate, column: "@prediction", equals: 1, bound: ...}``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    aggregate: Literal["mean", "sum", "count", "rate"]
    column: str | None = None
    equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    where: list[Condition] = Field(default_factory=list)
    bound: Bound | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BusinessKpi:
        if self.equals is not None and self.in_ is not None:
            raise ValueError("give `equals` or `in`, not both")
        matching = self.equals is not None or self.in_ is not None
        if self.aggregate == "rate" and not (self.column and matching):
            raise ValueError("aggregate `rate` needs `column` and `equals` or `in`")
        if self.aggregate in ("mean", "sum") and not self.column:
            raise ValueError(f"aggregate `{self.aggregate}` needs `column`")
        if matching and not self.column:
            raise ValueError("`equals`/`in` need `column`")
        return self


class Champion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_drop: dict[KpiMetric, float] = Field(default_factory=dict)


class KpiParams(CheckParams):
    metrics: dict[KpiMetric, Bound] = Field(default_factory=dict)
    business: list[BusinessKpi] = Field(default_factory=list)
    champion: Champion | None = None
    pos_label: Scalar = 1
    min_rows: int = Field(default=30, ge=1)  # fewer labeled rows: insufficient data

    @model_validator(mode="after")
    def _names(self) -> KpiParams:
        names = [b.name for b in self.business]
        if clash := sorted({n for n in names if n in METRICS or names.count(n) > 1}):
            raise ValueError(f"business KPI names must be unique and not metric names: {clash}")
        if self.champion and (bad := [d for d in self.champion.max_drop.values() if d < 0]):
            raise ValueError(f"champion max_drop must not be negative: {bad}")
        return self


def model_metric(
    name: str, y_true: pd.Series, y_pred: pd.Series | None, score: pd.Series | None, pos_label: Any
) -> float:
    """One scikit-learn metric; raises ValueError/TypeError when it cannot be computed."""
    if name == "accuracy":
        return float(skm.accuracy_score(y_true, y_pred))
    if name in ("precision", "recall", "f1"):
        fn = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}
        return float(fn[name](y_true, y_pred, pos_label=pos_label, zero_division=0))
    if name in SCORE_METRICS:
        assert score is not None
        positive = (y_true == pos_label).to_numpy()
        if name == "roc_auc":
            return float(skm.roc_auc_score(positive, score))
        return float(skm.log_loss(positive, score, labels=[False, True]))
    fn = {
        "mse": skm.mean_squared_error,
        "rmse": skm.root_mean_squared_error,
        "mae": skm.mean_absolute_error,
        "r2": skm.r2_score,
    }
    return float(fn[name](y_true, y_pred))


def _safe_metric(
    name: str, y_true: pd.Series, y_pred: pd.Series | None, score: pd.Series | None, pos_label: Any
) -> tuple[float | None, str | None]:
    """The metric, or None and the reason it is undefined (sklearn raises or warns + NaN)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = model_metric(name, y_true, y_pred, score, pos_label)
        except (ValueError, TypeError) as exc:
            return None, " ".join(str(exc).split())[:200]
    if value != value:
        why = str(caught[-1].message) if caught else "undefined for this data"
        return None, " ".join(why.split())[:200]
    return value, None


def _resolve(column: str, roles: ColumnRoles) -> str:
    if column == "@prediction":
        return prediction_column(roles)
    if column == "@score":
        return score_column(roles)
    if column == "@target":
        if not roles.target:
            raise CheckInputError("business KPI uses `@target`, but the schema names no target")
        return roles.target
    return column


def _coerce(series: pd.Series, value: Any, where: str) -> Any:
    """Make a YAML value comparable with a column (e.g. "3" against a numeric column)."""
    if isinstance(value, list):
        return [_coerce(series, v, where) for v in value]
    if isinstance(value, str) and pd.api.types.is_numeric_dtype(series):
        try:
            return float(value)
        except ValueError:
            raise CheckInputError(
                f"{where}: column `{series.name}` is numeric but the value {value!r} is not"
            ) from None
    return value


def _matches(series: pd.Series, op: str, value: Any, where: str) -> pd.Series:
    value = _coerce(series, value, where)
    if op in ("in", "not_in"):
        hit = series.isin(value)
        return ~hit if op == "not_in" else hit
    try:
        return OPS[op](series, value).fillna(False).astype(bool)
    except TypeError as exc:
        raise CheckInputError(
            f"{where}: cannot compare column `{series.name}` ({series.dtype}) with {value!r} "
            f"using `{op}`"
        ) from exc


def business_value(
    frame: pd.DataFrame, kpi: BusinessKpi, roles: ColumnRoles
) -> tuple[float | None, int]:
    """The KPI's value (None if no row matches) and the number of rows it was computed on."""
    where = f"business KPI `{kpi.name}`"
    mask = pd.Series(True, index=frame.index)
    for cond in kpi.where:
        mask &= _matches(frame[_resolve(cond.column, roles)], cond.op, cond.value, where)
    sub = frame.loc[mask]
    rows = len(sub)
    col = sub[_resolve(kpi.column, roles)] if kpi.column else None
    hit = None
    if col is not None and (kpi.equals is not None or kpi.in_ is not None):
        hit = _matches(
            col,
            "in" if kpi.in_ is not None else "eq",
            kpi.in_ if kpi.in_ is not None else kpi.equals,
            where,
        )
    if kpi.aggregate == "count":
        return float(rows if hit is None else hit.sum()), rows
    if rows == 0:
        return None, 0
    if hit is not None:  # mean or rate of a condition on the column
        return float(hit.mean()), rows
    assert col is not None
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise CheckInputError(
            f"{where}: `{kpi.aggregate}` needs a numeric column; `{col.name}` is {col.dtype} "
            "(use `equals`/`in` to take the share of a value)"
        )
    value = col.sum() if kpi.aggregate == "sum" else col.mean()
    return (None if pd.isna(value) else float(value)), rows


def _describe(kpi: BusinessKpi) -> str:
    conds = [f"{c.column} {OP_TEXT[c.op]} {c.value!r}" for c in kpi.where]
    return f" where {' and '.join(conds)}" if conds else ""


class KpiCheck:
    type: ClassVar[str] = "kpi"
    Params: ClassVar[type[CheckParams]] = KpiParams
    needs_current: ClassVar[bool] = False

    def measure(self, ctx: CheckContext, params: KpiParams) -> Measurement:
        ds, label = evaluation_data(ctx)
        if ds.rows == 0:
            raise InsufficientData(f"{label} {ds.uri} has no rows")
        roles = ctx.roles
        wanted = list(
            dict.fromkeys([*params.metrics, *(params.champion.max_drop if params.champion else {})])
        )
        columns = {
            _resolve(c, roles)
            for b in params.business
            for c in [b.column, *(w.column for w in b.where)]
            if c
        }
        need_score = any(m in SCORE_METRICS for m in wanted) or score_column(roles) in columns
        need_pred = (
            any(m not in SCORE_METRICS for m in wanted) or prediction_column(roles) in columns
        )
        if need_pred or need_score:
            ds = ensure_predictions(
                ds, roles, ctx.model, need_score=need_score, need_prediction=need_pred, label=label
            )
        frame = ds.frame
        values: dict[str, Any] = {"rows": len(frame)}
        not_computable: dict[str, str] = {}
        details: dict[str, Any] = {"evaluated_on": label, "uri": ds.uri}
        if wanted:
            if not roles.target:
                raise CheckInputError(
                    f"kpi metrics {', '.join(wanted)} need true labels, but the model version's "
                    "data schema names no target column"
                )
            require_columns(ds, [roles.target], role="target", source=ctx.source, label=label)
            labeled = frame[frame[roles.target].notna()]
            values["labeled_rows"] = len(labeled)
            if len(labeled) < params.min_rows:
                raise InsufficientData(
                    f"only {len(labeled)} labeled rows in {label} {ds.uri}; kpi metrics need at "
                    f"least {params.min_rows} (min_rows)"
                )
            y_true = labeled[roles.target]
            y_pred = labeled[prediction_column(roles)] if need_pred else None
            score = labeled[score_column(roles)] if need_score else None
            for m in wanted:
                values[m], why = _safe_metric(m, y_true, y_pred, score, params.pos_label)
                if why:
                    not_computable[m] = why
        business: dict[str, Any] = {}
        for kpi in params.business:
            cols = [kpi.column, *(w.column for w in kpi.where)]
            role = f"business KPI `{kpi.name}`"
            require_columns(
                ds,
                [_resolve(c, roles) for c in cols if c],
                role=role,
                source=ctx.source,
                label=label,
            )
            values[kpi.name], rows = business_value(frame, kpi, roles)
            business[kpi.name] = {
                "value": values[kpi.name],
                "rows": rows,
                "definition": f"{kpi.aggregate} of {kpi.column or 'rows'}{_describe(kpi)}",
            }
            if rows == 0 and kpi.aggregate != "count":
                not_computable[kpi.name] = f"no rows match{_describe(kpi)}"
        violations = self._violations(params, values, not_computable)
        champion = self._champion(params, values, ctx, violations)
        details.update(business=business, champion=champion, not_computable=not_computable)
        thresholds: dict[str, Any] = {m: b.applied() for m, b in params.metrics.items()}
        thresholds.update({k.name: k.bound.applied() for k in params.business if k.bound})
        if params.champion:
            thresholds["champion_max_drop"] = dict(params.champion.max_drop)
        return Measurement(
            values=values,
            thresholds=thresholds,
            violations=violations,
            details=details,
            library_versions={"scikit-learn": sklearn.__version__, "numpy": np.__version__},
            ok_message="all KPI thresholds met",
        )

    @staticmethod
    def _violations(p: KpiParams, values: dict[str, Any], why: dict[str, str]) -> list[Violation]:
        out: list[Violation] = []
        bounds = [*p.metrics.items(), *((k.name, k.bound) for k in p.business if k.bound)]
        for name, bound in bounds:
            v = bound.violation(name, values.get(name))
            if v is not None and name in why:
                v = v.model_copy(update={"message": f"{name} could not be computed: {why[name]}"})
            if v is not None:
                out.append(v)
        return out

    @staticmethod
    def _champion(
        p: KpiParams, values: dict[str, Any], ctx: CheckContext, out: list[Violation]
    ) -> dict[str, Any]:
        report: dict[str, Any] = {}
        if not p.champion:
            return report
        known = ctx.champion_values or {}
        for name, max_drop in p.champion.max_drop.items():
            ours, theirs = values.get(name), known.get(name)
            if theirs is None or ours is None:
                report[name] = {
                    "compared": False,
                    "reason": "no champion value"
                    if theirs is None
                    else "not computed for this model",
                }
                continue
            lower = name in LOWER_IS_BETTER
            drop = (ours - float(theirs)) if lower else (float(theirs) - ours)
            report[name] = {
                "compared": True,
                "value": ours,
                "champion": float(theirs),
                "drop": drop,
                "max_drop": max_drop,
            }
            if drop > max_drop:
                way, allowed = ("above", "increase") if lower else ("below", "drop")
                out.append(
                    Violation(
                        metric=f"{name}_drop_vs_champion",
                        value=drop,
                        threshold=max_drop,
                        op="<=",
                        message=f"{name} {ours:.4g} is {drop:.4g} {way} the champion's "
                        f"{float(theirs):.4g} (max allowed {allowed} {max_drop:.4g})",
                    )
                )
        return report
