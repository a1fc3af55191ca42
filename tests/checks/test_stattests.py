"""Our drift tests against evidently 0.7.23's own StatTest functions, on the same data."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from checks.drift_profile import (
    ReferenceProfile,
    clear_cache,
    get_profile,
    infer_kind,
)
from checks.stattests import (
    CAT,
    NUM,
    STATTESTS,
    default_stattest,
    prepare_column,
    run_stattest,
    searchsorted_sorted,
    sturges_edges,
)

ROOT = Path(__file__).resolve().parents[2]
GERMAN_CSV = ROOT / "modelgate" / "demo_data" / "german_credit.csv"
FAST = ["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi", "kl_div"]


def evidently_result(name: str, ref: pd.Series, cur: pd.Series, kind: str, threshold=None):
    """evidently's StatTest on the data as get_one_column_drift hands it over (NaN/inf gone)."""
    from evidently.legacy.calculations.stattests.registry import get_registered_stattest
    from evidently.legacy.core import ColumnType

    ctype = ColumnType.Numerical if kind == NUM else ColumnType.Categorical
    ref = ref.replace([np.inf, -np.inf], np.nan).dropna()
    cur = cur.replace([np.inf, -np.inf], np.nan).dropna()
    # evidently only allows chisquare/z for categorical types, but its default selection runs
    # them on numerical columns too: call the implementation directly in that case
    spec_type = ctype if kind in STATTESTS[name].kinds else ColumnType.Categorical
    return get_registered_stattest(name, spec_type)(ref, cur, ctype, threshold)


def evidently_default(ref: pd.Series, cur: pd.Series, kind: str) -> str:
    from evidently.legacy.calculations.stattests.registry import _get_default_stattest
    from evidently.legacy.core import ColumnType

    ctype = ColumnType.Numerical if kind == NUM else ColumnType.Categorical
    ref = ref.replace([np.inf, -np.inf], np.nan).dropna()
    cur = cur.replace([np.inf, -np.inf], np.nan).dropna()
    return _get_default_stattest(ref, cur, ctype).name


def _cases() -> list[tuple[str, str, pd.Series, pd.Series]]:
    rng = np.random.default_rng(7)
    out = []
    for n_ref, n_cur in [(300, 450), (1000, 20000), (4000, 2500)]:
        size = f"{n_ref}x{n_cur}"
        out += [
            (f"normal-{size}", NUM, rng.normal(size=n_ref), rng.normal(0.15, 1.1, n_cur)),
            (f"int-wide-{size}", NUM, rng.integers(0, 60, n_ref), rng.integers(2, 64, n_cur)),
            (f"int-4-{size}", NUM, rng.integers(0, 4, n_ref), rng.integers(0, 4, n_cur)),
            (f"binary-num-{size}", NUM, rng.integers(0, 2, n_ref) * 1.0, rng.integers(0, 2, n_cur)),
            (
                f"ties-nan-inf-{size}",
                NUM,
                np.where(rng.random(n_ref) < 0.1, np.nan, rng.normal(size=n_ref).round(1)),
                np.r_[rng.normal(0.3, 1, n_cur - 2).round(1), np.inf, -np.inf],
            ),
            (
                f"cat-{size}",
                CAT,
                rng.choice(list("abcde"), n_ref),
                rng.choice(list("abcdef"), n_cur, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1]),
            ),
            (
                f"cat-binary-{size}",
                CAT,
                rng.choice(["yes", "no"], n_ref),
                rng.choice(["yes", "no", None], n_cur, p=[0.55, 0.4, 0.05]),
            ),
        ]
    return [(n, k, pd.Series(r), pd.Series(c)) for n, k, r, c in out]


CASES = _cases()


PAIRS = [
    (c, n) for c in CASES for n in FAST if c[1] in STATTESTS[n].kinds or n in ("chisquare", "z")
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("case", "name"), PAIRS, ids=[f"{c[0]}-{n}" for c, n in PAIRS])
def test_fast_scores_equal_evidently(case, name):
    _, kind, ref, cur = case
    ours = run_stattest(name, prepare_column(ref, kind), prepare_column(cur, kind))
    theirs = evidently_result(name, ref, cur, kind)
    assert ours.score == pytest.approx(float(theirs.drift_score), rel=1e-12, abs=1e-15)
    assert ours.drifted == bool(theirs.drifted)
    assert ours.threshold == theirs.actual_threshold


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fast_scores_are_bit_exact():
    exact = total = 0
    for (_, kind, ref, cur), name in PAIRS:
        ours = run_stattest(name, prepare_column(ref, kind), prepare_column(cur, kind)).score
        exact += ours == float(evidently_result(name, ref, cur, kind).drift_score)
        total += 1
    assert exact == total, f"{exact} of {total} bit-exact"


@pytest.mark.parametrize("name", ["mannw", "t_test", "hellinger", "ed", "cramer_von_mises"])
def test_other_tests_are_delegated_to_evidently(name):
    rng = np.random.default_rng(3)
    ref, cur = pd.Series(rng.normal(size=400)), pd.Series(rng.normal(0.2, 1, 500))
    ours = run_stattest(name, prepare_column(ref, NUM), prepare_column(cur, NUM))
    theirs = evidently_result(name, ref, cur, NUM)
    assert ours.score == pytest.approx(float(theirs.drift_score), rel=1e-9)
    assert ours.drifted == bool(theirs.drifted)


def test_thresholds_and_rules_match_evidentlys_registry():
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests
    from evidently.legacy.core import ColumnType

    kinds = {ColumnType.Numerical: NUM, ColumnType.Categorical: CAT}
    for name, spec in STATTESTS.items():
        by_type = _registered_stat_tests[name]
        st = next(iter(by_type.values()))
        assert spec.default_threshold == st.default_threshold, name
        assert set(spec.kinds) == {kinds[t] for t in by_type}, name


def test_custom_threshold_changes_decision_like_evidently():
    rng = np.random.default_rng(5)
    ref, cur = pd.Series(rng.normal(size=3000)), pd.Series(rng.normal(0.12, 1, 3000))
    for thr in (0.05, 0.1, 0.2):
        ours = run_stattest("wasserstein", prepare_column(ref, NUM), prepare_column(cur, NUM), thr)
        theirs = evidently_result("wasserstein", ref, cur, NUM, thr)
        assert (ours.drifted, ours.threshold) == (bool(theirs.drifted), thr)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_default_selection_equals_evidentlys(case):
    _, kind, ref, cur = case
    assert default_stattest(prepare_column(ref, kind), prepare_column(cur, kind)) == (
        evidently_default(ref, cur, kind)
    )


def test_default_selection_on_german_credit_equals_evidentlys():
    df = pd.read_csv(GERMAN_CSV)
    ref, cur = df.iloc[:600], df.iloc[600:]
    picked = {}
    for col in df.columns:
        kind = infer_kind(ref[col])
        ours = default_stattest(prepare_column(ref[col], kind), prepare_column(cur[col], kind))
        assert ours == evidently_default(ref[col], cur[col], kind), col
        picked[ours] = picked.get(ours, 0) + 1
    assert set(picked) == {"ks", "chisquare", "z"}  # <= 1000 reference rows


def test_boundary_of_1000_reference_rows():
    rng = np.random.default_rng(1)
    for n in (999, 1000, 1001):
        ref, cur = pd.Series(rng.normal(size=n)), pd.Series(rng.normal(size=500))
        ours = default_stattest(prepare_column(ref, NUM), prepare_column(cur, NUM))
        assert ours == evidently_default(ref, cur, NUM) == ("ks" if n <= 1000 else "wasserstein")


def test_infer_kind_equals_evidentlys_inference():
    from evidently.core.datasets import infer_column_type

    df = pd.read_csv(GERMAN_CSV)
    df["flag"] = df["telephone"] == "yes"
    df["ratio"] = df["credit_amount"] / df["duration_months"]
    df["free_text"] = [f"note {i}" for i in range(len(df))]
    df["when"] = pd.date_range("2024-01-01", periods=len(df), freq="h")
    for col in df.columns:
        assert infer_kind(df[col]) == infer_column_type(df[col]).value, col


def test_constant_columns_match_evidently():
    same = pd.Series(["a"] * 300), pd.Series(["a"] * 200)
    res = run_stattest("z", prepare_column(same[0], CAT), prepare_column(same[1], CAT))
    assert (res.score, res.drifted) == (1.0, False)
    assert evidently_result("z", *same, CAT).drift_score == 1
    big_ref, big_cur = pd.Series(np.full(1500, 2.0)), pd.Series(np.full(800, 2.0))
    r, c = prepare_column(big_ref, NUM), prepare_column(big_cur, NUM)
    assert default_stattest(r, c) == evidently_default(big_ref, big_cur, NUM) == "jensenshannon"
    assert run_stattest("jensenshannon", r, c).score == 0.0
    moved = pd.Series(np.full(800, 3.0))
    ours = run_stattest("wasserstein", r, prepare_column(moved, NUM))
    assert ours.score == evidently_result("wasserstein", big_ref, moved, NUM).drift_score
    assert ours.score == 1.0 / 0.001  # std 0 is floored at 0.001, as in evidently


def test_nan_and_inf_are_dropped():
    col = prepare_column(pd.Series([1.0, np.nan, np.inf, 2.0, -np.inf, 2.0]), NUM)
    assert (col.n, col.nunique, col.values.tolist()) == (3, 2, [1.0, 2.0, 2.0])
    cat = prepare_column(pd.Series(["x", None, np.nan, "y", "x"]), CAT)
    assert (cat.n, cat.count_map()) == (3, {"x": 2, "y": 1})
    assert prepare_column(pd.Series([np.nan, np.nan]), NUM).n == 0


def test_sturges_edges_equal_numpys():
    rng = np.random.default_rng(11)
    for _ in range(30):
        n1, n2 = rng.integers(30, 5000, 2)
        if rng.random() < 0.5:
            a, b = rng.integers(-50, 80, n1), rng.integers(-60, 90, n2)
        else:
            a, b = rng.normal(size=n1) * 7, rng.standard_t(3, n2)
        ours = sturges_edges(prepare_column(pd.Series(a), NUM), prepare_column(pd.Series(b), NUM))
        theirs = np.histogram_bin_edges(np.concatenate([a, b]), bins="sturges")
        np.testing.assert_array_equal(ours, theirs)


def test_blocked_searchsorted_equals_numpys():
    rng = np.random.default_rng(2)
    a = np.sort(rng.normal(size=200_000).round(2))
    keys = np.sort(rng.normal(size=150_000).round(2))
    for side in ("left", "right"):
        np.testing.assert_array_equal(
            searchsorted_sorted(a, keys, side), np.searchsorted(a, keys, side)
        )


def test_unknown_or_unsuitable_test_is_refused():
    col = prepare_column(pd.Series([1.0, 2.0]), NUM)
    with pytest.raises(ValueError, match="unknown stattest `nope`"):
        run_stattest("nope", col, col)


def test_reference_profile_is_picklable_and_cached(tmp_path):
    clear_cache()
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(list("pq"), 2000)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, 900), "c": rng.choice(list("pq"), 900)})
    kinds = {"x": NUM, "c": CAT}
    profile, reused = get_profile(ref, kinds, "sha-1")
    assert not reused
    assert get_profile(ref, kinds, "sha-1") == (profile, True)
    assert get_profile(ref, {"x": NUM}, "sha-1")[1]  # a subset of columns is covered
    profile.save(tmp_path / "p.pkl")
    loaded = ReferenceProfile.load(tmp_path / "p.pkl")
    again = pickle.loads(pickle.dumps(profile))
    for name in ("wasserstein", "jensenshannon"):
        want = run_stattest(name, profile.columns["x"], prepare_column(cur["x"], NUM))
        assert run_stattest(name, loaded.columns["x"], prepare_column(cur["x"], NUM)) == want
        assert run_stattest(name, again.columns["x"], prepare_column(cur["x"], NUM)) == want
    (tmp_path / "bad.pkl").write_bytes(pickle.dumps({"not": "a profile"}))
    with pytest.raises(ValueError, match="not a reference profile"):
        ReferenceProfile.load(tmp_path / "bad.pkl")
    clear_cache()
