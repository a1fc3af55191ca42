"""Shared helpers for the benchmarks: timing, peak memory, and the results table."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Row:
    workload: str
    reference_s: float | None  # the reference library's time, measured in the same run
    ours_s: float
    agreement: str  # e.g. "max |diff| 3e-12" or "top-10 overlap 10/10"
    target_s: float | None = None

    @property
    def ratio(self) -> float | None:
        return None if not self.reference_s else self.reference_s / self.ours_s


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time over `repeat` runs, and the last result."""
    best = float("inf")
    out: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(title: str, rows: list[Row]) -> None:
    head = f"{'workload':<48} {'reference':>10} {'ours':>9} {'ratio':>8} {'target':>8}  agreement"
    print(f"\n{title}\n{head}\n{'-' * len(head)}")
    for r in rows:
        ref = f"{r.reference_s:.2f}s" if r.reference_s is not None else "-"
        ratio = f"{r.ratio:.0f}x" if r.ratio is not None else "-"
        target = f"{r.target_s:.1f}s" if r.target_s is not None else "-"
        ok = "" if r.target_s is None else (" OK" if r.ours_s <= r.target_s else " OVER")
        print(
            f"{r.workload:<48} {ref:>10} {r.ours_s:>8.3f}s {ratio:>8} {target:>8}{ok}  "
            f"{r.agreement}"
        )
