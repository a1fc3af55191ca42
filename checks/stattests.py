"""Evidently 0.7.23's per-column drift tests, computed on columns prepared once.

Evidently (``evidently.legacy.calculations.stattests``) re-sorts and re-counts both samples for
every test. Here each side of a column is prepared once into a :class:`ColumnData` (finite values
sorted, or category counts) and every test works from that, so the reference side can be cached
in a :class:`checks.drift_profile.ReferenceProfile` and reused by scheduled runs. The scores are
the ones evidently's own ``StatTest`` objects return on the same data (the test suite compares
them), and the default test and threshold are chosen by the rule of evidently's
``registry._get_default_stattest``:

* reference with <= 1000 non-missing values: numerical with > 5 distinct values (reference and
  current together) -> ``ks``; otherwise ``chisquare`` if > 2 distinct values, else ``z``.
* reference with > 1000 values: numerical with > 5 distinct values -> ``wasserstein`` (normed);
  otherwise (and every categorical column) -> ``jensenshannon``.

P-value tests (ks, chisquare, z: threshold 0.05) detect drift when the p-value is below the
threshold (``ks``: at or below); distances (wasserstein, jensenshannon, psi, kl_div: 0.1) when
the distance is at or above it. Tests without a fast version here are delegated to evidently.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

Kind = Literal["num", "cat"]
NUM: Kind = "num"
CAT: Kind = "cat"
SMALL_REFERENCE = 1000  # evidently: reference_data.shape[0] <= 1000 picks the small-sample tests
KEYS_LIMIT = 1000  # numerical columns with at most this many distinct values keep their counts


@dataclass(eq=False)
class ColumnData:
    """One side of one column, without NaN/inf (evidently drops them before testing).

    Numerical columns keep their values sorted (float64); every column with few distinct values
    keeps them with their counts, in order of first appearance (the order evidently's
    ``set(series.unique())`` sees, so sums run in the same order and scores match to the bit).
    """

    kind: Kind
    n: int
    nunique: int
    values: np.ndarray | None = None  # numerical: sorted finite values
    std: float = math.nan  # numerical: population std, as evidently's np.std(series)
    is_int: bool = False
    keys: list[Any] | None = None
    counts: np.ndarray | None = None
    _count_map: dict[Any, int] | None = field(default=None, repr=False)

    def value_counts(self) -> tuple[list[Any], np.ndarray]:
        if self.keys is None or self.counts is None:  # many numerical values: value order
            assert self.values is not None
            starts = np.flatnonzero(np.r_[True, self.values[1:] != self.values[:-1]])
            self.counts = np.diff(np.r_[starts, self.n])
            self.keys = self.values[starts].tolist()  # set last: other threads test keys
        return self.keys, self.counts

    def count_map(self) -> dict[Any, int]:
        if self._count_map is None:
            keys, counts = self.value_counts()
            self._count_map = dict(zip(keys, counts.tolist(), strict=True))
        return self._count_map

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_count_map"] = None
        return state


def prepare_column(series: pd.Series, kind: Kind) -> ColumnData:
    """Drop missing and infinite values and sort (numerical) or count (categorical) the rest."""
    if kind == NUM:
        return _prepare_numerical(series)
    s = series
    if pd.api.types.is_float_dtype(s.dtype):
        s = s[np.isfinite(s.to_numpy(dtype=np.float64, na_value=np.nan))]
    vc = s.value_counts(sort=False, dropna=True)  # keys in order of first appearance
    vc = vc[vc > 0]  # pandas categoricals also list unobserved categories
    counts = vc.to_numpy(dtype=np.int64)
    return ColumnData(
        kind=CAT, n=int(counts.sum()), nunique=len(counts), keys=vc.index.tolist(), counts=counts
    )


def _prepare_numerical(series: pd.Series) -> ColumnData:
    raw = series.to_numpy()
    if raw.dtype.kind in "iu":
        finite, is_int = raw, True
    else:
        if raw.dtype.kind != "f":
            raw = series.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isfinite(raw)
        finite, is_int = (raw if ok.all() else raw[ok]), False
    values = np.sort(finite.astype(np.float64, copy=False))
    n = len(values)
    nunique = 0 if n == 0 else 1 + int(np.count_nonzero(values[1:] != values[:-1]))
    out = ColumnData(kind=NUM, n=n, nunique=nunique, values=values, is_int=is_int)
    if n:
        out.std = float(pd.Series(finite).std(ddof=0))
    if 0 < nunique <= KEYS_LIMIT:
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        run_counts = np.diff(np.r_[starts, n])
        order = pd.unique(finite)  # first appearance, as evidently's series.unique()
        idx = np.searchsorted(values[starts], order.astype(np.float64))
        out.keys, out.counts = order.tolist(), run_counts[idx]
    return out


# --------------------------------------------------------------------------- test catalogue


@dataclass(frozen=True)
class StatTestSpec:
    name: str
    kinds: tuple[Kind, ...]  # column kinds evidently allows the test for when named in options
    default_threshold: float
    score: Literal["p_value", "distance"]
    op: Literal["<", "<=", ">", ">="]  # drifted when `score op threshold`

    def drifted(self, score: float, threshold: float) -> bool:
        return bool(
            {"<": score < threshold, "<=": score <= threshold, ">": score > threshold}.get(
                self.op, score >= threshold
            )
        )


_SPECS = [
    StatTestSpec("ks", (NUM,), 0.05, "p_value", "<="),
    StatTestSpec("chisquare", (CAT,), 0.05, "p_value", "<"),
    StatTestSpec("z", (CAT,), 0.05, "p_value", "<"),
    StatTestSpec("wasserstein", (NUM,), 0.1, "distance", ">="),
    StatTestSpec("jensenshannon", (CAT, NUM), 0.1, "distance", ">="),
    StatTestSpec("psi", (CAT, NUM), 0.1, "distance", ">="),
    StatTestSpec("kl_div", (CAT, NUM), 0.1, "distance", ">="),
    # computed by evidently itself (no fast version here)
    StatTestSpec("anderson", (NUM,), 0.1, "p_value", "<"),
    StatTestSpec("cramer_von_mises", (NUM,), 0.1, "p_value", "<="),
    StatTestSpec("ed", (NUM,), 0.1, "distance", ">"),
    StatTestSpec("es", (NUM,), 0.05, "p_value", "<"),
    StatTestSpec("fisher_exact", (CAT,), 0.1, "p_value", "<"),
    StatTestSpec("g_test", (CAT,), 0.1, "p_value", "<"),
    StatTestSpec("hellinger", (CAT, NUM), 0.1, "distance", ">="),
    StatTestSpec("mannw", (NUM,), 0.05, "p_value", "<"),
    StatTestSpec("empirical_mmd", (NUM,), 0.1, "p_value", "<"),
    StatTestSpec("t_test", (NUM,), 0.05, "p_value", "<"),
    StatTestSpec("TVD", (CAT,), 0.1, "p_value", "<"),
]
STATTESTS: dict[str, StatTestSpec] = {s.name: s for s in _SPECS}


def default_stattest(ref: ColumnData, cur: ColumnData) -> str:
    """The test evidently 0.7.23 picks for this column when none is configured."""
    small = ref.n <= SMALL_REFERENCE
    if ref.kind == NUM and max(ref.nunique, cur.nunique) > 5:
        return "ks" if small else "wasserstein"
    n_values = union_nunique(ref, cur)
    if small:
        if ref.kind == NUM and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if ref.kind == NUM and n_values > 5:
        return "wasserstein"
    return "jensenshannon"


def union_nunique(ref: ColumnData, cur: ColumnData) -> int:
    """Distinct non-missing values of both sides together (evidently's concat(...).nunique())."""
    return len(set(ref.value_counts()[0]) | set(cur.value_counts()[0]))


@dataclass(frozen=True)
class StatResult:
    stattest: str
    score: float
    threshold: float
    drifted: bool


def run_stattest(
    name: str, ref: ColumnData, cur: ColumnData, threshold: float | None = None
) -> StatResult:
    """Score one column with the named test; raises ValueError for unknown/unsuitable tests."""
    spec = STATTESTS.get(name)
    if spec is None:
        raise ValueError(f"unknown stattest `{name}`; known: {', '.join(sorted(STATTESTS))}")
    thr = spec.default_threshold if threshold is None else float(threshold)
    fast = _FAST.get(name)
    if fast is None:
        return _evidently_stattest(name, ref, cur, thr)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        score = float(fast(ref, cur))
    return StatResult(name, score, thr, spec.drifted(score, thr))


# --------------------------------------------------------------------------- fast versions


def _merge(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge two sorted arrays; also return, per position, how many items of `a` are at or
    before it (with ties, `a` first). At the last position of each run of equal values this is
    exactly #a <= value, i.e. what searchsorted(a, value, 'right') gives scipy."""
    n, m = len(a), len(b)
    pos_b = searchsorted_sorted(a, b, "right")
    pos_b += np.arange(m)
    is_a = np.ones(n + m, dtype=bool)
    is_a[pos_b] = False
    merged = np.empty(n + m, dtype=np.float64)
    merged[pos_b] = b
    merged[is_a] = a
    return merged, np.cumsum(is_a)


def searchsorted_sorted(
    a: np.ndarray, keys: np.ndarray, side: Literal["left", "right"], block: int = 4096
) -> np.ndarray:
    """np.searchsorted(a, keys, side) for sorted keys: locate every `block`-th key first, then
    search each block of keys only in its slice of `a`, which stays in cache."""
    if len(keys) < 4 * block:
        return np.searchsorted(a, keys, side)
    anchors = np.searchsorted(a, keys[::block], side)
    ends = np.r_[anchors[1:], len(a)]
    out = np.empty(len(keys), dtype=np.intp)
    for k, (lo, hi) in enumerate(zip(anchors.tolist(), ends.tolist(), strict=True)):
        part = slice(k * block, (k + 1) * block)
        np.add(np.searchsorted(a[lo:hi], keys[part], side), lo, out=out[part])
    return out


def _wasserstein(ref: ColumnData, cur: ColumnData) -> float:
    """scipy.stats.wasserstein_distance / max(std(reference), 0.001), bit for bit: at positions
    where the merged values tie, scipy's CDF counts differ from ours but the gap is 0 there."""
    merged, a_cnt = _merge(ref.values, cur.values)  # type: ignore[arg-type]
    n, m = ref.n, cur.n
    deltas = np.diff(merged)
    del merged
    a_cnt = a_cnt[:-1]
    b_cnt = np.arange(1, n + m)
    b_cnt -= a_cnt
    gap = a_cnt / n
    np.subtract(gap, b_cnt / m, out=gap)
    np.abs(gap, out=gap)
    return float(np.vecdot(gap, deltas)) / max(float(ref.std), 0.001)


def _ks(ref: ColumnData, cur: ColumnData) -> float:
    """Two-sided two-sample KS p-value as scipy.stats.ks_2samp(method='auto')."""
    from scipy import stats

    n1, n2 = ref.n, cur.n
    if max(n1, n2) <= 10000:  # scipy's exact mode; small enough to let scipy do all of it
        return float(stats.ks_2samp(ref.values, cur.values)[1])
    merged, a_cnt = _merge(ref.values, cur.values)  # type: ignore[arg-type]
    last = np.r_[merged[1:] != merged[:-1], True]  # last of each run of equal values
    a_at = a_cnt[last]
    b_at = np.flatnonzero(last) + 1 - a_at
    cddiffs = a_at / n1 - b_at / n2
    min_s = np.clip(-cddiffs.min(), 0, 1)
    max_s = cddiffs.max()
    d = min_s if min_s > max_s else max_s
    m, k = sorted([float(n1), float(n2)], reverse=True)
    en = m * k / (m + k)
    return float(np.clip(stats.distributions.kstwo.sf(d, np.round(en)), 0, 1))


def _union_keys(ref: ColumnData, cur: ColumnData) -> list[Any]:
    return list(set(ref.value_counts()[0]) | set(cur.value_counts()[0]))


def _chisquare(ref: ColumnData, cur: ColumnData) -> float:
    from scipy.stats import chisquare

    keys = _union_keys(ref, cur)
    rmap, cmap = ref.count_map(), cur.count_map()
    k_norm = cur.n / ref.n
    f_exp = [rmap.get(key, 0) * k_norm for key in keys]
    f_obs = [cmap.get(key, 0) for key in keys]
    return float(chisquare(f_obs, f_exp)[1])


def _z(ref: ColumnData, cur: ColumnData) -> float:
    from scipy.stats import norm

    rkeys, ckeys = ref.value_counts()[0], cur.value_counts()[0]
    if len(rkeys) == 1 and len(ckeys) == 1 and rkeys[0] == ckeys[0]:
        return 1.0
    first = sorted(_union_keys(ref, cur))[0]
    n1, n2 = ref.n, cur.n
    p1 = float(n1 - ref.count_map().get(first, 0)) / n1
    p2 = float(n2 - cur.count_map().get(first, 0)) / n2
    p = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(p * (1 - p) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - norm.cdf(np.abs(z))))


def sturges_edges(ref: ColumnData, cur: ColumnData) -> np.ndarray:
    """np.histogram_bin_edges(concat(ref, cur), bins='sturges') from the two sorted sides."""
    a, b = ref.values, cur.values
    assert a is not None and b is not None
    first, last = min(a[0], b[0]), max(a[-1], b[-1])
    if first == last:
        first, last = first - 0.5, last + 0.5
    width = (last - first) / (np.log2(ref.n + cur.n) + 1.0)
    if ref.is_int and cur.is_int and width < 1:
        width = 1
    n_bins = int(np.ceil((last - first) / width)) if width else 1
    return np.linspace(first, last, n_bins + 1, endpoint=True, dtype=np.float64)


def _hist(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram(values, edges)[0] for sorted values (numpy's own non-uniform-bins path)."""
    cum = np.concatenate(
        (values.searchsorted(edges[:-1], "left"), values.searchsorted(edges[-1:], "right"))
    )
    return np.diff(cum)


def binned_percents(
    ref: ColumnData, cur: ColumnData, fill_zeroes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """evidently's stattests.utils.get_binned_data: Sturges bins over both samples for a
    numerical column with > 20 distinct reference values, else one bin per value."""
    if ref.kind == NUM and ref.nunique > 20:
        edges = sturges_edges(ref, cur)
        rp = _hist(ref.values, edges) / ref.n  # type: ignore[arg-type]
        cp = _hist(cur.values, edges) / cur.n  # type: ignore[arg-type]
    else:
        keys = _union_keys(ref, cur)
        rmap, cmap = ref.count_map(), cur.count_map()
        rp = np.array([rmap.get(k, 0) / ref.n for k in keys])
        cp = np.array([cmap.get(k, 0) / cur.n for k in keys])
    if fill_zeroes:
        for arr in (rp, cp):
            low = min(arr[arr != 0])
            np.place(arr, arr == 0, low / 10**6 if low <= 0.0001 else 0.0001)
    return rp, cp


def _jensenshannon(ref: ColumnData, cur: ColumnData) -> float:
    from scipy.spatial import distance

    return float(distance.jensenshannon(*binned_percents(ref, cur, False)))


def _psi(ref: ColumnData, cur: ColumnData) -> float:
    rp, cp = binned_percents(ref, cur, True)
    return float(np.sum((rp - cp) * np.log(rp / cp)))


def _kl_div(ref: ColumnData, cur: ColumnData) -> float:
    from scipy import stats

    return float(stats.entropy(*binned_percents(ref, cur, True)))


_FAST = {
    "ks": _ks,
    "chisquare": _chisquare,
    "z": _z,
    "wasserstein": _wasserstein,
    "jensenshannon": _jensenshannon,
    "psi": _psi,
    "kl_div": _kl_div,
}


def to_series(col: ColumnData) -> pd.Series:
    """The column's non-missing values as a Series (order: sorted / grouped by value)."""
    if col.kind == NUM:
        assert col.values is not None
        return pd.Series(col.values.astype(np.int64) if col.is_int else col.values)
    keys, counts = col.value_counts()
    return pd.Series(np.repeat(np.array(keys, dtype=object), counts))


def _evidently_stattest(name: str, ref: ColumnData, cur: ColumnData, thr: float) -> StatResult:
    """Delegate a test without a fast version to evidently's own implementation."""
    from evidently.legacy.calculations.stattests.registry import get_registered_stattest
    from evidently.legacy.core import ColumnType

    ctype = ColumnType.Numerical if ref.kind == NUM else ColumnType.Categorical
    res = get_registered_stattest(name, ctype)(to_series(ref), to_series(cur), ctype, thr)
    return StatResult(name, float(res.drift_score), thr, bool(res.drifted))
