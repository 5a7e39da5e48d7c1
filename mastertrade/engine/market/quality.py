"""Data-quality checks of a candle series, and the repair of its gaps (``mt data check``).

The report lists:

- **gaps**: bars missing on the timeframe's grid between the first and the last candle, as ranges;
- **off-grid timestamps** (a bar opening between two grid points) and **duplicate timestamps** (the
  store's key rules duplicates out, but a frame from elsewhere may have them); the grid's phase is the
  one most candles sit on, so weekly bars that open on Mondays count as on the grid;
- **inconsistent bars**: high < low, open or close outside [low, high], a price that is not positive,
  negative volume, values that are not finite;
- **outliers**, measured robustly so that real volatility clustering is not flagged: a bar's log return
  from the previous close, divided by the local scale of returns (1.4826 x the median absolute
  deviation over a centred window of ``window`` bars, floored at a fifth of the whole series' scale,
  and the whole series' scale where fewer than a quarter of the window's bars are around; when most
  bars did not move, as in an illiquid market, the floor is the scale of those that did),
  beyond ``return_threshold``; and a bar whose high-low range exceeds ``range_threshold`` times the local
  median range. The defaults (15 and 10 over 101 bars) flag next to nothing on years of the simulated
  market's fat-tailed, regime-switching prices, and flag bad prints, which are off by far more.

Repair re-downloads gap ranges from the series' exchange (``repair_gaps``) and the caller checks again:
an exchange may have had a real outage, and those bars stay missing. ``mt data check --repair`` repairs
the gaps of the whole series; the daemon's data_refresh job those of its recent window (``gaps_since``).
Series that were not downloaded (simulated, imported) cannot be repaired; ``cannot_repair`` says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mastertrade.engine.market.download import DownloadSummary, download
from mastertrade.engine.market.store import CandleStore, SeriesKey
from mastertrade.engine.market.timeframes import now_ms, timeframe_ms, to_iso
from mastertrade.engine.market.venue import Venue

RETURN_THRESHOLD = 15.0
RANGE_THRESHOLD = 10.0
WINDOW = 101
MAX_ITEMS = 200
_MAD_TO_SIGMA = 1.4826
_SCALE_FLOOR = 0.2

Matrix = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Gap:
    """Missing bars: the first and last missing open times (inclusive) and how many bars."""

    start: int
    end: int
    bars: int

    def as_dict(self) -> dict[str, Any]:
        return {"start": to_iso(self.start), "end": to_iso(self.end), "bars": self.bars}


@dataclass(frozen=True)
class BadBar:
    """A bar whose values contradict each other; ``problems`` says how."""

    ts: int
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"time": to_iso(self.ts), "problems": list(self.problems)}


@dataclass(frozen=True)
class Outlier:
    """A bar far outside its neighbourhood: ``kind`` "return" (log return from the previous close) or
    "range" (log of high/low); ``score`` is how many local scales (or median ranges) it spans."""

    ts: int
    kind: str
    value: float
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": to_iso(self.ts),
            "kind": self.kind,
            "value": self.value,
            "score": round(self.score, 2),
        }


@dataclass
class QualityReport:
    """What ``check_candles`` found in one series. The lists are complete; ``as_dict`` shows at most
    ``max_items`` entries of each (``truncated`` tells) beside the exact counts."""

    key: SeriesKey
    rows: int
    first: int | None
    last: int | None
    expected: int
    missing: int
    gaps: list[Gap]
    off_grid: list[int]
    duplicates: list[int]
    inconsistent: list[BadBar]
    outliers: list[Outlier]
    thresholds: dict[str, float]
    max_items: int = MAX_ITEMS
    repair: dict[str, Any] | None = field(default=None)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "gaps": len(self.gaps),
            "off_grid": len(self.off_grid),
            "duplicates": len(self.duplicates),
            "inconsistent": len(self.inconsistent),
            "outliers": len(self.outliers),
        }

    @property
    def ok(self) -> bool:
        return not any(self.counts.values())

    @property
    def truncated(self) -> bool:
        return any(count > self.max_items for count in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "series": str(self.key),
            "exchange": self.key.exchange,
            "symbol": self.key.symbol,
            "timeframe": self.key.timeframe,
            "simulated": self.key.simulated,
            "ok": self.ok,
            "rows": self.rows,
            "first": to_iso(self.first) if self.first is not None else None,
            "last": to_iso(self.last) if self.last is not None else None,
            "expected": self.expected,
            "missing": self.missing,
            "counts": self.counts,
            "gaps": [gap.as_dict() for gap in self.gaps[: self.max_items]],
            "off_grid": [to_iso(ts) for ts in self.off_grid[: self.max_items]],
            "duplicates": [to_iso(ts) for ts in self.duplicates[: self.max_items]],
            "inconsistent": [bar.as_dict() for bar in self.inconsistent[: self.max_items]],
            "outliers": [outlier.as_dict() for outlier in self.outliers[: self.max_items]],
            "thresholds": self.thresholds,
            "truncated": self.truncated,
            "repair": self.repair,
        }


async def check_series(
    store: CandleStore,
    key: SeriesKey,
    *,
    return_threshold: float = RETURN_THRESHOLD,
    range_threshold: float = RANGE_THRESHOLD,
    window: int = WINDOW,
    max_items: int = MAX_ITEMS,
) -> QualityReport:
    """Check a stored series (see the module docstring)."""
    return check_candles(
        await store.read_matrix(key),
        key,
        return_threshold=return_threshold,
        range_threshold=range_threshold,
        window=window,
        max_items=max_items,
    )


def check_candles(
    matrix: Matrix,
    key: SeriesKey,
    *,
    return_threshold: float = RETURN_THRESHOLD,
    range_threshold: float = RANGE_THRESHOLD,
    window: int = WINDOW,
    max_items: int = MAX_ITEMS,
) -> QualityReport:
    """Check an (n, 6) array of ts, open, high, low, close, volume, sorted by ts."""
    if return_threshold <= 0 or range_threshold <= 0 or window < 3:
        raise ValueError("thresholds must be > 0 and the window at least 3 bars")
    step = timeframe_ms(key.timeframe)
    ts = matrix[:, 0].astype(np.int64)
    thresholds = {"return": return_threshold, "range": range_threshold, "window": float(window)}
    if len(ts) == 0:
        return QualityReport(key, 0, None, None, 0, 0, [], [], [], [], [], thresholds, max_items)

    duplicates = np.unique(ts[1:][ts[1:] == ts[:-1]])
    phase = _grid_phase(ts, step)
    on_grid = (ts - phase) % step == 0
    off_grid = ts[~on_grid]
    grid = np.unique(ts[on_grid])
    gaps = _gaps(grid, step)
    expected = int((grid[-1] - grid[0]) // step + 1) if len(grid) else 0
    inconsistent = _inconsistent(matrix)
    outliers = _outliers(matrix, step, return_threshold, range_threshold, window)

    return QualityReport(
        key=key,
        rows=len(ts),
        first=int(ts[0]),
        last=int(ts[-1]),
        expected=expected,
        missing=sum(gap.bars for gap in gaps),
        gaps=gaps,
        off_grid=[int(x) for x in off_grid],
        duplicates=[int(x) for x in duplicates],
        inconsistent=inconsistent,
        outliers=outliers,
        thresholds=thresholds,
        max_items=max_items,
    )


async def gaps_since(store: CandleStore, key: SeriesKey, since: int) -> list[Gap]:
    """The gaps of a stored series on or after ``since``, found from that window's bars only: the
    daemon's data_refresh job checks its recent window every run without reading years of bars. A hole
    that began before ``since`` counts from the window's first grid time, when bars are stored before
    it; the bars after the newest stored one are not a gap (downloading resumes there)."""
    step = timeframe_ms(key.timeframe)
    ts = await store.timestamps(key, since)
    if len(ts) == 0:
        return []
    phase = _grid_phase(ts, step)
    grid = np.unique(ts[(ts - phase) % step == 0])
    first = await store.first_ts(key)
    if first is not None and first < since:
        start = since + (phase - since) % step  # the window's first grid time
        grid = np.concatenate([np.array([start - step], dtype=np.int64), grid])
    return _gaps(grid, step)


def _grid_phase(ts: np.ndarray[Any, np.dtype[np.int64]], step: int) -> int:
    """The offset from the epoch grid that most bars share (0 for all but e.g. Monday-weekly bars)."""
    residues, counts = np.unique(ts % step, return_counts=True)
    return int(residues[np.argmax(counts)])


def _gaps(grid: np.ndarray[Any, np.dtype[np.int64]], step: int) -> list[Gap]:
    if len(grid) < 2:
        return []
    jumps = np.diff(grid)
    where = np.nonzero(jumps > step)[0]
    return [Gap(int(grid[i] + step), int(grid[i + 1] - step), int(jumps[i] // step - 1)) for i in where]


def _inconsistent(matrix: Matrix) -> list[BadBar]:
    o, h, low, c, v = (matrix[:, i] for i in range(1, 6))
    with np.errstate(invalid="ignore"):
        checks = [
            (np.asarray(mask, dtype=bool), reason)
            for mask, reason in (
                (~np.isfinite(matrix[:, 1:6]).all(axis=1), "a value is not finite"),
                ((o <= 0) | (h <= 0) | (low <= 0) | (c <= 0), "a price is not positive"),
                (h < low, "high < low"),
                ((o < low) | (o > h), "open outside [low, high]"),
                ((c < low) | (c > h), "close outside [low, high]"),
                (v < 0, "negative volume"),
            )
        ]
    flagged = np.zeros(len(matrix), dtype=bool)
    for mask, _ in checks:
        flagged |= mask
    return [
        BadBar(int(matrix[i, 0]), tuple(reason for mask, reason in checks if mask[i]))
        for i in np.nonzero(flagged)[0]
    ]


def _outliers(
    matrix: Matrix, step: int, return_threshold: float, range_threshold: float, window: int
) -> list[Outlier]:
    ts = matrix[:, 0]
    o, h, low, c = (matrix[:, i] for i in range(1, 5))
    valid = np.isfinite(matrix[:, 1:5]).all(axis=1) & (o > 0) & (h > 0) & (low > 0) & (c > 0) & (h >= low)
    found: list[Outlier] = []
    index = np.nonzero(valid)[0]
    if len(index) >= 3:
        moves = np.diff(np.log(c[index]))
        # Returns over a gap are scaled to one bar's worth, like a random walk's.
        bars = np.maximum(np.diff(ts[index]) / step, 1.0)
        returns = pd.Series(moves / np.sqrt(bars))
        center = float(returns.median())
        deviation = (returns - center).abs()
        local = (
            deviation.rolling(window, center=True, min_periods=max(3, window // 4)).median() * _MAD_TO_SIGMA
        )
        overall = float(deviation.median()) * _MAD_TO_SIGMA
        # where too few bars lie around a bar for a local scale (a series shorter than a quarter
        # window), the whole series' scale is the local one: the floor alone would flag ordinary bars
        local = local.fillna(overall)
        scale = np.fmax(local.to_numpy(dtype=np.float64), _floor(deviation) * _MAD_TO_SIGMA)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(scale > 0, deviation.to_numpy() / scale, 0.0)
        for j in np.nonzero(score > return_threshold)[0]:
            i = index[j + 1]
            found.append(Outlier(int(ts[i]), "return", float(moves[j]), float(score[j])))

        ranges = pd.Series(np.log(h[index] / low[index]))
        typical = ranges.rolling(window, center=True, min_periods=max(3, window // 4)).median()
        typical = typical.fillna(float(ranges.median()))
        base = np.fmax(typical.to_numpy(dtype=np.float64), _floor(ranges))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(base > 0, ranges.to_numpy() / base, 0.0)
        for j in np.nonzero(ratio > range_threshold)[0]:
            found.append(Outlier(int(ts[index[j]]), "range", float(ranges.iloc[j]), float(ratio[j])))
    found.sort(key=lambda outlier: (outlier.ts, outlier.kind))
    return found


def _floor(values: pd.Series) -> float:
    """The least scale a bar is measured against: a fifth of the series' median, or, when most bars did
    not move (an illiquid market's bars without a trade: a median of 0), the median of those that did,
    so that a bad print among unchanged bars still stands out (against 0 nothing did)."""
    median = float(values.median())
    if median > 0:
        return _SCALE_FLOOR * median
    moved = values[values > 0]
    return float(moved.median()) if len(moved) else 0.0


def cannot_repair(key: SeriesKey, exchange_ids: list[str]) -> str | None:
    """Why the gaps of ``key`` cannot be re-downloaded, or None when they can."""
    if key.simulated:
        return (
            f"cannot repair {key}: simulated candles are one generated path, and a regenerated piece would "
            f"not join it; regenerate the series whole with `mt data sim {key.symbol} --timeframe "
            f"{key.timeframe} --bars N --seed S`"
        )
    if key.exchange not in exchange_ids:
        return (
            f"cannot repair {key}: {key.exchange!r} is not an exchange to download from (imported data?); "
            "re-import a complete file"
        )
    return None


@dataclass
class RepairResult:
    """What ``repair_gaps`` fetched: the ranges asked for and the downloads' summaries."""

    ranges: list[tuple[int, int]]
    downloads: list[DownloadSummary]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ranges": [{"start": to_iso(start), "until": to_iso(until)} for start, until in self.ranges],
            "requests": sum(d.requests for d in self.downloads),
            "retries": sum(d.retries for d in self.downloads),
            "fetched": sum(d.fetched for d in self.downloads),
            "new": sum(d.new for d in self.downloads),
        }


async def repair_gaps(
    store: CandleStore,
    venue: Venue,
    key: SeriesKey,
    gaps: list[Gap],
    *,
    page_limit: int = 1000,
    now: Callable[[], int] = now_ms,
) -> RepairResult:
    """Re-download the bars of ``gaps`` from ``venue``, whose id must be the series' exchange. Gaps
    that fit in one page together are fetched as one range (one request)."""
    if venue.id != key.exchange:
        raise ValueError(f"venue {venue.id!r} cannot repair a series of {key.exchange!r}")
    step = timeframe_ms(key.timeframe)
    ranges: list[tuple[int, int]] = []
    for gap in gaps:
        until = gap.end + step
        if ranges and until - ranges[-1][0] <= page_limit * step:
            ranges[-1] = (ranges[-1][0], until)
        else:
            ranges.append((gap.start, until))
    downloads = [
        await download(
            store,
            venue,
            key.symbol,
            key.timeframe,
            start,
            until,
            page_limit=page_limit,
            resume=False,
            now=now,
        )
        for start, until in ranges
    ]
    return RepairResult(ranges, downloads)
