"""The reference side of a drift check, prepared once and reusable across runs.

Building a :class:`ReferenceProfile` sorts every numerical reference column and counts every
categorical one; that is most of the cost of a drift check on a large reference, and it only
depends on the reference data, so scheduled runs take it from :func:`get_profile` (an in-process
cache keyed by the reference's sha256) or from a file written by :meth:`ReferenceProfile.save`.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from checks.stattests import CAT, NUM, ColumnData, Kind, prepare_column

ColumnKind = Literal["num", "cat", "text", "datetime", "list", "unknown"]
INTEGER_CARDINALITY_LIMIT = 10  # evidently.core.datasets: int columns with <= 10 values are cat
PROFILE_VERSION = 1


def infer_kind(column: pd.Series) -> ColumnKind:
    """evidently.core.datasets.infer_column_type, mapped to our kinds."""
    dtype = column.dtype.name
    if dtype.startswith("float"):
        return NUM
    if dtype.startswith("int"):
        return CAT if column.nunique() <= INTEGER_CARDINALITY_LIMIT else NUM
    if dtype in ("string", "str"):
        return "text" if column.nunique() > column.count() * 0.5 else CAT
    if dtype == "object":
        values = column.dropna()
        if values.count() == 0:
            return "unknown"
        if isinstance(values.iloc[0], str) and isinstance(values.iloc[-1], str):
            return "text" if column.nunique() > column.count() * 0.5 else CAT
        if isinstance(values.iloc[0], list | tuple) and isinstance(values.iloc[-1], list | tuple):
            return "list"
        return "unknown"
    if dtype in ("bool", "category"):
        return CAT
    if dtype.startswith("datetime"):
        return "datetime"
    return "unknown"


def column_kinds(
    frame: pd.DataFrame, columns: Iterable[str], categorical: Iterable[str] | None
) -> dict[str, ColumnKind]:
    """Kinds from the schema's categorical list when given, else inferred like evidently."""
    if categorical is None:
        return {c: infer_kind(frame[c]) for c in columns}
    cats = set(categorical)
    out: dict[str, ColumnKind] = {}
    for c in columns:
        numeric = pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(
            frame[c]
        )
        out[c] = CAT if c in cats or not numeric else NUM
    return out


@dataclass
class ReferenceProfile:
    """Sorted values / category counts of each reference column. Picklable."""

    columns: dict[str, ColumnData]
    kinds: dict[str, Kind]
    rows: int
    sha256: str = ""
    version: int = PROFILE_VERSION
    build_seconds: float = field(default=0.0, compare=False)

    @classmethod
    def build(
        cls, frame: pd.DataFrame, kinds: Mapping[str, Kind], sha256: str = ""
    ) -> ReferenceProfile:
        import time
        from concurrent.futures import ThreadPoolExecutor

        started = time.perf_counter()
        names = list(kinds)
        with ThreadPoolExecutor(max_workers=_workers(len(names))) as pool:
            cols = list(pool.map(lambda c: prepare_column(frame[c], kinds[c]), names))
        return cls(
            columns=dict(zip(names, cols, strict=True)),
            kinds=dict(kinds),
            rows=len(frame),
            sha256=sha256,
            build_seconds=time.perf_counter() - started,
        )

    @property
    def nbytes(self) -> int:
        return sum(c.values.nbytes for c in self.columns.values() if c.values is not None)

    def covers(self, kinds: Mapping[str, Kind]) -> bool:
        return all(self.kinds.get(c) == k for c, k in kinds.items())

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def load(cls, path: str | Path) -> ReferenceProfile:
        obj = pickle.loads(Path(path).read_bytes())
        if not isinstance(obj, cls) or obj.version != PROFILE_VERSION:
            raise ValueError(f"{path} is not a reference profile of version {PROFILE_VERSION}")
        return obj


def _workers(n_tasks: int) -> int:
    import os

    return max(1, min(n_tasks, os.cpu_count() or 1, 8))


_CACHE: OrderedDict[str, ReferenceProfile] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 4  # profiles kept in memory, and at most CACHE_BYTES of sorted values
CACHE_BYTES = 1 << 30


def get_profile(
    frame: pd.DataFrame, kinds: Mapping[str, Kind], sha256: str
) -> tuple[ReferenceProfile, bool]:
    """The cached profile for this reference (by sha256) if it covers `kinds`, else a new one.

    Returns (profile, reused). Without a sha256 nothing is cached.
    """
    if sha256:
        with _CACHE_LOCK:
            hit = _CACHE.get(sha256)
            if hit is not None and hit.covers(kinds):
                _CACHE.move_to_end(sha256)
                return hit, True
    profile = ReferenceProfile.build(frame, kinds, sha256)
    if sha256:
        with _CACHE_LOCK:
            old = _CACHE.get(sha256)
            if old is not None:  # keep columns other policies asked for
                profile.columns = {**old.columns, **profile.columns}
                profile.kinds = {**old.kinds, **profile.kinds}
            _CACHE[sha256] = profile
            _CACHE.move_to_end(sha256)
            while len(_CACHE) > 1 and (
                len(_CACHE) > CACHE_SIZE or sum(p.nbytes for p in _CACHE.values()) > CACHE_BYTES
            ):
                _CACHE.popitem(last=False)
    return profile, False


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


__all__ = [
    "CAT",
    "NUM",
    "ColumnKind",
    "ReferenceProfile",
    "clear_cache",
    "column_kinds",
    "get_profile",
    "infer_kind",
]
