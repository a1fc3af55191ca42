"""Data quality of the current window: columns, types, missing values, ranges, new categories.

Every problem found is its own violation with a one-line message, so a report lists them all
rather than stopping at the first. A column named in a rule but absent from the window is a
violation of that rule (a quality finding), not an error.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, ClassVar, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

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

log = logging.getLogger(__name__)

Share = Annotated[float, Field(ge=0, le=1)]
DType = Literal["numeric", "categorical", "datetime", "bool"]
BOOL_VALUES = [True, False, "true", "false", "True", "False", "TRUE", "FALSE"]  # 1/0 == True/False


class UnseenCategories(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] | None = None  # default: every categorical feature
    max_share: float = Field(default=0.0, ge=0, le=1)  # of the window's rows


class QualityParams(CheckParams):
    required_columns: list[str] | None = None  # default: the role columns (see below)
    dtypes: dict[str, DType] = Field(default_factory=dict)
    max_missing_share: Share | dict[str, Share] | None = None  # a float applies to all required
    ranges: dict[str, Bound] = Field(default_factory=dict)
    unseen_categories: UnseenCategories | None = None


def default_required(roles: ColumnRoles, has_model: bool) -> list[str]:
    """The role columns a window must have: features, sensitive features, timestamp, and the
    prediction/score columns when there is no model to compute them. The target is left out:
    labels usually arrive after the window is scored."""
    cols = [*roles.features, *roles.sensitive_features, roles.timestamp]
    if not has_model:
        cols += [roles.prediction, roles.score]
    return [c for c in dict.fromkeys(cols) if c]


def categorical_features(roles: ColumnRoles, frame: pd.DataFrame) -> list[str]:
    """The schema's categorical columns, or the features whose dtype is not numeric."""
    if roles.categorical is not None:
        return list(roles.categorical)
    return [
        c
        for c in roles.features
        if c in frame.columns
        and (not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]


def _example(values: pd.Series, k: int = 3) -> str:
    shown = [repr(v) for v in pd.unique(values)[:k]]
    return ", ".join(shown) + (", ..." if values.nunique() > k else "")


def dtype_problem(s: pd.Series, want: str) -> str | None:
    """Why column `s` is not of kind `want`, or None if it is."""
    values = s.dropna()
    if want == "numeric":
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            return None
        if pd.api.types.is_bool_dtype(s):
            return "it holds true/false values"
        bad = values[pd.to_numeric(values, errors="coerce").isna()]
        if len(bad) == 0:
            return f"it is stored as {s.dtype}, not as numbers"
        return f"{len(bad)} of {len(values)} values are not numbers (e.g. {_example(bad)})"
    if want == "bool":
        if pd.api.types.is_bool_dtype(s):
            return None
        bad = values[~values.isin(BOOL_VALUES)]
        if len(bad) == 0:
            return None
        return f"{len(bad)} of {len(values)} values are not true/false (e.g. {_example(bad)})"
    if want == "datetime":
        if pd.api.types.is_datetime64_any_dtype(s):
            return None
        if pd.api.types.is_numeric_dtype(s):
            return f"it holds numbers ({s.dtype}), not dates"
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = values[parsed.isna()]
        if len(bad) == 0:
            return None
        return f"{len(bad)} of {len(values)} values are not dates (e.g. {_example(bad)})"
    # categorical: text, category or bool; numbers with a fractional part are not categories
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    if pd.api.types.is_float_dtype(s) and (values % 1 != 0).any():
        return f"it holds continuous numbers ({s.dtype})"
    return None


class QualityCheck:
    type: ClassVar[str] = "quality"
    Params: ClassVar[type[CheckParams]] = QualityParams
    needs_current: ClassVar[bool] = True

    def measure(self, ctx: CheckContext, params: QualityParams) -> Measurement:
        if ctx.current is None:
            raise CheckInputError("the quality check needs a current data window; none was given")
        ds = ctx.current
        frame, where = ds.frame, f"current window {ds.uri}"
        if len(frame) == 0:
            raise InsufficientData(f"{where} has no rows")
        required = (
            params.required_columns
            if params.required_columns is not None
            else default_required(ctx.roles, ctx.model is not None)
        )
        out: list[Violation] = []
        values: dict[str, Any] = {"rows": len(frame), "columns": frame.shape[1]}
        present = set(frame.columns)

        def absent(col: str, rule: str) -> bool:
            if col in present:
                return False
            if col not in required:  # a required column is reported once, below
                out.append(
                    _v(
                        f"{rule}[{col}]",
                        None,
                        "present",
                        "present",
                        f"column `{col}` (named in {rule}) is not in {where}",
                    )
                )
            return True

        missing_cols = [c for c in required if c not in present]
        for col in missing_cols:
            out.append(
                _v(
                    f"required[{col}]",
                    None,
                    "present",
                    "present",
                    f"required column `{col}` is missing from {where}",
                )
            )
        values["missing_columns"] = missing_cols

        for col, want in params.dtypes.items():
            if absent(col, "dtypes"):
                continue
            if problem := dtype_problem(frame[col], want):
                out.append(
                    _v(
                        f"dtype[{col}]",
                        str(frame[col].dtype),
                        want,
                        "is",
                        f"column `{col}` should be {want}: {problem}",
                    )
                )

        self._missing(params, frame, required, absent, out, values)
        self._ranges(params, frame, absent, out, values)
        details: dict[str, Any] = {"uri": ds.uri, "required_columns": required}
        if params.unseen_categories is not None:
            details["unseen_categories"] = self._unseen(
                ctx, params.unseen_categories, absent, out, values
            )
        thresholds: dict[str, Any] = {
            "required_columns": required,
            "dtypes": dict(params.dtypes),
            "max_missing_share": params.max_missing_share,
            "ranges": {c: b.applied() for c, b in params.ranges.items()},
        }
        if params.unseen_categories is not None:
            thresholds["unseen_categories_max_share"] = params.unseen_categories.max_share
        return Measurement(
            values=values,
            thresholds=thresholds,
            violations=out,
            details=details,
            library_versions={"pandas": pd.__version__},
            ok_message="all data quality rules met",
        )

    @staticmethod
    def _missing(
        p: QualityParams,
        frame: pd.DataFrame,
        required: list[str],
        absent: Any,
        out: list[Violation],
        values: dict[str, Any],
    ) -> None:
        if p.max_missing_share is None:
            return
        limits = (
            dict(p.max_missing_share)
            if isinstance(p.max_missing_share, dict)
            else {c: p.max_missing_share for c in (required or list(frame.columns))}
        )
        shares: dict[str, float] = {}
        for col, limit in limits.items():
            if absent(col, "max_missing_share"):
                continue
            n_missing = int(frame[col].isna().sum())
            shares[col] = share = n_missing / len(frame)
            if share > limit:
                out.append(
                    _v(
                        f"missing_share[{col}]",
                        share,
                        limit,
                        "<=",
                        f"column `{col}` is {share:.1%} missing ({n_missing} of "
                        f"{len(frame)} rows), above the {limit:.1%} allowed",
                    )
                )
        values["missing_share"] = shares

    @staticmethod
    def _ranges(
        p: QualityParams,
        frame: pd.DataFrame,
        absent: Any,
        out: list[Violation],
        values: dict[str, Any],
    ) -> None:
        seen: dict[str, Any] = {}
        for col, bound in p.ranges.items():
            if absent(col, "ranges"):
                continue
            s = frame[col]
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                out.append(
                    _v(
                        f"range[{col}]",
                        str(frame[col].dtype),
                        "numeric",
                        "is",
                        f"column `{col}` has a range rule but is not numeric ({s.dtype})",
                    )
                )
                continue
            below = s < bound.min if bound.min is not None else pd.Series(False, index=s.index)
            above = s > bound.max if bound.max is not None else pd.Series(False, index=s.index)
            n_out = int((below | above).sum())
            lo, hi = s.min(), s.max()
            seen[col] = {"min": _f(lo), "max": _f(hi), "outside": n_out}
            if n_out:
                want = " and ".join(
                    f"{k} {v:g}"
                    for k, v in (("min", bound.min), ("max", bound.max))
                    if v is not None
                )
                out.append(
                    _v(
                        f"range[{col}]",
                        n_out,
                        str(bound.applied()),
                        "within",
                        f"column `{col}` has {n_out} values outside {want} (seen "
                        f"{_f(lo):g} to {_f(hi):g})",
                    )
                )
        values["ranges"] = seen

    @staticmethod
    def _unseen(
        ctx: CheckContext,
        rule: UnseenCategories,
        absent: Any,
        out: list[Violation],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        if ctx.reference is None:
            raise CheckInputError(
                "the quality rule `unseen_categories` compares with reference data, but the "
                "model version has none"
            )
        ref, cur = ctx.reference.frame, ctx.current.frame  # type: ignore[union-attr]
        columns = rule.columns if rule.columns is not None else categorical_features(ctx.roles, ref)
        report: dict[str, Any] = {}
        shares: dict[str, float] = {}
        for col in columns:
            if absent(col, "unseen_categories"):
                continue
            if col not in ref.columns:
                raise CheckInputError(
                    f"column `{col}` (unseen_categories) is not in reference data "
                    f"{ctx.reference.uri}"
                )
            known = set(pd.unique(ref[col].dropna()).tolist())
            s = cur[col].dropna()
            new = s[~s.isin(known)]
            shares[col] = share = len(new) / len(cur)
            counts = new.value_counts().head(10)
            report[col] = {
                "new_values": {str(k): int(v) for k, v in counts.items()},
                "share": share,
            }
            if share > rule.max_share:
                top = ", ".join(f"{k!r} ({v})" for k, v in counts.head(5).items())
                out.append(
                    _v(
                        f"unseen_categories[{col}]",
                        share,
                        rule.max_share,
                        "<=",
                        f"column `{col}` has {share:.1%} of rows with categories not in "
                        f"the reference data (max {rule.max_share:.1%}): {top}",
                    )
                )
        values["unseen_category_share"] = shares
        return report


def _f(x: Any) -> float:
    return float(x) if x is not None and x == x else float("nan")


def _v(metric: str, value: Any, threshold: Any, op: str, message: str) -> Violation:
    return Violation(metric=metric, value=value, threshold=threshold, op=op, message=message)
