"""A sell by hand (``mt trade sell --live``, ``POST /v1/orders``) of a live symbol held by two strategies:
"guarded", whose stop-loss and take-profit rest at the exchange (one OCO list, ``native_stops``), and
"watched", with a take-profit only, which the daemon watches (nothing rests at the exchange for it).

Only the resting exits reserved coins, so a sell that fit beside them went without a word and was booked
as the account's own, though it sold "watched"'s coins; one reaching past them took "guarded"'s exits back
and sold "watched"'s coins too, saying only what became of "guarded"'s exits. Now "watched"'s position
counts as its own, as beside a buy bracketed by hand (``watched_sell``): a sell of it goes and says what
it took (booked as "watched"'s), and a sell reaching past it into "guarded"'s coins is refused naming
both and the two commands that sell as much; ``POST /v1/orders/check`` answers the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade import errors
from mastertrade.engine.api.order_check import dry_run
from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import TradedStrategy
from mastertrade.engine.execution.trader import Trader
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import open_desk, resting_sells
from tests.trading.owners import assert_owners, owners
from tests.trading.test_live_protection import BTC, Desk

OWN = 0.01
"""What the trader buys by hand beside the strategies' positions (the account's own coins)."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.1)
    genome = {**desk.strategy.strategy.genome.to_dict(), "name": "watched", "size": 0.25}
    genome.pop("stop_loss")  # a take-profit only: the daemon watches it, nothing rests for it
    desk.others.append(TradedStrategy("watched", "active", Strategy.from_genome(parse_genome(genome))))
    try:
        yield desk
    finally:
        await desk.close()


async def _both(desk: Desk) -> tuple[Trader, float, float, list[DeskOrder]]:
    """Both strategies' entries on one up bar: "guarded"'s exits rest, "watched"'s do not."""
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)
    guarded = await trader.account.strategy_holding("guarded", BTC)
    watched = await trader.account.strategy_holding("watched", BTC)
    assert guarded > 0 and watched > 0
    resting = resting_sells(desk.exchange)
    assert [o.quantity for o in resting] == [pytest.approx(guarded)] * 2
    assert trader.account.protection is not None and trader.account.protection.watches(BTC, "watched")
    return trader, guarded, watched, resting


async def test_a_sell_beside_the_resting_exits_says_what_it_takes_of_the_watched_position(desk: Desk) -> None:
    trader, guarded, watched, resting = await _both(desk)
    half = 0.05  # on the lot step
    assert (await dry_run(trader.account, OrderCreate(symbol=BTC, side="sell", amount=half)))["verdict"] == (
        "approve"
    )

    answer = await trader.account.place(BTC, "sell", half, live=True)

    assert answer["order"]["state"] == "filled" and answer["order"]["strategy_id"] == "watched"
    assert answer.get("exits") == (
        f"the sell takes {half:.8g} of strategy watched's {watched:.8g} {BTC}; its protection, kept by the "
        f"daemon (none rests at the exchange), watches the {watched - half:.8g} left"
    )
    assert resting_sells(desk.exchange) == resting  # "guarded"'s exits untouched
    assert await trader.account.strategy_holding("watched", BTC) == pytest.approx(watched - half)
    assert await trader.account.strategy_holding("guarded", BTC) == pytest.approx(guarded)


async def test_a_sell_past_the_watched_position_is_refused_naming_both_and_the_commands_work(
    desk: Desk,
) -> None:
    trader, guarded, watched, resting = await _both(desk)
    journal = trader.account.journal
    exits = [await journal.get(client_order_id=o.client_order_id) for o in resting]
    amount = float(f"{watched + 0.05:.8g}")
    rest = float(f"{amount - watched:.8g}")
    said = (
        f"sell of {amount:.8g} {BTC}: only {watched:.8g} of the {watched + guarded:.8g} BTC held are free of "
        f"resting exits, none of them the account's own: strategy watched holds {watched:.8g} BTC, its exits "
        f"kept by the daemon (none rests at the exchange); strategy guarded's exits order {exits[0].id} "
        f"(stop-loss), order {exits[1].id} (take-profit) are kept by its protection: one sell by hand "
        f"replaces one owner's exits, so sell the free ones first (`mt trade sell {BTC} {watched:.8g} "
        f"--live`), then the {rest:.8g} left to sell from the strategy's position (`mt trade sell {BTC} "
        f"{rest:.8g} --live`)"
    )
    with pytest.raises(errors.UserInputError) as checked:
        await dry_run(trader.account, OrderCreate(symbol=BTC, side="sell", amount=amount))
    assert str(checked.value) == said
    with pytest.raises(errors.UserInputError) as refused:
        await trader.account.place(BTC, "sell", amount, live=True)
    assert str(refused.value) == said
    assert resting_sells(desk.exchange) == resting  # nothing touched

    first = await trader.account.place(BTC, "sell", float(f"{watched:.8g}"), live=True)
    assert first["order"]["strategy_id"] == "watched"
    assert first["exits"] == (
        f"the sell takes all of strategy watched's {watched:.8g} {BTC}; its protection ends with the position"
    )
    assert await trader.account.strategy_holding("watched", BTC) == 0.0
    second = await trader.account.place(BTC, "sell", float(f"{rest:.8g}"), live=True)
    assert second["order"]["strategy_id"] == "guarded"
    assert second["exits"].startswith("strategy guarded's exits order ")
    assert " were taken back for the sell; its protection placed them again for the " in second["exits"]
    assert await trader.account.strategy_holding("guarded", BTC) == pytest.approx(guarded - rest)
    assert len(resting_sells(desk.exchange)) == 2


async def test_a_second_sell_while_a_shared_one_rests_takes_what_it_leaves_of_the_watched_position(
    desk: Desk,
) -> None:
    """The account's own coins beside both: a first sell of them and of "watched"'s, resting (a limit
    above the market), keeps each one's share; a second sell takes only what the first leaves of
    "watched"'s (none of the account's own is left), and is booked as "watched"'s."""
    trader, guarded, watched, resting = await _both(desk)
    account = trader.account
    assert (await account.place(BTC, "buy", OWN, live=True))["order"]["state"] == "filled"
    take, more = 0.03, 0.02
    amount = float(f"{OWN + take:.8g}")

    first = await account.place(BTC, "sell", amount, type_="limit", price=41_000.0, live=True)
    assert first["order"]["state"] == "open"
    assert first["order"]["shares"] == [
        {"strategy_id": None, "amount": pytest.approx(OWN)},
        {"strategy_id": "watched", "amount": pytest.approx(take)},
    ]
    second = await account.place(BTC, "sell", more, live=True)

    assert second["order"]["state"] == "filled" and second["order"]["strategy_id"] == "watched"
    assert second["exits"] == (
        f"the sell takes {more:.8g} of strategy watched's {watched - take:.8g} {BTC}; its protection, kept "
        f"by the daemon (none rests at the exchange), watches the {watched - take - more:.8g} left"
    )
    assert [o for o in resting_sells(desk.exchange) if o.type != "LIMIT"] == resting  # "guarded"'s
    held = await owners(account.journal, account.book, BTC)
    assert_owners(held, own=OWN, guarded=guarded, watched=watched - more)

    desk.exchange.fill_part(first["order"]["client_order_id"], OWN)  # the account's own, the first owner
    await trader.housekeeping()
    held = await owners(account.journal, account.book, BTC)
    assert_owners(held, guarded=guarded, watched=watched - more)
    desk.exchange.fill_part(first["order"]["client_order_id"], take)  # then "watched"'s
    await trader.housekeeping()
    assert_owners(
        await owners(account.journal, account.book, BTC), guarded=guarded, watched=watched - take - more
    )
    restarted = await desk.run()
    held = await owners(restarted.account.journal, restarted.account.book, BTC)
    assert_owners(held, guarded=guarded, watched=watched - take - more)
    assert await restarted.account.strategy_holding("watched", BTC) == pytest.approx(watched - take - more)
