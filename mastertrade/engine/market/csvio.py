"""Candle CSV files: strict import (all rows or none) and exact export.

The format is a header ``timestamp,open,high,low,close,volume`` (any case, in any order, other
columns ignored) and one row per bar. Timestamps are ISO-8601 (UTC unless they carry a zone) or epoch
milliseconds. Blank lines at the end of the file are ignored. Export writes each float in its shortest
round-trip form, so import -> export -> import gives back the same bits.

A file is rejected as a whole, with its line number and the reason, when a column is missing or
appears twice, a row has more fields than the header, a row does not parse, a timestamp lies after the
year 9999, a price is not positive and finite, high < low, open or close lies outside
[low, high], volume is negative, a timestamp is off the timeframe's bar grid (weekly bars may open at
midnight UTC on any one weekday, as exchanges' Monday weeks do), time does not strictly increase, or
no two rows are one bar apart (the file's bars are longer than the timeframe given).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from mastertrade.engine.candle import CandleRow
from mastertrade.engine.market.store import PRICE_COLUMNS
from mastertrade.engine.market.timeframes import timeframe_ms, to_iso
from mastertrade.errors import DataValidationError, UserInputError

COLUMNS = ("timestamp", *PRICE_COLUMNS)
_ISO_TS = "%Y-%m-%dT%H:%M:%SZ"
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant ISO-8601 text can name
_DAY_MS = 86_400_000
_WEEK_MS = 7 * _DAY_MS
# pandas renames a repeated header name "close" to "close.1"
_REPEATED = re.compile(rf"({'|'.join(COLUMNS)})(\.\d+)?")
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass(frozen=True)
class CandleFile:
    """A validated candle file: timestamps (epoch ms) and an (n, 5) array of OHLCV."""

    ts: np.ndarray[Any, np.dtype[np.int64]]
    ohlcv: np.ndarray[Any, np.dtype[np.float64]]

    def __len__(self) -> int:
        return len(self.ts)

    def rows(self) -> list[CandleRow]:
        o, h, l, c, v = (self.ohlcv[:, i].tolist() for i in range(5))  # noqa: E741
        ts = cast(list[int], self.ts.tolist())
        return list(zip(ts, o, h, l, c, v, strict=True))


def _line(index: int) -> int:
    """File line of a data row: the header is line 1."""
    return index + 2


def read_candle_csv(path: Path, timeframe: str) -> CandleFile:
    """Read and validate a candle CSV; raises ``DataValidationError`` naming the first bad line."""
    step = timeframe_ms(timeframe)
    source = _check_text(path)
    try:
        names = [str(column) for column in _read(path, source, nrows=0).columns]
        _check_header(path, names)
        # the numeric types go by the header's own spelling (TIMESTAMP, Close ...)
        dtype = {
            name: str if name.strip().lower() == "timestamp" else np.float64
            for name in names
            if name.strip().lower() in COLUMNS
        }
        frame = _read(path, source, dtype=dtype, keep_default_na=False, na_values=[])
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: empty file, expected header {','.join(COLUMNS)}") from None
    except (ValueError, TypeError) as exc:
        # A column that does not parse as numbers: read as text to find the row and say which.
        frame = _read(path, source, dtype=str, keep_default_na=False)
        frame.columns = [str(column).strip().lower() for column in frame.columns]
        _first_unparsable(path, frame)
        raise DataValidationError(f"{path}: cannot read it: {' '.join(str(exc).split())}") from None
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    if len(frame) == 0:
        raise DataValidationError(f"{path}: no rows after the header")
    ts = _parse_timestamps(path, frame["timestamp"])
    ohlcv = frame[list(PRICE_COLUMNS)].to_numpy(dtype=np.float64)
    _check(path, ts, ohlcv, step, timeframe)
    return CandleFile(ts, ohlcv)


def _read(path: Path, source: Path | io.BytesIO, **options: Any) -> pd.DataFrame:
    """``pandas.read_csv`` with every row kept (blank ones too, so that row i is line i + 2), and a
    row with more fields than the header reported instead of shifting columns into an index."""
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
        raise DataValidationError(
            f"{path}: line {line}: {saw} fields, but the header has {expected}"
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas takes the extra leading fields of a first row longer than the header as an index
        raise DataValidationError(
            f"{path}: line 2: more fields than the header's {len(frame.columns)} (a separator at the end "
            "of each row?)"
        )
    return frame


def _check_header(path: Path, names: list[str]) -> None:
    """Every column present once (in any case); the usual reasons why not get said."""
    found: dict[str, int] = {}
    for name in names:
        match = _REPEATED.fullmatch(name.strip().lower())
        if match:
            found[match.group(1)] = found.get(match.group(1), 0) + 1
    twice = [column for column in COLUMNS if found.get(column, 0) > 1]
    if twice:
        raise DataValidationError(f"{path}: column {', '.join(twice)} appears more than once in the header")
    lowered = [name.strip().lower() for name in names]
    missing = [column for column in COLUMNS if column not in lowered]
    if not missing:
        return
    header = ",".join(names)
    hint = ""
    if len(names) == 1 and (separator := next((s for s in (";", "\t", "|") if s in header), None)):
        hint = f": columns must be separated by commas, not {separator!r}"
    elif re.fullmatch(r"[\d.eE+-]+", names[0].strip()) or _looks_like_time(names[0]):
        hint = f": line 1 ({names[0].strip()!r} ...) is a row of data, the header is missing"
    raise DataValidationError(
        f"{path}: missing column {', '.join(missing)} (header must be {','.join(COLUMNS)}){hint}"
    )


def _looks_like_time(text: str) -> bool:
    return not pd.isna(pd.to_datetime(text.strip(), utc=True, format="ISO8601", errors="coerce"))


def _check_text(path: Path) -> Path | io.BytesIO:
    """A CSV is UTF-8 text: say so (with the line) for a binary or otherwise encoded file, before
    pandas fails on it with a traceback. Returns what to read: the file, or its bytes without the blank
    lines at its end (they are no rows, and would otherwise read as rows of empty cells)."""
    end = 0  # the byte offset after the last line that is not blank
    size = 0
    try:
        with path.open("rb") as handle:
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
                if line.strip():
                    end = size
    except FileNotFoundError:
        raise UserInputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserInputError(f"{path} is a folder, not a CSV file") from None
    if end == size:
        return path
    with path.open("rb") as handle:
        return io.BytesIO(handle.read(end))


def _first_unparsable(path: Path, frame: pd.DataFrame) -> None:
    for column in PRICE_COLUMNS:
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            index = int(bad[0])
            if not "".join(frame.iloc[index].astype(str)).strip():
                raise DataValidationError(f"{path}: line {_line(index)} is blank")
            raise DataValidationError(
                f"{path}: line {_line(index)}: {column} {frame[column].iloc[index]!r} is not a number"
            )


def _parse_timestamps(path: Path, column: pd.Series) -> np.ndarray[Any, np.dtype[np.int64]]:
    text = column.str.strip()
    numeric = text.str.fullmatch(r"\d{1,16}").to_numpy(dtype=bool)
    ts = np.zeros(len(text), dtype=np.int64)
    if numeric.any():
        ts[numeric] = text[numeric].astype(np.int64).to_numpy()
    if not numeric.all():
        others = text[~numeric]
        parsed = pd.to_datetime(others, utc=True, format="ISO8601", errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if len(bad):
            index = int(np.flatnonzero(~numeric)[bad[0]])
            raise DataValidationError(
                f"{path}: line {_line(index)}: timestamp {column.iloc[index]!r} is neither "
                "ISO-8601 nor epoch milliseconds"
            )
        ns = pd.DatetimeIndex(parsed).as_unit("ns").asi8
        finer = np.flatnonzero(ns % 1_000_000 != 0)
        if len(finer):
            index = int(np.flatnonzero(~numeric)[finer[0]])
            raise DataValidationError(
                f"{path}: line {_line(index)}: timestamp {column.iloc[index]!r} is not on a whole "
                "millisecond, so not on any bar grid"
            )
        ts[~numeric] = ns // 1_000_000
    beyond = np.flatnonzero(ts > _MAX_MS)
    if len(beyond):
        index = int(beyond[0])
        raise DataValidationError(
            f"{path}: line {_line(index)}: timestamp {column.iloc[index]!r} is after the year 9999 as "
            "epoch milliseconds (epoch microseconds? write milliseconds or ISO-8601)"
        )
    return ts


def _check(
    path: Path,
    ts: np.ndarray[Any, np.dtype[np.int64]],
    ohlcv: np.ndarray[Any, np.dtype[np.float64]],
    step: int,
    timeframe: str,
) -> None:
    def reject(index: int, reason: str) -> None:
        raise DataValidationError(f"{path}: line {_line(index)}: {reason}")

    o, h, l, c, v = (ohlcv[:, i] for i in range(5))  # noqa: E741
    finite = np.isfinite(ohlcv).all(axis=1)
    if not finite.all():
        reject(int(np.argmin(finite)), "a value is not finite (NaN or infinity)")
    prices = ohlcv[:, :4]
    positive = (prices > 0).all(axis=1)
    if not positive.all():
        reject(int(np.argmin(positive)), "prices must be positive")
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
        seconds = " (epoch seconds? write milliseconds or ISO-8601)" if 0 <= ts[i] < 10**11 else ""
        reject(i, f"timestamp {to_iso(int(ts[i]))} is not on the {timeframe} bar grid{seconds}")
    if len(ts) > 1:
        backwards = np.diff(ts) <= 0
        if backwards.any():
            i = int(np.argmax(backwards)) + 1
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
) -> int:
    """Write candles (a store DataFrame) to ``path`` atomically; returns the row count. ``extra`` adds
    columns after the prices (aligned features; NaN is written as an empty cell)."""
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
    for column, values in (extra or {}).items():
        out[column] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    os.close(fd)
    try:
        out.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(out)
