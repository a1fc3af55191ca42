"""The fairness arithmetic: per-group confusion counts in one ``np.bincount`` pass per
grouping, the rates derived from them, and the disparities between groups, with fairlearn's
definitions (see `checks.fairness` for the check that judges them)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from checks.base import CheckInputError

RATES = ("selection_rate", "tpr", "fpr", "fnr", "accuracy", "precision", "recall")
MISSING = "(missing)"
MAX_NUMERIC_LEVELS = 20  # a numeric sensitive feature with more distinct values needs bins


@dataclass
class GroupTable:
    """Per-group counts and rates for one grouping (a feature or an intersection)."""

    name: str  # "sex" or "sex*age"
    labels: list[str]  # "sex=female" / "sex=female, age=<25"
    keys: list[dict[str, str]]
    counts: np.ndarray  # (G, 3, 2): label {0, 1, missing} x prediction {0, 1}
    missing: np.ndarray  # (G,) bool: a sensitive value is missing

    def rates(self) -> dict[str, np.ndarray]:
        c = self.counts.astype(np.float64)
        tn, fp, fn, tp = c[:, 0, 0], c[:, 0, 1], c[:, 1, 0], c[:, 1, 1]
        n = c.sum(axis=(1, 2))
        labeled = tn + fp + fn + tp
        with np.errstate(divide="ignore", invalid="ignore"):
            zero = lambda num, den: np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)  # noqa: E731
            return {
                "count": self.counts.sum(axis=(1, 2)),
                "selection_rate": c[:, :, 1].sum(axis=1) / n,
                "tpr": zero(tp, tp + fn),
                "fpr": zero(fp, fp + tn),
                "fnr": zero(fn, tp + fn),
                "accuracy": np.where(labeled > 0, (tp + tn) / labeled, np.nan),
                "precision": zero(tp, tp + fp),
                "recall": zero(tp, tp + fn),
                "positives": self.counts[:, 1, :].sum(axis=1),
                "negatives": self.counts[:, 0, :].sum(axis=1),
            }


def _codes(series: pd.Series, col: str, edges: list[float] | None) -> tuple[np.ndarray, list]:
    """Integer codes (-1 = missing) and the level of each code."""
    if edges is not None:
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            raise CheckInputError(f"bins for `{col}` need a numeric column; it is {series.dtype}")
        names = [f"<{edges[0]:g}"]
        names += [f"[{a:g}, {b:g})" for a, b in pairwise(edges)]
        names += [f">={edges[-1]:g}"]
        cut = pd.cut(series, [-np.inf, *edges, np.inf], right=False, labels=names)
        return cut.cat.codes.to_numpy(np.int64), names
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64), list(series.cat.categories)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        levels = series.nunique()
        if levels > MAX_NUMERIC_LEVELS:
            raise CheckInputError(
                f"sensitive feature `{col}` is numeric with {levels} distinct values; bucket "
                f"it with `bins`, e.g. bins: {{{col}: [25]}}"
            )
    try:
        codes, uniques = pd.factorize(series, sort=True)
    except TypeError:  # values that cannot be ordered
        codes, uniques = pd.factorize(series, sort=False)
    return codes.astype(np.int64), list(uniques)


def group_tables(
    frame: pd.DataFrame,
    sensitive: list[str],
    y_pred: pd.Series,
    y_true: pd.Series | None,
    *,
    pos_label: Any = 1,
    bins: dict[str, list[float]] | None = None,
    intersections: bool = True,
) -> list[GroupTable]:
    """Confusion counts per group of each feature, and of their cross product, in one pass."""
    bins = bins or {}
    codes, levels = [], []
    for col in sensitive:
        c, lv = _codes(frame[col], col, bins.get(col))
        codes.append(np.where(c < 0, len(lv), c))  # the last level of each axis is "missing"
        levels.append([str(v) for v in lv] + [MISSING])
    shape = tuple(len(lv) for lv in levels)
    if int(np.prod(shape)) > 5_000_000:
        raise CheckInputError(f"too many groups ({int(np.prod(shape)):,}) in {sensitive}")
    cell = np.ravel_multi_index(codes, shape) if len(codes) > 1 else codes[0]
    yp = y_pred.eq(pos_label).to_numpy(dtype=np.int64, na_value=0)
    if y_true is None:
        yt = np.full(len(frame), 2, dtype=np.int64)
    else:
        yt = y_true.eq(pos_label).to_numpy(dtype=np.int64, na_value=0)
        yt[y_true.isna().to_numpy()] = 2
    flat = np.bincount(cell * 6 + yt * 2 + yp, minlength=int(np.prod(shape)) * 6)
    full = flat.reshape((*shape, 3, 2))

    def table(name: str, axes: list[int]) -> GroupTable:
        other = tuple(i for i in range(len(shape)) if i not in axes)
        sub = full.sum(axis=other) if other else full
        sub = sub.reshape(-1, 3, 2)
        labels, keys, missing, keep = [], [], [], []
        for flat_i, idx in enumerate(np.ndindex(*(shape[a] for a in axes))):
            if sub[flat_i].sum() == 0:
                continue  # an empty combination is no group (fairlearn shows NaN, skips it)
            key = {sensitive[a]: levels[a][j] for a, j in zip(axes, idx, strict=True)}
            keep.append(flat_i)
            keys.append(key)
            labels.append(", ".join(f"{k}={v}" for k, v in key.items()))
            missing.append(any(j == shape[a] - 1 for a, j in zip(axes, idx, strict=True)))
        return GroupTable(name, labels, keys, sub[keep], np.array(missing, dtype=bool))

    out = [table(col, [i]) for i, col in enumerate(sensitive)]
    if intersections and len(sensitive) > 1:
        out.append(table("*".join(sensitive), list(range(len(sensitive)))))
    return out


def disparities(r: dict[str, np.ndarray], judged: np.ndarray) -> dict[str, tuple]:
    """{metric: (value, rate it is based on, index of the low group, index of the high group)}."""
    idx = np.flatnonzero(judged)
    out: dict[str, tuple] = {}
    for rate in RATES:
        v = r[rate][idx]
        ok = ~np.isnan(v)
        if ok.sum() < 2:
            out[f"{rate}_gap"] = out[f"{rate}_ratio"] = (float("nan"), rate, None, None)
            continue
        lo, hi = idx[ok][np.argmin(v[ok])], idx[ok][np.argmax(v[ok])]
        mn, mx = float(r[rate][lo]), float(r[rate][hi])
        out[f"{rate}_gap"] = (mx - mn, rate, lo, hi)
        out[f"{rate}_ratio"] = (mn / mx if mx != 0 else float("nan"), rate, lo, hi)
    out["demographic_parity_difference"] = out["selection_rate_gap"]
    out["demographic_parity_ratio"] = out["selection_rate_ratio"]
    out["equal_opportunity_difference"] = out["tpr_gap"]
    # fairlearn applies Python's max()/min() to the (TPR, FPR) pair: the FPR figure wins only
    # if it compares strictly greater (smaller), so a NaN TPR ratio stays NaN.
    t, f = out["tpr_gap"], out["fpr_gap"]
    out["equalized_odds_difference"] = f if f[0] > t[0] else t
    t, f = out["tpr_ratio"], out["fpr_ratio"]
    out["equalized_odds_ratio"] = f if f[0] < t[0] else t
    return out
