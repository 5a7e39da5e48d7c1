"""A market symbol as a trader types it, and as it is stored.

Symbols are stored in ccxt's unified spelling, upper case (``BTC/USDT``, ``BTC/USDT:USDT``); a trader
may type ``btc/usdt`` or ``Btc/Usdt`` and means the same market. Typed symbols are therefore compared
without case, and a series is written under one spelling only: the one already stored for it, else the
exchange's own (``mt data download``), else upper case. Without this, ``mt data sim btc/usdt`` made a
second series beside ``BTC/USDT`` and ``mt data export btc/usdt`` said nothing was stored.

A symbol is at most :data:`MAX_LENGTH` characters, the narrowest column one is stored in (orders, fills,
protections, feature values). SQLite ignores a column's width, PostgreSQL refuses a longer value: without
the limit, ``mt data sim`` of a longer symbol stored it on SQLite and ended in a database traceback on
PostgreSQL (where a symbol of 33 to 64 characters was stored as a series though no order, fill or
feature value of it could be).
"""

from __future__ import annotations

from collections.abc import Iterable

from mastertrade.errors import UserInputError

MAX_LENGTH = 32
"""The longest symbol stored (an option's unified symbol, ``BTC/USD:BTC-261225-100000-C``, has 27)."""


def parse_symbol(text: str, *, what: str = "symbol") -> str:
    """``text`` as a symbol to store: BASE/QUOTE (or BASE/QUOTE:SETTLE) without surrounding blanks, in
    upper case, at most :data:`MAX_LENGTH` characters; ``UserInputError`` naming it when it is not.

    One slash, and printable ASCII only, as every exchange's unified symbols are: ``BTC/ＵSDT`` (a
    full-width U), an emoji, a right-to-left override or a second slash (``BTC//USDT``,
    ``../../etc/passwd``) was stored as a series of its own, a market no exchange lists."""
    symbol = text.strip()
    base, slash, quote = symbol.partition("/")
    if not slash or not base.strip() or not quote.split(":")[0].strip() or any(c.isspace() for c in symbol):
        raise UserInputError(f"invalid {what} {text!r}: expected BASE/QUOTE, like BTC/USDT")
    if not (symbol.isascii() and symbol.isprintable()):
        import unicodedata

        plain = unicodedata.normalize("NFKC", symbol)
        like = plain.upper() if plain.isascii() and plain.isprintable() else "BTC/USDT"
        raise UserInputError(f"invalid {what} {text!r}: printable ASCII only, like {like}")
    if "/" in quote:
        raise UserInputError(f"invalid {what} {text!r}: one slash, BASE/QUOTE, like BTC/USDT")
    if len(symbol) > MAX_LENGTH:
        raise UserInputError(
            f"invalid {what} {text!r}: at most {MAX_LENGTH} characters ({len(symbol)} given)"
        )
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
