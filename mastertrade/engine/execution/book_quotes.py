"""The quote currency the books already keep their cash in, against ``[paper] quote``.

A book keeps its cash in the quote currency it was created with (``trading_books.quote``: the account's
paper or live book, each paper-stage strategy's own). A daemon started with another ``[paper] quote``
valued that cash at nothing: the account showed equity 0.00 and a 100% drawdown, its loss limits tripped
and every order was refused, while the coins and cash were still there. So the daemon refuses to start,
naming both currencies and the two ways on: the old quote back, or a new workspace for an account in the
new one. Nothing stored is changed (converting a book's cash is not this program's to decide).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import col, select

from mastertrade.db.models.trading import TradingBook
from mastertrade.errors import ConfigError

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database


async def check_book_quotes(settings: Settings, db: Database) -> None:
    """Raise ``ConfigError`` when a stored book keeps its cash in another currency than ``[paper] quote``."""
    quote = settings.paper.quote
    async with db.sessions() as session:
        query = (
            select(TradingBook.quote, func.count())
            .where(col(TradingBook.quote) != quote)
            .group_by(col(TradingBook.quote))
            .order_by(col(TradingBook.quote))
        )
        others = list((await session.exec(query)).all())
    if not others:
        return
    kept = ", ".join(f"{count} in {other}" for other, count in others)
    first = others[0][0]
    raise ConfigError(
        f"[paper] quote {quote!r}: this workspace's books keep their cash in another currency ({kept}),"
        f" which {quote} would value at nothing; set quote = {first!r} back, or start a new workspace"
        f" (MT_HOME) for an account in {quote}"
    )
