"""A market symbol as a trader types it, and as it is stored.

Symbols are stored in ccxt's unified spelling, upper case (``BTC/USDT``, ``BTC/USDT:USDT``); a trader
may type ``btc/usdt`` or ``Btc/Usdt`` and means the same market. Typed symbols are therefore compared
without case, and a series is written under one spelling only: the one already stored for it, else the
exchange's own (``mt data download``), else upper case. Without this, ``mt data sim btc/usdt`` made a
second series beside ``BTC/USDT`` and ``mt data export btc/usdt`` said nothing was stored.
"""

from __future__ import annotations

from collections.abc import Iterable

from mastertrade.errors import UserInputError


def parse_symbol(text: str, *, what: str = "symbol") -> str:
    """``text`` as a symbol to store: BASE/QUOTE (or BASE/QUOTE:SETTLE) without surrounding blanks, in
    upper case; ``UserInputError`` naming it when it is not of that form."""
    symbol = text.strip()
    base, slash, quote = symbol.partition("/")
    if not slash or not base.strip() or not quote.split(":")[0].strip() or any(c.isspace() for c in symbol):
        raise UserInputError(f"invalid {what} {text!r}: expected BASE/QUOTE, like BTC/USDT")
    return symbol.upper()


def base_asset(symbol: str) -> str:
    """The base asset of a market symbol: "BTC/USDT" -> "BTC" (the coin whose features it reads)."""
    return symbol.split("/")[0].split(":")[0].upper()


def same_symbol(a: str, b: str) -> bool:
    """Whether two spellings name the same market (case aside)."""
    return a.strip().casefold() == b.strip().casefold()


def spelled_as(symbol: str, known: Iterable[str]) -> str | None:
    """The spelling of ``symbol`` among ``known``: itself when it is there, else the one spelling that
    differs from it only in case; None when there is none, or several (then none is the one meant)."""
    names = set(known)
    if symbol in names:
        return symbol
    matches = sorted(name for name in names if same_symbol(name, symbol))
    return matches[0] if len(matches) == 1 else None
