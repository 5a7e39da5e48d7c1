"""Macro indices (S&P 500, Nasdaq, the dollar) as daily closes from public CSV endpoints, no key.

The default source is FRED, the St. Louis Fed's database: stable, documented and free without a key for
its graph CSV. ``GET https://fred.stlouisfed.org/graph/fredgraph.csv?id=SP500&cosd=2024-01-01`` answers

    observation_date,SP500
    2024-01-02,4742.83
    2024-01-15,.

with "." for days without a value (holidays) and ``DATE`` as the first header on older servers. Series:
SP500 (S&P 500), NASDAQCOM (Nasdaq Composite) and DTWEXBGS (the Fed's broad trade-weighted dollar
index: FRED does not carry ICE's DXY, which is licensed). Stooq is the alternative, with real DXY
futures (``dx.f``): ``GET https://stooq.com/q/d/l/?s=^spx&i=d&d1=20240101&d2=20241231`` answers
``Date,Open,High,Low,Close,Volume`` rows (or the text "No data"); its close is used. An answer without
a row (Stooq's "No data" for a symbol it does not know) fails that series, named beside the source's
state, since every window asked for holds trading days.

A daily close of day D is stamped D 00:00 UTC and published at D+1 00:00 UTC (every US session has
closed by then), so a strategy sees Monday's close from Tuesday on; the running day is never stored.
The first poll fetches ``BACKFILL_DAYS`` of history, later ones the last ``RECENT_DAYS``, or every day
since the series' last successful poll when that is longer ago (a daemon that was down).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from mastertrade.engine.collectors.base import (
    DAY_MS,
    HOUR_S,
    Collector,
    FeaturePoint,
    days_to_fetch,
    expect,
    fetch,
)
from mastertrade.errors import DataValidationError
from mastertrade.utc import from_ms, to_ms

FRED = "https://fred.stlouisfed.org/graph/fredgraph.csv"
STOOQ = "https://stooq.com/q/d/l/"
BACKFILL_DAYS = 3 * 365
RECENT_DAYS = 14


def _day_ms(text: str) -> int | None:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return to_ms(datetime(day.year, day.month, day.day, tzinfo=UTC))


def parse_fred(body: str, series: str, where: str) -> list[tuple[int, float]]:
    """(day ms, value) rows of a FRED graph CSV; "." (no value) rows are skipped."""
    rows = list(csv.reader(io.StringIO(body)))
    expect(bool(rows) and len(rows[0]) >= 2, where, "no CSV header")
    header = [cell.strip() for cell in rows[0]]
    expect(header[0].lower() in ("observation_date", "date"), where, f"first column is {header[0]!r}")
    expect(header[1].upper() == series.upper(), where, f"column {header[1]!r} is not {series!r}")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) < 2 or row[1].strip() in (".", ""):
            continue
        day = _day_ms(row[0])
        try:
            value = float(row[1])
        except ValueError:
            value = float("nan")
        if day is None or not value == value:
            raise DataValidationError(f"{where}: row {number} is not a date and a number: {row[:2]}")
        out.append((day, value))
    return out


def parse_stooq(body: str, where: str) -> list[tuple[int, float]]:
    """(day ms, close) rows of a Stooq daily CSV."""
    if body.strip().lower().startswith("no data"):
        return []
    reader = csv.DictReader(io.StringIO(body))
    expect(
        reader.fieldnames is not None and "Date" in reader.fieldnames and "Close" in reader.fieldnames,
        where,
        "CSV without Date and Close columns",
    )
    out = []
    for number, row in enumerate(reader, start=2):
        day = _day_ms(row.get("Date") or "")
        try:
            close = float(row.get("Close") or "")
        except ValueError:
            close = float("nan")
        if day is None or not close == close:
            raise DataValidationError(f"{where}: row {number} is not a date and a close")
        out.append((day, close))
    return out


class MacroCollector(Collector):
    name = "macro"
    description = "Daily closes of stock and dollar indices (FRED or Stooq CSV): spx, nasdaq, dxy"
    default_interval_s = 6 * HOUR_S
    default_timeout_s = 60.0

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backfilled: set[str] = set()
        self.polled_at: dict[str, int] = {}

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        parts = [
            (name, lambda name=name, spec=spec: self._series(client, name, spec, now))
            for name, spec in self.settings.macro_series.items()
        ]
        return await self.gather(parts)

    async def _series(self, client: httpx.AsyncClient, name: str, spec: str, now: int) -> list[FeaturePoint]:
        provider, _, code = spec.partition(":")
        days = (
            days_to_fetch(RECENT_DAYS, self.polled_at.get(name), now)
            if name in self.backfilled
            else BACKFILL_DAYS
        )
        start = from_ms(now).date() - timedelta(days=days)
        end = from_ms(now).date()
        if provider == "fred":
            response = await fetch(client, FRED, params={"id": code, "cosd": start.isoformat()})
            where, what = f"FRED {code}", "series"
            rows = parse_fred(response.text, code, where)
        elif provider == "stooq":
            params = {"s": code, "i": "d", "d1": start.strftime("%Y%m%d"), "d2": end.strftime("%Y%m%d")}
            response = await fetch(client, STOOQ, params=params)
            where, what = f"Stooq {code}", "symbol"
            rows = parse_stooq(response.text, where)
        else:
            raise DataValidationError(
                f"collectors.macro_series.{name} = {spec!r}: expected 'fred:SERIES' or 'stooq:SYMBOL'"
            )
        if not rows:
            # Every window asked for holds trading days: none means a wrong or retired symbol, which
            # would otherwise pass for a good poll with nothing to store, for ever.
            raise DataValidationError(f"{where}: no data from {start} to {end} (is the {what} right?)")
        self.backfilled.add(name)
        self.polled_at[name] = now
        return [FeaturePoint(name, value, day, day + DAY_MS) for day, value in rows if day + DAY_MS <= now]

    def dump_state(self) -> dict[str, Any]:
        return {"backfilled": sorted(self.backfilled), "polled_at": dict(sorted(self.polled_at.items()))}

    def load_state(self, state: dict[str, Any]) -> None:
        names = state.get("backfilled")
        self.backfilled = {str(name) for name in names} if isinstance(names, list) else set()
        polled = state.get("polled_at")
        self.polled_at = (
            {str(name): ms for name, ms in polled.items() if isinstance(ms, int)}
            if isinstance(polled, dict)
            else {}
        )
