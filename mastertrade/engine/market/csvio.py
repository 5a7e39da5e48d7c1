"""Candle CSV files: strict import (all rows or none) and exact export.

The format is a header ``timestamp,open,high,low,close,volume`` and one row per bar. Timestamps are
ISO-8601 (UTC unless they carry a zone) or epoch milliseconds. Export writes each float in its
shortest round-trip form, so import -> export -> import gives back the same bits.

A file is rejected as a whole, with its line number and the reason, when a column is missing, a row
does not parse, a price is not positive and finite, high < low, open or close lies outside
[low, high], volume is negative, a timestamp is off the timeframe's bar grid, or time does not
strictly increase.
"""

from __future__ import annotations

import os
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
    _check_text(path)
    try:
        frame = pd.read_csv(
            path,
            dtype={"timestamp": str, **dict.fromkeys(PRICE_COLUMNS, np.float64)},
            skip_blank_lines=False,
            keep_default_na=False,
            na_values=[],
        )
    except FileNotFoundError:
        raise UserInputError(f"no such file: {path}") from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: empty file, expected header {','.join(COLUMNS)}") from None
    except (ValueError, TypeError):
        # A column that does not parse as numbers: read as text to find the row and say which.
        frame = _read_as_text(path)
        _first_unparsable(path, frame)
        raise
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{path}: missing column {', '.join(missing)} (header must be {','.join(COLUMNS)})"
        )
    if len(frame) == 0:
        raise DataValidationError(f"{path}: no rows after the header")
    ts = _parse_timestamps(path, frame["timestamp"])
    ohlcv = frame[list(PRICE_COLUMNS)].to_numpy(dtype=np.float64)
    _check(path, ts, ohlcv, step, timeframe)
    return CandleFile(ts, ohlcv)


def _check_text(path: Path) -> None:
    """A CSV is UTF-8 text: say so (with the line) for a binary or otherwise encoded file, before
    pandas fails on it with a traceback."""
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
    except FileNotFoundError:
        raise UserInputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserInputError(f"{path} is a folder, not a CSV file") from None


def _read_as_text(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, skip_blank_lines=False, keep_default_na=False)
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    return frame


def _first_unparsable(path: Path, frame: pd.DataFrame) -> None:
    for column in PRICE_COLUMNS:
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            index = int(bad[0])
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
        ts[~numeric] = pd.DatetimeIndex(parsed).as_unit("ms").asi8
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
    off_grid = ts % step != 0
    if off_grid.any():
        i = int(np.argmax(off_grid))
        reject(i, f"timestamp {to_iso(int(ts[i]))} is not on the {timeframe} bar grid")
    if len(ts) > 1:
        backwards = np.diff(ts) <= 0
        if backwards.any():
            i = int(np.argmax(backwards)) + 1
            reject(
                i,
                f"timestamp {to_iso(int(ts[i]))} does not come after the previous row's "
                f"{to_iso(int(ts[i - 1]))} (time must strictly increase)",
            )


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
