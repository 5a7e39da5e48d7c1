"""A strategy's paper book is named by a unique prefix of its id, as every `mt strategy` command names the
strategy and as `mt orders` shows the book ("paper book 253c5485"). `mt positions --book 253c5485` was
refused ("no trading book '253c5485'") although that is the name the order table printed."""

from __future__ import annotations

import pytest

from mastertrade import errors
from tests.trading.conftest import TradingEngine

FIRST = "253c548572cd3b4c"


async def test_a_unique_prefix_names_the_book(trading: TradingEngine) -> None:
    account = trading.trader.account
    first = await account.strategy_book(FIRST)
    second = await account.strategy_book("9a00000000000001")
    for name in (FIRST, f"strategy:{FIRST}", "253c5485", "strategy:253c", "253C5485"):
        assert account.book_broker(name) is first, name
    assert account.book_broker("9a00") is second
    assert await account.positions("253c5485") == []
    with pytest.raises(errors.NotFound, match=r"^no trading book '253' \(books: account, strategy:"):
        account.book_broker("253")  # three digits are no prefix
    with pytest.raises(errors.NotFound, match=r"^no trading book 'ffff' \(books: account, strategy:"):
        account.book_broker("ffff")

    third = await account.strategy_book("253c000000000002")
    assert account.book_broker("253c5") is first and account.book_broker("253c0") is third
    with pytest.raises(errors.UserInputError, match=r"^trading book '253c' is ambiguous: strategy:253c"):
        account.book_broker("253c")
