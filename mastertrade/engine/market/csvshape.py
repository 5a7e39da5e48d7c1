"""What a candle CSV holds where: its layout, its time column and its base-volume column.

Three layouts are known, told apart by their first lines only:

- ``header``: a header line, then rows (the documented ``timestamp,open,high,low,close,volume``, in any
  case and order, with other columns ignored);
- ``binance``: a Binance kline file from data.binance.vision, twelve numbers per row with no header
  (older files), or with Binance's own header (newer ones), in any case; a ``header`` file whose time is
  ``open_time`` with a ``close_time`` beside it (``Open time``, ``Close time``: python-binance's names)
  has its close_time too, which confirms each row's unit where they differ (``csvio``);
- ``cryptodatadownload``: a CryptoDataDownload file, whose header (``unix,date,symbol,...``) follows a
  credit line (its web address), which is skipped; so is the credit line above its older files' header
  (``Date,Symbol,Open,...``, no unix column: read as a ``header`` file, time from ``Date``). In no other
  file is a line skipped.

The time column may be named ``timestamp``, ``open_time``, ``unix``, ``unix timestamp``, ``time``,
``datetime`` or ``date`` (the first of these in that order is used). The volume stored is the base
volume: ``volume``, ``base_volume`` or ``volume <BASE>`` (``Volume BTC`` for BTC/USDT). A quote volume
(``quote_volume``, ``volume <QUOTE>``) is never stored as one: a file with only a quote volume is
refused, naming the column. A ``symbol`` column (CryptoDataDownload's), where there is one, must name the
market of ``--symbol`` on every row (``csvio``).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mastertrade.errors import DataValidationError

BINANCE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
TIME_NAMES = ("timestamp", "open_time", "unix", "unix_timestamp", "time", "datetime", "date")
_PRICES = ("open", "high", "low", "close")
SIMULATED_COLUMN = "simulated"
"""The column that marks a file's candles as simulated: `mt data export` of a simulated series writes it
(``true`` on every row), and `mt data import` stores such a file under the simulated market only, so
simulated prices never come back as real ones."""
_BASE_NAMES = ("volume", "base_volume", "volume_base", "base_asset_volume")
_QUOTE_NAMES = ("quote_volume", "volume_quote", "quote_asset_volume")
_VOLUME_OF = re.compile(r"volume_([a-z0-9]+)")
_NUMBER = re.compile(r"\s*\d+(\.\d*)?\s*")
_URL = re.compile(r"\s*(https?://|www\.)", re.IGNORECASE)

Layout = Literal["header", "binance", "cryptodatadownload"]


@dataclass(frozen=True)
class Shape:
    """Where the candles are: ``columns`` are the file's own names (Binance's, without a header)."""

    layout: Layout
    has_header: bool
    skipped_line: str | None
    columns: tuple[str, ...]
    time: str
    prices: tuple[str, str, str, str]
    volume: str
    quote_volumes: tuple[str, ...]  # recognised as quote volumes, and not used
    symbol: str | None = None  # a column naming each row's market (CryptoDataDownload's ``symbol``)
    close_time: str | None = None
    """A Binance kline file's close_time column (in any case; or ``Close time`` beside ``Open time``, as
    python-binance's users name the columns), which confirms each row's open_time and its unit."""
    simulated: str | None = None
    """The ``simulated`` column `mt data export` writes for a simulated series (true on every row)."""

    @property
    def first_line(self) -> int:
        """File line of the first row."""
        return (self.skipped_line is not None) + self.has_header + 1


def normalise(name: str) -> str:
    """A header name as compared: no case, no surrounding blanks, blanks and dashes as underscores,
    and without the ``.1`` pandas adds to a repeated name."""
    name = re.sub(r"\.\d+$", "", name.strip())
    return re.sub(r"[\s\-]+", "_", name.lower())


def first_lines(source: Path | io.BytesIO, count: int) -> list[str]:
    """The file's first ``count`` lines (fewer in a shorter file), without line ends or a BOM."""
    if isinstance(source, io.BytesIO):
        data = source.getvalue().splitlines()[:count]
    else:
        with source.open("rb") as handle:
            data = [line for _, line in zip(range(count), handle, strict=False)]
    lines = [line.decode("utf-8").rstrip("\r\n") for line in data]
    if lines:
        lines[0] = lines[0].removeprefix("\ufeff")
    return lines


def headerless_binance(lines: list[str]) -> bool:
    """Twelve numbers on the first line: a Binance kline file without its header."""
    fields = lines[0].split(",") if lines else []
    return len(fields) == len(BINANCE_COLUMNS) and all(_NUMBER.fullmatch(field) for field in fields)


def credit_line(lines: list[str]) -> bool:
    """A first line that is not part of the table (a web address, or not as many fields as the next
    line), above a CryptoDataDownload header: its ``date`` and ``symbol`` columns, with ``unix`` before
    them in its newer files and without in its older ones (``Date,Symbol,Open,...``)."""
    if len(lines) < 2:
        return False
    unlike = _URL.match(lines[0]) is not None or len(lines[0].split(",")) != len(lines[1].split(","))
    return unlike and {"date", "symbol"} <= {normalise(name) for name in lines[1].split(",")}


def _cryptodatadownload(names: list[str]) -> bool:
    return {"date", "symbol"} <= set(names) and ("unix" in names or "unix_timestamp" in names)


def resolve(
    path: Path, columns: list[str], symbol: str | None, *, has_header: bool, skipped_line: str | None
) -> Shape:
    """The columns to read, from the header's names; refused (naming the columns) when the time, a
    price or the base volume is missing or named twice."""
    names = [normalise(column) for column in columns]
    if not has_header:
        layout: Layout = "binance"
    elif tuple(names) == BINANCE_COLUMNS:
        layout = "binance"
    elif _cryptodatadownload(names):
        layout = "cryptodatadownload"
    else:
        layout = "header"
    base, quote = _assets(symbol)
    bases: list[str] = []
    quotes: list[str] = []
    others: list[tuple[str, str]] = []  # (column, asset) of a volume in another asset
    for column, name in zip(columns, names, strict=True):
        asset = _VOLUME_OF.fullmatch(name)
        if name in _BASE_NAMES or (asset and asset.group(1) == base):
            bases.append(column)
        elif name in _QUOTE_NAMES or (asset and asset.group(1) == quote):
            quotes.append(column)
        elif asset:
            others.append((column, asset.group(1).upper()))
    wanted = [*TIME_NAMES, *_PRICES, *_BASE_NAMES, SIMULATED_COLUMN]
    twice = [n for n in dict.fromkeys(names) if n in wanted and names.count(n) > 1]
    if twice:
        raise DataValidationError(f"{path}: column {', '.join(twice)} appears more than once in the header")
    if len(bases) > 1:
        raise DataValidationError(
            f"{path}: columns {' and '.join(repr(c) for c in bases)} are both a base volume: keep one"
        )
    missing = [n for n in _PRICES if n not in names]
    time = next((columns[names.index(n)] for n in TIME_NAMES if n in names), None)
    if time is None:
        missing.insert(0, "timestamp")
    if not bases and not missing:
        if others:
            column, other = others[0]
            raise DataValidationError(
                f"{path}: column {column!r} is a volume in {other}, neither {(base or '?').upper()} nor "
                f"{(quote or '?').upper()} of --symbol {symbol}: is the file for another market?"
            )
        if quotes:
            raise DataValidationError(
                f"{path}: column {quotes[0]!r} is the quote volume and the file has no base volume "
                f"(volume or 'Volume {(base or 'BASE').upper()}'): a quote volume is not stored as one"
            )
    if not bases:
        missing.append("volume")
    if missing:
        raise DataValidationError(
            f"{path}: missing column {', '.join(missing)} (header must be timestamp,open,high,low,close,"
            f"volume){_missing_hint(columns, missing)}"
        )
    assert time is not None
    prices = tuple(columns[names.index(n)] for n in _PRICES)
    closes = layout == "binance" or normalise(time) == "open_time"
    close_time = columns[names.index("close_time")] if closes and "close_time" in names else None
    return Shape(
        layout=layout,
        has_header=has_header,
        skipped_line=skipped_line,
        columns=tuple(columns),
        time=time,
        prices=(prices[0], prices[1], prices[2], prices[3]),
        volume=bases[0],
        quote_volumes=tuple(quotes),
        symbol=columns[names.index("symbol")] if "symbol" in names else None,
        close_time=close_time,
        simulated=(
            columns[names.index(SIMULATED_COLUMN)] if has_header and SIMULATED_COLUMN in names else None
        ),
    )


def same_market(named: str, symbol: str) -> bool:
    """Whether a file's symbol cell (``BTCUSDT``, ``BTC/USDT``, ``btc-usdt``) names ``symbol``
    (BASE/QUOTE, or BASE/QUOTE:SETTLE): letters and digits compared, case and separators aside."""
    base, quote = _assets(symbol)
    if base is None or quote is None:
        return True  # nothing to compare with
    return re.sub(r"[^a-z0-9]", "", named.lower()) == base + quote


def _assets(symbol: str | None) -> tuple[str | None, str | None]:
    """BASE and QUOTE of BASE/QUOTE (or BASE/QUOTE:SETTLE), lower case for comparing with names."""
    if symbol is None or "/" not in symbol:
        return None, None
    base, _, quote = symbol.partition("/")
    return base.strip().lower(), quote.split(":")[0].strip().lower()


def _missing_hint(columns: list[str], missing: list[str]) -> str:
    """The usual reasons why a column is missing."""
    header = ",".join(columns)
    first = columns[0].strip() if columns else ""
    if len(columns) == 1 and (separator := next((s for s in (";", "\t", "|") if s in header), None)):
        return f": columns must be separated by commas, not {separator!r}"
    if re.fullmatch(r"[\d.eE+-]+", first) or _looks_like_time(first):
        return f": line 1 ({first!r} ...) is a row of data, the header is missing"
    if missing and missing[0] == "timestamp":
        return "; the time column may also be named " + ", ".join(TIME_NAMES[1:])
    return ""


def _looks_like_time(text: str) -> bool:
    import pandas as pd

    return not pd.isna(pd.to_datetime(text.strip(), utc=True, format="ISO8601", errors="coerce"))
