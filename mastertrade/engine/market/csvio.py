"""Candle CSV files: strict import (all rows or none) and exact export.

The format is a header ``timestamp,open,high,low,close,volume`` (any case, in any order, other
columns ignored but ``simulated``: ``true`` on every row of a simulated series' export, the label kept
when the file is read back) and one row per bar. Timestamps are ISO-8601 (UTC unless they carry a zone)
or epoch seconds, milliseconds or microseconds, their unit told by their size (years 2001..2286) unless the
caller names it, one unit per file; but a Binance kline file may hold milliseconds before 2025 and
microseconds from then on (as its spot files are written), each row's confirmed by its close_time, and
in a CryptoDataDownload file each row's unit is confirmed by its date. Binance kline files and
CryptoDataDownload files are read as they come, and other names for the time and base-volume columns
are taken (``csvshape``); rows strictly newest first are read oldest first. Whatever is read otherwise
than the documented format is said in the result's notes. Blank lines, and lines of empty cells, at
the end of the file are ignored. Export writes each float in its shortest round-trip form, so import
-> export -> import gives back the same bits.

A file is rejected as a whole, with its line number and the reason, when it is JSON or an archive, a
column is missing or appears twice, only a quote volume is given, a row has more fields than the
header, a header line comes again among the rows, a row does not parse, an epoch timestamp's unit is
not told by its size or differs from the others' (in a Binance file: is not the one of its date), some
timestamps say their zone (an offset, or an epoch time, which is UTC) and some ISO ones do not, a
timestamp lies after the year 9999, a price is not positive and finite, high < low, open or close
lies outside [low, high], volume is negative, a timestamp is off the timeframe's bar grid (weekly bars
may open at midnight UTC on any one weekday, as exchanges' Monday weeks do), a Binance bar's
close_time is not within it, time neither strictly increases nor strictly decreases, or no two rows
are one bar apart (the file's bars are longer than the timeframe given), or a price lies outside the
caller's ``PriceRange`` (``mt data import`` passes the prices the backtest engines can trade
meaningfully).
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from mastertrade.engine.candle import CandleRow
from mastertrade.engine.market.csvshape import (
    BINANCE_COLUMNS,
    SIMULATED_COLUMN,
    Shape,
    credit_line,
    first_lines,
    headerless_binance,
    normalise,
    resolve,
    same_market,
)
from mastertrade.engine.market.store import PRICE_COLUMNS
from mastertrade.engine.market.timeframes import timeframe_ms, to_iso
from mastertrade.errors import DataValidationError, UserInputError

COLUMNS = ("timestamp", *PRICE_COLUMNS)
_ISO_TS = "%Y-%m-%dT%H:%M:%SZ"
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant ISO-8601 text can name
_DAY_MS = 86_400_000
_WEEK_MS = 7 * _DAY_MS
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_ZONED = re.compile(r"[Tt ]\d{2}(?::?\d{2}){0,2}(?:[.,]\d+)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
"""An ISO-8601 time of day followed by a zone: Z or an offset (+02:00, -0500, +01)."""

_PACKED = (
    (b"PK\x03\x04", "a zip archive (as data.binance.vision serves its kline files)"),
    (b"\x1f\x8b", "a gzip file"),
)
"""The first bytes of the archives candle files come in, and what to call them."""

TimeUnit = Literal["s", "ms", "us"]
TIME_UNITS: tuple[TimeUnit, ...] = ("s", "ms", "us")
_PER_MS = {"s": (1000, 1), "ms": (1, 1), "us": (1, 1000)}  # epoch value * multiply // divide = ms
# the epoch values of 2001-09-09 .. 2286-11-20 in each unit: no two of these ranges overlap
_SPANS = {"s": (10**9, 10**10), "ms": (10**12, 10**13), "us": (10**15, 10**16)}
_BINANCE_MICROSECONDS_SINCE = 1_735_689_600_000
"""2025-01-01T00:00:00Z, from when Binance's spot kline files give times in microseconds (epoch ms)."""
_UNIT_WORDS = {
    "s": "epoch seconds",
    "ms": "epoch milliseconds",
    "us": "epoch microseconds",
    "iso": "ISO-8601",
}


@dataclass(frozen=True)
class CandleFile:
    """A validated candle file: timestamps (epoch ms) and an (n, 5) array of OHLCV, oldest first;
    ``read_as`` is how the file was read and ``notes`` say, in words, whatever differs from the
    documented format (so that nothing is read differently without saying so)."""

    ts: np.ndarray[Any, np.dtype[np.int64]]
    ohlcv: np.ndarray[Any, np.dtype[np.float64]]
    read_as: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    missing: int = 0
    """Bars on the timeframe's grid between the first row and the last that the file has no row for."""
    gaps: tuple[tuple[int, int], ...] = ()
    """First and last open time (inclusive) of each run of those missing bars, oldest first."""
    simulated: bool = False
    """The file says its candles are simulated (its ``simulated`` column: ``csvshape.SIMULATED_COLUMN``)."""

    def __len__(self) -> int:
        return len(self.ts)

    def rows(self) -> list[CandleRow]:
        o, h, l, c, v = (self.ohlcv[:, i].tolist() for i in range(5))  # noqa: E741
        ts = cast(list[int], self.ts.tolist())
        return list(zip(ts, o, h, l, c, v, strict=True))


@dataclass(frozen=True)
class PriceRange:
    """The prices a file may hold, each bound with why it is there (said when a price passes it)."""

    low: float
    high: float
    low_why: str
    high_why: str


class _Lines:
    """File line of data row i of the arrays as they stand (``order``: each row's place in the file,
    changed as rows are reversed or exact duplicates dropped)."""

    def __init__(self, first: int, rows: int) -> None:
        self.first = first
        self.order: np.ndarray[Any, np.dtype[np.int64]] = np.arange(rows, dtype=np.int64)

    def __call__(self, index: int) -> int:
        return self.first + int(self.order[index])


def read_candle_csv(
    path: Path,
    timeframe: str,
    *,
    symbol: str | None = None,
    time_unit: TimeUnit | None = None,
    prices: PriceRange | None = None,
) -> CandleFile:
    """Read and validate a candle CSV; raises ``DataValidationError`` naming the first bad line.
    ``symbol`` tells a base volume (``Volume BTC``) from a quote one; ``time_unit`` reads epoch
    timestamps in that unit instead of telling it from their size; ``prices`` bounds open, high, low
    and close (inclusive)."""
    step = timeframe_ms(timeframe)
    source = _check_text(path)
    lines = first_lines(source, 2)
    if lines and lines[0].lstrip()[:1] in ("[", "{"):
        raise DataValidationError(
            f"{path}: JSON, not a CSV (ccxt's candle lists are what `mt data download` fetches): write it "
            f"as a CSV with the header {','.join(COLUMNS)}"
        )
    skipped = lines[0] if credit_line(lines) else None
    has_header = not headerless_binance(lines)
    options: dict[str, Any] = {"skiprows": 1 if skipped is not None else None}
    if not has_header:
        options |= {"header": None, "names": list(BINANCE_COLUMNS)}
    try:
        if has_header:
            columns = [str(column) for column in _read(path, source, nrows=0, **options).columns]
        else:
            columns = list(BINANCE_COLUMNS)
        shape = resolve(path, columns, symbol, has_header=has_header, skipped_line=skipped)
        # the numeric types go by the header's own spelling (TIMESTAMP, Close ...)
        dtype = {shape.time: str, **dict.fromkeys((*shape.prices, shape.volume), np.float64)}
        if shape.close_time is not None:
            dtype[shape.close_time] = str
        if shape.symbol is not None:
            dtype[shape.symbol] = str
        if shape.simulated is not None:
            dtype[shape.simulated] = str
        frame = _read(path, source, dtype=dtype, keep_default_na=False, na_values=[], **options)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: empty file, expected header {','.join(COLUMNS)}") from None
    except (ValueError, TypeError) as exc:
        # A column that does not parse as numbers: read as text to find the row and say which.
        frame = _read(path, source, dtype=str, keep_default_na=False, **options)
        _header_inside(path, frame, shape)
        _first_unparsable(path, source, _canonical(frame, shape), shape.first_line, len(columns))
        raise DataValidationError(f"{path}: cannot read it: {' '.join(str(exc).split())}") from None
    if len(frame) == 0:
        raise DataValidationError(f"{path}: no rows after the header")
    line = _Lines(shape.first_line, len(frame))
    if shape.symbol is not None and symbol is not None:
        _check_symbol_column(path, frame[shape.symbol], symbol, shape.first_line)
    dates = _date_column(shape) if shape.layout == "cryptodatadownload" and time_unit is None else None
    ts, unit = _parse_timestamps(
        path,
        frame[shape.time],
        line,
        time_unit,
        dates=None if dates is None else frame[dates],
        by_close_time=shape.close_time is not None and time_unit is None,
    )
    switch = None
    # a Binance file's close_time is checked always; another file's (python-binance's column names) where
    # it confirms each row's unit
    checked = shape.layout == "binance" or "+" in unit
    if shape.close_time is not None and checked and not unit.startswith("iso"):
        units = _check_close_time(path, frame, shape.time, shape.close_time, step, timeframe, unit, line)
        if "+" in unit:
            switch = line(int(np.flatnonzero(units[1:] != units[:-1])[0]) + 1)
    simulated = shape.simulated is not None and _simulated(path, frame[shape.simulated], line)
    ohlcv: np.ndarray[Any, np.dtype[np.float64]] = frame[[*shape.prices, shape.volume]].to_numpy(
        dtype=np.float64
    )
    ts, ohlcv, duplicates = _drop_repeated_rows(ts, ohlcv, line)
    newest_first = len(ts) > 1 and bool((np.diff(ts) < 0).all())
    if newest_first:
        ts, ohlcv, line.order = ts[::-1].copy(), ohlcv[::-1].copy(), line.order[::-1].copy()
    _check(path, ts, ohlcv, step, timeframe, line, prices)
    read_as = {
        "layout": shape.layout,
        "skipped_line": shape.skipped_line,
        "time_column": shape.time,
        "time_format": unit,
        "volume_column": shape.volume,
        "columns": len(columns),
        "used": 6,
        "newest_first": newest_first,
    }
    notes = _notes(shape, unit, time_unit is not None, newest_first, switch) + duplicates
    missing, gaps = _gaps(ts, step)
    if gaps:
        notes += (
            f"{missing:,} bars missing in {len(gaps):,} gap(s) the file has no rows for (the first"
            f" {to_iso(gaps[0][0])} .. {to_iso(gaps[0][1])}): unless stored already, indicators and backtests"
            " run across them as if the bars on either side were adjacent (`mt data check` lists a series'"
            " gaps)",
        )
    return CandleFile(ts, ohlcv, read_as, notes, missing, gaps, simulated)


def _simulated(path: Path, column: pd.Series, line: _Lines) -> bool:
    """Whether the ``simulated`` column says the file's candles are simulated: ``true`` (or ``false``)
    on every row. Any other value, or both, is refused naming the line: a file is simulated or real."""
    values = column.str.strip().str.lower().to_numpy()
    known = np.isin(values, ("true", "false"))
    if not known.all():
        row = int(np.flatnonzero(~known)[0])
        raise DataValidationError(
            f"{path}: line {line(row)}: {SIMULATED_COLUMN} is {column.iloc[row]!r}: expected true or false"
        )
    flags = values == "true"
    if flags.all() or not flags.any():
        return bool(flags[0])
    row = int(np.flatnonzero(flags != flags[0])[0])
    raise DataValidationError(
        f"{path}: line {line(row)}: {SIMULATED_COLUMN} is {column.iloc[row]!r}, {column.iloc[0]!r} on line"
        f" {line(0)}: a file holds simulated candles or real ones, not both"
    )


def _gaps(ts: np.ndarray[Any, np.dtype[np.int64]], step: int) -> tuple[int, tuple[tuple[int, int], ...]]:
    """(bars missing between the first and the last of ``ts``, each run of them as (first, last))."""
    jumps = np.diff(ts)
    where = np.nonzero(jumps > step)[0]
    gaps = tuple((int(ts[i] + step), int(ts[i + 1] - step)) for i in where)
    return int((jumps[where] // step - 1).sum()), gaps


def _drop_repeated_rows(
    ts: np.ndarray[Any, np.dtype[np.int64]], ohlcv: np.ndarray[Any, np.dtype[np.float64]], line: _Lines
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.float64]], tuple[str, ...]]:
    """A row that repeats the row before it exactly (time and every value: two exports joined at a
    shared bar) is the same bar: the repeat is dropped, and a note names its line. Two rows of one time
    with different values are left for ``_check`` to refuse (which one is right is not ours to guess)."""
    if len(ts) < 2:
        return ts, ohlcv, ()
    repeat = np.zeros(len(ts), dtype=np.bool_)
    repeat[1:] = (ts[1:] == ts[:-1]) & (ohlcv[1:] == ohlcv[:-1]).all(axis=1)
    if not repeat.any():
        return ts, ohlcv, ()
    dropped = [line(int(i)) for i in np.flatnonzero(repeat)]
    keep = ~repeat
    line.order = line.order[keep]
    shown = ", ".join(str(n) for n in dropped[:5]) + (
        f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
    )
    rows = "row" if len(dropped) == 1 else "rows"
    note = f"dropped {len(dropped)} {rows} repeating the row before exactly (line {shown})"
    return ts[keep], ohlcv[keep], (note,)


def _check_symbol_column(path: Path, column: pd.Series, symbol: str, first_line: int) -> None:
    """A file whose rows name their market (CryptoDataDownload's ``symbol`` column) is imported only
    under that market: refused, naming the line, when a row names another one than ``--symbol`` (an
    ETH file stored as BTC/USDT, or two markets in one file)."""
    names = column.str.strip()
    for index, named in enumerate(names.drop_duplicates().tolist()):
        if named and not same_market(named, symbol):
            row = int(np.flatnonzero((names == named).to_numpy())[0])
            raise DataValidationError(
                f"{path}: line {first_line + row}: symbol {named!r} is not --symbol {symbol}"
                + (
                    ": one market per file"
                    if index
                    else ": is the file for another market? (remove its symbol column to store it as "
                    "--symbol anyway)"
                )
            )


def _canonical(frame: pd.DataFrame, shape: Shape) -> pd.DataFrame:
    """The six columns used, under the documented names."""
    used = [shape.time, *shape.prices, shape.volume]
    return frame[used].set_axis(list(COLUMNS), axis=1)


def _notes(
    shape: Shape, unit: str, told: bool, newest_first: bool, switch: int | None = None
) -> tuple[str, ...]:
    """In words, what was read differently from the documented header and units (nothing for a file
    in the documented format); ``switch`` is the line where a Binance file's unit changes."""
    notes = []
    if shape.skipped_line is not None:
        notes.append(f"skipped a first line: {shape.skipped_line.strip()}")
    words = " and ".join(_UNIT_WORDS[part] for part in unit.split("+"))
    if told:
        words += " (--time-unit)"
    if switch is not None:
        words += f" (from line {switch} on), each row's unit told by its size and confirmed by its close_time"
    elif "+" in unit and not unit.startswith("iso"):
        words += ", each row's unit confirmed by its date"
    count = f"{len(shape.columns)} columns, 6 used"
    quotes = ", ".join(repr(column) for column in shape.quote_volumes)
    volume = f"volume from {shape.volume!r}"
    if quotes:
        volume += f" ({quotes}, the quote volume, not used)"
    if shape.layout == "binance":
        header = "with its header" if shape.has_header else "without a header"
        notes.append(f"read as a Binance kline file {header}, timestamps in {words}; {count}")
    elif shape.layout == "cryptodatadownload":
        notes.append(
            f"read as a CryptoDataDownload file, time from {shape.time!r} in {words}, {volume}; {count}"
        )
    elif (
        normalise(shape.time) != "timestamp"
        or unit not in ("ms", "iso", "iso+ms")
        or told
        or normalise(shape.volume) != "volume"
        or quotes
    ):
        notes.append(f"read time from {shape.time!r} in {words}, {volume}; {count}")
    if newest_first:
        notes.append("rows were newest first: stored oldest first")
    return tuple(notes)


def _read(path: Path, source: Path | io.BytesIO, **options: Any) -> pd.DataFrame:
    """``pandas.read_csv`` with every row kept (blank ones too, so that row i is the i-th line after the
    header), and a row with more fields than the header reported instead of shifting columns into an
    index."""
    if isinstance(source, io.BytesIO):
        source.seek(0)
    try:
        frame: pd.DataFrame = pd.read_csv(source, skip_blank_lines=False, **options)
    except pd.errors.ParserError as exc:
        ragged = _RAGGED.search(str(exc))
        if ragged is None:
            reason = " ".join(str(exc).split())
            raise DataValidationError(f"{path}: not a CSV file pandas can read: {reason}") from None
        expected, line, saw = ragged.groups()
        first = "the first row" if options.get("header", "infer") is None else "the header"
        raise DataValidationError(f"{path}: line {line}: {saw} fields, but {first} has {expected}") from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas takes the extra leading fields of a first row longer than the header as an index
        raise DataValidationError(
            f"{path}: line 2: more fields than the header's {len(frame.columns)} (a separator at the end "
            "of each row?)"
        )
    return frame


def _check_text(path: Path) -> Path | io.BytesIO:
    """A CSV is UTF-8 text: say so (with the line) for a binary or otherwise encoded file, before
    pandas fails on it with a traceback, and name a zip or gzip archive as one (a kline file downloaded
    from data.binance.vision is a zip: "NUL bytes" did not say to unpack it). Returns what to read: the
    file, or its bytes without the blank lines at its end (they are no rows, and would otherwise read as
    rows of empty cells)."""
    end = 0  # the byte offset after the last line that is not blank
    size = 0
    try:
        with path.open("rb") as handle:
            start = handle.read(4)
            packed = next((words for magic, words in _PACKED if start.startswith(magic)), None)
            if packed is not None:
                raise DataValidationError(
                    f"{path}: {packed}, not a CSV: unpack it and import the .csv inside"
                )
            handle.seek(0)
            for number, line in enumerate(handle, start=1):
                if b"\x00" in line:
                    raise DataValidationError(f"{path}:{number}: a binary file (NUL bytes), not a CSV")
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise DataValidationError(
                        f"{path}:{number}: not UTF-8 text (byte {exc.start} of the line): save the CSV "
                        "as UTF-8"
                    ) from None
                size += len(line)
                if line.strip(b" \t\r\n,"):  # a row of empty cells (as spreadsheets leave) is blank too
                    end = size
    except FileNotFoundError:
        raise UserInputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserInputError(f"{path} is a folder, not a CSV file") from None
    if end == size:
        return path
    with path.open("rb") as handle:
        return io.BytesIO(handle.read(end))


def _header_inside(path: Path, frame: pd.DataFrame, shape: Shape) -> None:
    """Refuse, naming it, a line among the rows that is a header (files joined with ``cat``, each with its
    header, as Binance's futures kline files come): "open 'open' is not a number" said what, not why."""
    used = [shape.time, *shape.prices, shape.volume]
    header = np.ones(len(frame), dtype=np.bool_)
    for column in used:
        header &= frame[column].map(normalise).to_numpy() == normalise(column)
    if header.any():
        number = shape.first_line + int(np.argmax(header))
        raise DataValidationError(
            f"{path}: line {number} is a header line among the rows (files joined with their headers?): "
            "delete it"
        )


def _first_unparsable(
    path: Path, source: Path | io.BytesIO, frame: pd.DataFrame, first_line: int, width: int
) -> None:
    for column in PRICE_COLUMNS:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            index = int(bad[0])
            if not "".join(frame.iloc[index].astype(str)).strip():
                raise DataValidationError(f"{path}: line {first_line + index} is blank")
            fields = _fields(source, first_line + index)
            if fields < width:  # pandas fills a short row's missing cells with empty ones
                raise DataValidationError(
                    f"{path}: line {first_line + index}: {fields} fields, but the header has {width} "
                    "(a line cut short?)"
                )
            raise DataValidationError(
                f"{path}: line {first_line + index}: {column} {frame[column].iloc[index]!r} is not a number"
            )


def _fields(source: Path | io.BytesIO, number: int) -> int:
    """How many fields line ``number`` (1-based) of the file has (read again: only to explain an error)."""
    import csv

    line = first_lines(source, number)[-1]
    return len(next(csv.reader([line]), []))


def _date_column(shape: Shape) -> str | None:
    """CryptoDataDownload's ``date`` column beside its ``unix`` one: the same times, as text."""
    return next((name for name in shape.columns if normalise(name) == "date" and name != shape.time), None)


def _parse_timestamps(
    path: Path,
    column: pd.Series,
    line: _Lines,
    told: TimeUnit | None,
    *,
    dates: pd.Series | None = None,
    by_close_time: bool = False,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], str]:
    """Epoch ms of every row, and the format found: "iso", a unit of ``TIME_UNITS``, "iso+UNIT", or
    "UNIT+UNIT" for epoch values in two units that ``dates`` (the same times as text) confirms row by
    row (CryptoDataDownload files whose older rows are in seconds and newer ones in milliseconds), or
    "ms+us" in a Binance kline file of spot files before and since 2025 joined (``by_close_time``: the
    caller checks each row's close_time in the row's unit)."""
    text = _epoch_text(column)
    numeric = text.str.fullmatch(r"\d{1,18}").to_numpy(dtype=bool)
    ts = np.zeros(len(text), dtype=np.int64)
    unit: TimeUnit | None = None
    if numeric.any() and numeric.all() and told is None and dates is not None:
        values = text.astype(np.int64).to_numpy(dtype=np.int64)
        confirmed = _confirmed_by_dates(path, column, values, dates, line)
        if confirmed is not None:
            return confirmed
    if numeric.any() and numeric.all() and by_close_time:
        joined = _joined_units(path, column, text.astype(np.int64).to_numpy(dtype=np.int64), line)
        if joined is not None:
            return joined
    if numeric.any():
        values = text[numeric].astype(np.int64).to_numpy(dtype=np.int64)
        rows = np.flatnonzero(numeric)
        unit = told or _epoch_unit(path, column, values, rows, line)
        multiply, divide = _PER_MS[unit]
        beyond = np.flatnonzero(values > _MAX_MS * divide // multiply)
        if len(beyond):
            index = int(rows[beyond[0]])
            raise DataValidationError(
                f"{path}: line {line(index)}: timestamp {column.iloc[index]!r} is after the year 9999 as "
                f"{_UNIT_WORDS[unit]}"
            )
        if divide > 1:
            finer = np.flatnonzero(values % divide != 0)
            if len(finer):
                index = int(rows[finer[0]])
                raise DataValidationError(
                    f"{path}: line {line(index)}: timestamp {column.iloc[index]!r} is not on a whole "
                    "millisecond, so not on any bar grid"
                )
        if told is not None:
            _check_told_unit(path, column, values, rows, told, line)
        ts[numeric] = values if multiply == divide else values * multiply // divide
    if numeric.all():
        assert unit is not None
        return ts, unit
    others = text[~numeric]
    if told is not None and not numeric.any():
        raise DataValidationError(
            f"{path}: line {line(0)}: timestamp {column.iloc[0]!r} is ISO-8601 text, not epoch "
            f"{_UNIT_WORDS[told].split()[-1]}: --time-unit {told} is for epoch timestamps (leave it out)"
        )
    # "2024-01-01 00:00:00 UTC" (as databases and exchanges' exports write it) says its zone in words
    others = others.str.replace(r"\s+(?i:utc|gmt)$", "+00:00", regex=True)
    # RFC 3339 allows a lower-case t and z ("2024-01-01t00:00:00z"); pandas reads only upper case
    parsed = pd.to_datetime(others.str.upper(), utc=True, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        index = int(np.flatnonzero(~numeric)[bad[0]])
        neither = "ISO-8601 nor an epoch time"
        if re.fullmatch(r"\d{19}", text.iloc[index]):  # as tools that keep times in int64 ns write them
            neither = (
                "ISO-8601 nor epoch seconds, milliseconds or microseconds (epoch nanoseconds? they are not "
                "read: write microseconds, a thousandth of them)"
            )
        raise DataValidationError(
            f"{path}: line {line(index)}: timestamp {column.iloc[index]!r} is neither {neither}"
        )
    _check_zones(path, column, numeric, others, line)
    ns = pd.DatetimeIndex(parsed).as_unit("ns").asi8
    finer = np.flatnonzero(ns % 1_000_000 != 0)
    if len(finer):
        index = int(np.flatnonzero(~numeric)[finer[0]])
        raise DataValidationError(
            f"{path}: line {line(index)}: timestamp {column.iloc[index]!r} is not on a whole "
            "millisecond, so not on any bar grid"
        )
    ts[~numeric] = ns // 1_000_000
    return ts, "iso" if unit is None else f"iso+{unit}"


def _check_zones(
    path: Path, column: pd.Series, numeric: np.ndarray[Any, Any], iso: pd.Series, line: _Lines
) -> None:
    """Refuse a file of which some timestamps say their zone and some do not, naming the first row unlike
    the first: read as UTC, the unzoned ones may well be local times, hours off (the file then failed
    later as off the bar grid or out of order, which blamed the timeframe or the row order), or were
    silently taken as UTC. ``iso`` is the text of the rows that are not ``numeric`` (epoch times, which
    are UTC by definition, so say their zone as an offset does)."""
    zoned = numeric.copy()
    zoned[~numeric] = iso.str.contains(_ZONED).to_numpy(dtype=bool)
    if zoned.all() or not zoned.any():
        return
    other = int(np.flatnonzero(zoned != zoned[0])[0])

    def says(index: int, short: bool = False) -> str:
        if numeric[index]:
            return "is an epoch time, which is UTC"
        if short:  # after "but line 2's '...'": the offset named once already
            return "has one" if zoned[index] else "has none"
        return "has a UTC offset" if zoned[index] else "has no UTC offset"

    epoch = bool(numeric[0] or numeric[other])
    raise DataValidationError(
        f"{path}: line {line(other)}: timestamp {column.iloc[other]!r} {says(other)}, but line {line(0)}'s"
        f" {column.iloc[0]!r} {says(0, short=not numeric[other])}: mixed zoned and unzoned timestamps ("
        + ("give every ISO timestamp an offset" if epoch else "give every timestamp an offset, or none")
        + ")"
    )


def _check_told_unit(
    path: Path,
    column: pd.Series,
    values: np.ndarray[Any, Any],
    rows: np.ndarray[Any, Any],
    told: TimeUnit,
    line: _Lines,
) -> None:
    """--time-unit reads every epoch value in its unit. A value whose size says a finer unit of the
    years 2001..2286 is then a time of 1970 (a Binance spot file's milliseconds read as microseconds,
    or seconds as milliseconds): a file of one row on the bar grid was stored there silently, a longer
    one refused as off the grid, with the advice to pass --time-unit s. Refused, naming both readings
    (a coarser unit's value is after the year 9999, refused as such)."""
    units = _units_by_size(values)
    other = np.flatnonzero((units != "") & (units != told))
    if len(other):
        index, size = int(rows[other[0]]), str(units[other[0]])
        value = int(values[other[0]])
        (multiply, divide), (by_size, by_size_divide) = _PER_MS[told], _PER_MS[size]
        raise DataValidationError(
            f"{path}: line {line(index)}: timestamp {column.iloc[index]!r} is "
            f"{to_iso(value * multiply // divide)} as {_UNIT_WORDS[told]} (--time-unit {told}), but "
            f"{to_iso(value * by_size // by_size_divide)} as {_UNIT_WORDS[size]}, as its size says: is "
            "--time-unit right?"
        )


def _epoch_text(column: pd.Series) -> pd.Series:
    """The time column's text, an epoch time written as a float (1704067200.0, as pandas and
    spreadsheets write a number column that had a blank) as the same whole number."""
    return column.str.strip().str.replace(r"^(\d{1,18})\.0*$", r"\1", regex=True)


def _confirmed_by_dates(
    path: Path, column: pd.Series, values: np.ndarray[Any, Any], dates: pd.Series, line: _Lines
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], str] | None:
    """Epoch values in more than one unit, each told by its size, read only when the date column says
    the same time on every row; refused naming the first row where it does not. None (the one-unit
    rule applies) when the values are in one unit, or a value or a date tells no time."""
    units = _units_by_size(values)
    found = [unit for unit in TIME_UNITS if (units == unit).any()]
    if (units == "").any() or len(found) < 2:
        return None
    said = pd.to_datetime(dates.str.strip(), utc=True, format="ISO8601", errors="coerce")
    if said.isna().any():
        return None
    ts = np.zeros(len(values), dtype=np.int64)
    for unit in found:
        multiply, divide = _PER_MS[unit]
        rows = units == unit
        if divide > 1 and (values[rows] % divide).any():
            return None  # not on a whole millisecond: said by the one-unit path
        ts[rows] = values[rows] * multiply // divide
    expected = pd.DatetimeIndex(said).as_unit("ms").asi8
    wrong = np.flatnonzero(ts != expected)
    if len(wrong):
        index = int(wrong[0])
        raise DataValidationError(
            f"{path}: line {line(index)}: {column.name} {column.iloc[index].strip()!r} is "
            f"{to_iso(int(ts[index]))} as {_UNIT_WORDS[units[index]]}, but its date says "
            f"{dates.iloc[index].strip()!r}: the file mixes units and they do not agree with its dates"
        )
    return ts, "+".join(found)


def _epoch_unit(
    path: Path,
    column: pd.Series,
    values: np.ndarray[Any, Any],
    rows: np.ndarray[Any, Any],
    line: _Lines,
) -> TimeUnit:
    """The one unit all epoch values are in, told by their size (years 2001..2286); refused naming the
    first value whose size says no unit, or another unit than the first row's."""
    low, high = int(values.min()), int(values.max())
    for unit in TIME_UNITS:
        start, stop = _SPANS[unit]
        if start <= low and high < stop:
            return unit
    units = _units_by_size(values)
    unknown = np.flatnonzero(units == "")
    if len(unknown):
        index = int(rows[unknown[0]])
        raise DataValidationError(
            f"{path}: line {line(index)}: timestamp {column.iloc[index]!r} is not epoch seconds, "
            "milliseconds or microseconds of the years 2001..2286: pass --time-unit s, ms or us to say which"
        )
    other = int(np.argmax(units != units[0]))
    index, first = int(rows[other]), int(rows[0])
    raise DataValidationError(
        f"{path}: line {line(index)}: timestamp {column.iloc[index]!r} is in {_UNIT_WORDS[units[other]]} "
        f"but line {line(first)}'s {column.iloc[first]!r} is in {_UNIT_WORDS[units[0]].split()[-1]}: one "
        "unit per file (but for a Binance kline file's rows, each confirmed by its close_time, and a "
        "CryptoDataDownload file's, each by its date)"
    )


def _units_by_size(values: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.object_]]:
    """Each epoch value's unit as its size tells it (years 2001..2286), "" where it tells none."""
    units = np.full(len(values), "", dtype=object)
    for unit in TIME_UNITS:
        start, stop = _SPANS[unit]
        units[(values >= start) & (values < stop)] = unit
    return units


def _joined_units(
    path: Path, column: pd.Series, values: np.ndarray[Any, Any], line: _Lines
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], str] | None:
    """Epoch ms of a Binance kline file of spot files before and since 2025 joined: Binance writes them
    in milliseconds before 2025-01-01 and in microseconds from then on, so each row's unit is told by its
    size (the sizes do not overlap: a millisecond value of 2001..2286 is a microsecond one of 1970), and
    ``_check_close_time`` checks each row's close_time in its unit. A row in milliseconds from 2025 on
    (futures files still are) or in microseconds before is refused, naming it: files of two markets, or
    not as Binance writes them. None (the one-unit rule applies) when the values are not in milliseconds
    and microseconds both, or a value's size tells no unit."""
    units = _units_by_size(values)
    if (units == "").any() or {"ms", "us"} != set(units.tolist()):
        return None
    late = values >= _BINANCE_MICROSECONDS_SINCE
    micro = units == "us"
    if (values[micro] % 1000).any():
        return None  # not on a whole millisecond: said by the one-unit path
    ts = np.where(micro, values // 1000, values)
    wrong = np.flatnonzero((micro & (ts < _BINANCE_MICROSECONDS_SINCE)) | (~micro & late))
    if len(wrong):
        index = int(wrong[0])
        unit, other = ("us", "ms") if micro[index] else ("ms", "us")
        stamp = column.iloc[index].strip()
        raise DataValidationError(
            f"{path}: line {line(index)}: timestamp {stamp!r} is {to_iso(int(ts[index]))} in "
            f"{_UNIT_WORDS[unit]}, among rows in {_UNIT_WORDS[other].split()[-1]}: Binance's spot files are "
            "in milliseconds before 2025-01-01 and in microseconds from then on, its futures files in "
            "milliseconds (files of two markets joined?)"
        )
    return ts, "ms+us"


def _check_close_time(
    path: Path,
    frame: pd.DataFrame,
    time: str,
    close: str,
    step: int,
    timeframe: str,
    unit: str,
    line: _Lines,
) -> np.ndarray[Any, np.dtype[np.object_]]:
    """In a Binance kline file each bar closes after it opens and before the next bar opens, both in
    the row's unit: twelve numbers a row are read as one only when they are that. Returns each row's
    unit (``unit``, or told by its size where ``unit`` names two)."""
    try:
        opened = frame[time].str.strip().astype(np.int64).to_numpy()
    except ValueError:  # an epoch time written as a float (slower to read: seldom)
        opened = _epoch_text(frame[time]).astype(np.int64).to_numpy()
    closed = pd.to_numeric(frame[close].str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    units = _units_by_size(opened) if "+" in unit else np.full(len(opened), unit, dtype=object)
    bar = np.zeros(len(opened), dtype=np.int64)
    for each in TIME_UNITS:
        multiply, divide = _PER_MS[each]
        bar[units == each] = step * divide // multiply
    bad = np.flatnonzero(~((closed > opened) & (closed < opened + bar)))
    if len(bad):
        index = int(bad[0])
        raise DataValidationError(
            f"{path}: line {line(index)}: {close} {frame[close].iloc[index].strip()} is not within "
            f"the {timeframe} bar opening at {time} {opened[index]}, as in a Binance kline file: is the "
            "timeframe right?"
        )
    return units


def _check(
    path: Path,
    ts: np.ndarray[Any, np.dtype[np.int64]],
    ohlcv: np.ndarray[Any, np.dtype[np.float64]],
    step: int,
    timeframe: str,
    line: _Lines,
    prices: PriceRange | None = None,
) -> None:
    def reject(index: int, reason: str) -> None:
        raise DataValidationError(f"{path}: line {line(index)}: {reason}")

    o, h, l, c, v = (ohlcv[:, i] for i in range(5))  # noqa: E741
    names = PRICE_COLUMNS  # open, high, low, close, volume: the columns of ohlcv
    for bad, reason in ((~np.isfinite(ohlcv), "is not finite"), (ohlcv[:, :4] <= 0, "is not positive")):
        if bad.any():
            i = int(np.argmax(bad.any(axis=1)))
            j = int(np.argmax(bad[i]))
            rule = "prices must be positive and finite" if j < 4 else "volume must be finite"
            reject(i, f"{names[j]} {float(ohlcv[i, j])!r} {reason} ({rule})")
    if prices is not None:
        below, above = ohlcv[:, :4] < prices.low, ohlcv[:, :4] > prices.high
        outside = below | above
        if outside.any():
            i = int(np.argmax(outside.any(axis=1)))
            j = int(np.argmax(outside[i]))
            bound, why, side = (
                (prices.low, prices.low_why, "below")
                if below[i, j]
                else (prices.high, prices.high_why, "above")
            )
            reject(
                i,
                f"{names[j]} {float(ohlcv[i, j])!r} is {side} {bound:.3g}, {why}: the backtest engines"
                " cannot trade it meaningfully",
            )
    for bad, reason in (
        (h < l, "high {h!r} < low {l!r}"),
        ((o < l) | (o > h), "open {o!r} outside [low {l!r}, high {h!r}]"),
        ((c < l) | (c > h), "close {c!r} outside [low {l!r}, high {h!r}]"),
        (v < 0, "volume {v!r} is negative"),
    ):
        if bad.any():
            i = int(np.argmax(bad))
            reject(
                i,
                reason.format(o=float(o[i]), h=float(h[i]), l=float(l[i]), c=float(c[i]), v=float(v[i])),
            )
    # the epoch's bar grid; weekly bars may open at midnight UTC on another weekday than the epoch's
    # Thursday (exchanges' weeks open on Mondays), the same one for every row
    phase = int(ts[0] % step) if step % _WEEK_MS == 0 and ts[0] % _DAY_MS == 0 else 0
    off_grid = ts % step != phase
    if off_grid.any():
        i = int(np.argmax(off_grid))
        seconds = " (epoch seconds? pass --time-unit s)" if 0 <= ts[i] < 10**11 else ""
        reject(i, f"timestamp {to_iso(int(ts[i]))} is not on the {timeframe} bar grid{seconds}")
    if len(ts) > 1:
        backwards = np.diff(ts) <= 0
        if backwards.any():
            i = int(np.argmax(backwards)) + 1
            if ts[i] == ts[i - 1]:
                reject(
                    i,
                    f"a second row for {to_iso(int(ts[i]))}, with other values than line {line(i - 1)}'s: "
                    "keep the right one (an exact repeat would have been dropped)",
                )
            reject(
                i,
                f"timestamp {to_iso(int(ts[i]))} does not come after the previous row's "
                f"{to_iso(int(ts[i - 1]))} (time must strictly increase)",
            )
        closest = int(np.diff(ts).min())
        if closest > step:
            raise DataValidationError(
                f"{path}: no two rows are one {timeframe} bar apart (the closest are {_span(closest)} "
                f"apart): is the file's timeframe {_span(closest)}, not {timeframe}?"
            )


def _span(ms: int) -> str:
    """A duration as a timeframe, in its largest whole unit (90 minutes: 90m)."""
    for unit, length in (("w", _WEEK_MS), ("d", _DAY_MS), ("h", 3_600_000), ("m", 60_000)):
        if ms % length == 0:
            return f"{ms // length}{unit}"
    return f"{ms / 1000:g}s"


def write_candle_csv(
    frame: pd.DataFrame,
    path: Path,
    *,
    time_format: Literal["iso", "ms"] = "iso",
    extra: Mapping[str, Any] | None = None,
    simulated: bool = False,
) -> int:
    """Write candles (a store DataFrame) to ``path`` atomically; returns the row count. ``extra`` adds
    columns after the prices (aligned features; NaN is written as an empty cell); ``simulated`` adds the
    ``simulated`` column (``true`` on every row) before them, which `mt data import` reads back as the
    label it is (the file keeps saying so wherever it goes). The folder must exist:
    a mistyped path creates no folders (``mt data export`` writes through ``cli/out_file.py``)."""
    index = pd.DatetimeIndex(frame.index)
    ts_ms = index.as_unit("ms").asi8
    stamps: np.ndarray[Any, Any]
    if time_format == "ms":
        stamps = ts_ms.astype(str)
    elif (ts_ms % 1000 == 0).all():
        stamps = np.asarray(index.strftime(_ISO_TS))
    else:  # sub-second bars keep their milliseconds
        stamps = np.array([to_iso(int(t)) for t in ts_ms])
    out = pd.DataFrame({"timestamp": stamps})
    for column in PRICE_COLUMNS:
        out[column] = frame[column].to_numpy()
    if simulated:
        out[SIMULATED_COLUMN] = "true"
    for column, values in (extra or {}).items():
        out[column] = values
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    os.close(fd)
    try:
        out.to_csv(tmp, index=False, lineterminator="\n")
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(out)


def _file_mode(path: Path) -> int:
    """The permissions an exported file gets: those of the file it replaces (``--force``), else what
    the umask leaves of rw-rw-rw-, as any file a command writes (the temporary file it is written to
    first is born 0600)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
