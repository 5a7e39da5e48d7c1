"""The trading commands: `mt trade`, `mt orders`, `mt positions`, `mt balance`, `mt risk`, `mt goal`,
`mt strategy parity`, against a daemon in a background thread; bad input exits 2; live needs both
switches and nothing reaches an exchange without them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from mastertrade.engine.candle import Candle
from mastertrade.engine.market.venue import CandleUpdate
from tests.conftest import MT
from tests.fakes.exchange import serve
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.conftest import HOUR, T0, ThreadedTrading, trading_settings

BTC = "BTC/USDT"


def push(daemon: ThreadedTrading, i: int, price: float) -> None:
    venue = daemon.venue
    ts = T0 + i * HOUR
    daemon.call(
        lambda: venue.push(CandleUpdate(BTC, "1h", Candle(ts, price, price, price, price, 1.0), False))
    )
    daemon.call(
        lambda: venue.push(
            CandleUpdate(BTC, "1h", Candle(ts, price, price * 1.01, price * 0.99, price, 9.0), True)
        )
    )


def wait_for(mt: MT, check: Any, *args: str) -> Any:
    for _ in range(400):
        result = mt(*args, "--json")
        if result.exit_code == 0:
            data = json.loads(result.stdout)
            if check(data):
                return data
        time.sleep(0.02)
    raise AssertionError(f"mt {' '.join(args)} never satisfied the check: {result.stdout}{result.stderr}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trade", "buy", BTC, "0"], "invalid amount"),
        (["trade", "buy", "BTCUSDT", "1"], "invalid symbol"),
        (["trade", "buy", BTC, "1", "--price", "5"], "market order takes no --price"),
        (["trade", "sell", BTC, "1", "--type", "limit"], "needs a positive --price"),
        (["trade", "buy", BTC, "1", "--type", "iceberg", "--price", "1"], "invalid --type"),
        (["goal", "add", "g", "--kind", "fame", "--target", "1"], "invalid --kind"),
        (["goal", "add", "g", "--kind", "profit", "--target", "10%"], "not a percentage"),
        # a bare 150 is 150%, not 15,000%: refused with the spelling that means it
        (["goal", "add", "g", "--kind", "return", "--target", "150"], "invalid --target '150'"),
        (["goal", "add", "g", "--kind", "return", "--target", "1"], "write 1% for 1 percent"),
        (["goal", "add", "g", "--kind", "return", "--target", "-5%"], "invalid --target '-5%'"),
        (["goal", "add", "g", "--kind", "value", "--target", "1e6", "--period", "week"], "'week'"),
        (["goal", "add", "g", "--kind", "value", "--target", "1e6", "--by", "soon"], "'soon'"),
        (["goal", "remove", "0"], "(got 0)"),
    ],
)
def test_bad_input_exits_2(mt: MT, args: list[str], message: str) -> None:
    result = mt(*args)
    assert result.exit_code == 2 and message in result.stderr
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1


def test_live_needs_both_switches_and_nothing_reaches_the_exchange(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_desk() as desk:
        monkeypatch.setenv("MT_EXCHANGE__API_URL", desk.base_url)
        result = mt("trade", "buy", BTC, "0.1", "--live")  # config says paper
        assert result.exit_code == 2 and 'mode = "live"' in result.stderr
        monkeypatch.setenv("MT_MODE", "live")
        result = mt("trade", "buy", BTC, "0.1")  # config says live, no --live
        assert result.exit_code == 2 and "--live" in result.stderr
        result = mt("trade", "buy", BTC, "0.1", "--live")  # both, but no daemon runs
        assert result.exit_code == 1 and "daemon is not running" in result.stderr
        assert desk.requests == []


def serve_desk() -> Any:
    from contextlib import contextmanager

    @contextmanager
    def run() -> Iterator[TradingExchange]:
        yield from serve(TradingExchange({BTC: 40_000.0}))

    return run()


def test_the_trading_commands(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    placed = mt.json("trade", "buy", BTC, "10", "--wait", "0")  # a paper market order fills at the next price
    assert placed["risk"]["verdict"] == "approve" and placed["order"]["state"] == "open"
    push(daemon, 1, 101.0)
    [position] = wait_for(mt, lambda data: len(data) == 1, "positions")
    assert position["amount"] == 10 and position["mark"] == 101.0
    assert position["book"] == "paper"  # the account's paper book, said in --json
    orders = mt.json("orders")
    assert orders[0]["state"] == "filled" and orders[0]["average_price"] == 101.0
    assert orders[0]["book"] == "paper"
    assert mt.json("orders", "--open") == []
    assert "no open orders in the account" in mt("orders", "--open").stderr  # said, not an empty table
    table = mt("orders")
    assert table.exit_code == 0 and "filled" in table.stdout and "account" in table.stdout
    # placed in market time, the clock of a position's "opened" (on a simulated market it runs ahead of
    # the wall clock, when the order was written)
    placed_at = datetime.fromtimestamp(orders[0]["placed_ts"] / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "placed" in table.stdout and placed_at in table.stdout and placed_at.startswith("2026-01-01T")
    assert "account" in mt("positions").stdout
    unknown = mt("positions", "--book", "strategy:nosuch")
    assert unknown.exit_code != 0 and "strategy:nosuch" in unknown.stderr

    halted = mt.json("risk", "halt", "--reason", "lunch")
    assert halted["halted"] and halted["halt_reason"] == "lunch"
    refused = mt("trade", "buy", BTC, "1")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("mt: error: risk check rejected the order: trading is halted")
    status = mt.json("risk", "status")
    assert status["halted"] and status["open_positions"] == 1
    assert mt("risk", "status").exit_code == 0
    assert not mt.json("risk", "resume")["halted"]
    audit = mt.json("risk", "audit")
    assert {row["kind"] for row in audit} >= {"approve", "reject", "halt", "resume"}

    resting = mt.json("trade", "buy", BTC, "1", "--type", "limit", "--price", "50")
    cancelled = mt.json("orders", "cancel", str(resting["order"]["id"]))
    assert cancelled["state"] == "cancelled"
    missing = mt("orders", "cancel", "9999")
    assert missing.exit_code == 2 and "9999" in missing.stderr
    mine = mt.json("trade", "buy", BTC, "1", "--type", "limit", "--price", "50", "--client-order-id", "dip-1")
    by_client_id = mt.json("orders", "cancel", "dip-1")  # the id `mt trade` printed, as `show` takes
    assert by_client_id["id"] == mine["order"]["id"] and by_client_id["state"] == "cancelled"
    for bad, said in (("-1", "order ids start at 1"), ("no spaces", "an order id or a client order id")):
        refused = mt("orders", "cancel", bad)
        assert refused.exit_code == 2 and said in refused.stderr
    unknown = mt("orders", "cancel", "nobody-1")
    assert unknown.exit_code == 2 and "nobody-1" in unknown.stderr

    balance = mt.json("balance")
    assert balance["mode"] == "paper" and balance["balances"]["BTC"] == 10
    assert mt("balance").exit_code == 0 and mt("positions").exit_code == 0
    assert "account (paper)" in mt("balance").stdout  # named as orders and positions name it

    goals = mt.json("goal", "list")
    assert [g["name"] for g in goals] == ["monthly return", "monthly profit", "portfolio value"]
    added = mt.json("goal", "add", "fast", "--kind", "return", "--target", "5%", "--period", "week")
    assert added["target"] == 0.05 and added["period"] == "week"
    progress = mt.json("goal", "progress")
    assert len(progress["goals"]) == 4 and progress["risk_factor"]["reasons"]
    assert "risk factor" in mt("goal", "progress").stderr
    assert mt.json("goal", "remove", str(added["id"]))["name"] == "fast"


def test_a_goal_whose_deadline_has_passed_is_refused_on_the_account_clock(
    mt: MT, daemon: ThreadedTrading
) -> None:
    push(daemon, 0, 100.0)  # market time: 2026-01-01, whatever the wall clock says
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    past = mt("goal", "add", "late", "--kind", "value", "--target", "200000", "--by", "2025-12-31")
    assert past.exit_code == 2, past.output
    assert past.stderr.startswith("mt: error: invalid deadline '2025-12-31': it has passed")
    assert past.stderr.count("\n") == 1
    assert "late" not in [g["name"] for g in mt.json("goal", "list")]
    ahead = mt.json("goal", "add", "soon", "--kind", "value", "--target", "200000", "--by", "2026-06-01")
    assert ahead["deadline"] == "2026-06-01T00:00:00Z"
    met = mt("goal", "add", "met", "--kind", "value", "--target", "50000", "--by", "2026-06-01")
    assert met.exit_code == 0 and "it is reached already (100,000.00 of 50,000.00)" in met.stderr
    assert mt.json("goal", "list")[-1]["name"] == "met"
    push(daemon, 1, 100.0)  # an hour into January with nothing gained: no date this month
    wait_for(mt, lambda data: data["goals"][0]["expected"], "goal", "progress")
    table = mt("goal", "progress").stdout
    assert "not this month" in table


def test_the_projected_date_says_when_it_misses_the_period_or_the_deadline() -> None:
    from datetime import UTC, datetime

    from mastertrade.cli.goal import _projected
    from mastertrade.engine.api.schemas_trading import GoalInfo

    jan = datetime(2026, 1, 20, tzinfo=UTC)
    monthly = GoalInfo(name="m", kind="return", target=0.1, period="month", description="", progress=0.2)
    assert _projected(monthly) == "not this month"
    assert _projected(monthly.model_copy(update={"projected": jan})) == "2026-01-20"
    assert _projected(monthly.model_copy(update={"progress": 1.2})) == ""  # reached
    value = GoalInfo(
        name="v", kind="value", target=1e6, period="none", description="", progress=0.5, projected=jan
    )
    assert _projected(value.model_copy(update={"deadline": datetime(2026, 1, 10, tzinfo=UTC)})) == (
        "2026-01-20 (after the deadline)"
    )
    assert _projected(value) == "2026-01-20"


def record_equity(daemon: ThreadedTrading, ts: int, equity: float) -> None:
    import asyncio

    from mastertrade.engine.execution.trader import Trader

    assert daemon.ctx is not None and daemon.loop is not None
    trader = daemon.ctx.find(Trader)
    assert trader is not None
    journal = trader.account.journal
    done = asyncio.run_coroutine_threadsafe(
        journal.record_equity("paper", ts, equity, equity, 0.0), daemon.loop
    )
    done.result(10)


def test_resume_keeps_the_drawdown_unless_it_releases_the_drawdown_limit(
    mt: MT, daemon: ThreadedTrading
) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    record_equity(daemon, T0 - 30 * HOUR, 110_000.0)  # an earlier peak: 9.09% down, under the 15% limit
    mt("risk", "halt")
    resumed = mt("risk", "resume")
    assert resumed.exit_code == 0, resumed.output
    # halting and resuming never forgets a loss (it would widen the room to the limit) and says so
    assert "drawdown 9.09% below the peak 110,000.00 is kept" in resumed.stdout
    assert mt.json("risk", "status")["drawdown"] == pytest.approx(1 / 11)

    record_equity(daemon, T0 - 29 * HOUR, 130_000.0)  # now 23% down: reduce-only
    assert mt.json("risk", "status")["reduce_only"]
    one = mt("risk", "resume", "price_move")  # one breaker: the drawdown limit still holds, and is named
    assert "still reduce-only: drawdown 23.08%" in one.stdout
    assert (
        "still stopped by: drawdown limit (reduce-only)" in one.stdout and "trading resumed" not in one.stdout
    )
    resumed = mt("risk", "resume")
    assert "drawdown limit released: the drawdown was 23.08% below the peak 130,000.00" in resumed.stdout
    assert "a further 15.00% loss makes the account reduce-only again" in resumed.stdout
    status = mt.json("risk", "status")
    assert status["drawdown"] == 0 and not status["reduce_only"]
    # today's loss still stops entries, and the resume says so rather than a bare "trading resumed"
    assert "new entries still wait for the next UTC day" in resumed.stdout
    assert "no new entries until the next UTC day (daily loss limit)" in mt("risk", "status").stdout


def test_parity_of_a_genome_over_stored_candles(mt: MT, db_url: str) -> None:
    result = mt(
        "data", "sim", BTC, "--timeframe", "1h", "--bars", "800", "--seed", "5", "--end", "2026-02-01"
    )
    assert result.exit_code == 0, result.stderr
    report = mt.json(
        "strategy", "parity", "sma_cross", "--symbol", BTC, "--timeframe", "1h", "--start", "2026-01-05"
    )
    assert report["identical"] and report["same"] >= 1
    assert report["start"] == "2026-01-05T00:00:00Z"
    plain = mt(
        "strategy", "parity", "sma_cross", "--symbol", BTC, "--timeframe", "1h", "--start", "2026-01-05"
    )
    assert plain.exit_code == 0 and "same" in plain.stdout
    bad = mt("strategy", "parity", "sma_cross", "--symbol", BTC)
    assert bad.exit_code == 2 and "--timeframe" in bad.stderr


def test_a_strategy_paper_book_is_listed_as_its_own_never_as_the_account(mt: MT, db_url: str) -> None:
    from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
    from mastertrade.engine.signals.genome import parse_genome
    from mastertrade.engine.signals.strategy import Strategy

    genome = parse_genome(
        {
            "name": "up",
            "symbol": BTC,
            "timeframe": "1h",
            "entry": {">": [{"price": "close"}, {"price": "open"}]},
            "exit": {"<": [{"price": "close"}, {"price": "open"}]},
            "size": 0.5,
        }
    )
    source = StaticStrategies([TradedStrategy("s12", "paper", Strategy.from_genome(genome))])
    daemon = ThreadedTrading(trading_settings(), components=(source,)).start()
    try:
        venue = daemon.venue
        for i in range(4):  # rising bars: the strategy enters at the next open and holds
            ts, o = T0 + i * HOUR, 100.0 + i
            bar = Candle(ts, o, o + 2, o - 1, o + 1, 9.0)
            daemon.call(lambda bar=bar: venue.push(CandleUpdate(BTC, "1h", bar, True)))
        [position] = wait_for(mt, lambda data: len(data) == 1, "positions", "--book", "strategy:s12")
        assert position["book"] == "strategy:s12"
        orders = mt.json("orders", "--book", "s12")
        assert orders and {row["book"] for row in orders} == {"strategy:s12"}
        assert "paper book s12" in mt("orders", "--book", "s12").stdout
        resting = mt("orders", "--book", "s12", "--open")  # its id alone names its book, as the tables do
        assert resting.exit_code == 0 and "no open orders in the paper book s12" in resting.stderr
        assert mt.json("positions") == []  # the account holds nothing: the strategy's book is not it
        assert mt.json("orders") == []
    finally:
        daemon.stop()


def test_an_entry_sized_as_a_share_of_equity_says_so_until_it_fills() -> None:
    from datetime import UTC, datetime

    from mastertrade.cli.orders import _ordered
    from mastertrade.engine.api.schemas_trading import OrderInfo

    at = datetime(2026, 1, 1, tzinfo=UTC)
    row = OrderInfo(
        id=1, client_order_id="mt-1", book="strategy:s12", mode="paper", symbol=BTC, side="buy",
        type="market", role="entry", amount=None, equity_fraction=0.5, state="open", filled=0.0,
        fee=0.0, placed_ts=0, created_at=at, updated_at=at,
    )  # fmt: skip
    assert _ordered(row) == "50% of equity"
    assert _ordered(row.model_copy(update={"amount": 48.9706372})) == "48.970637"


def test_the_events_of_an_entry_sized_at_its_fill_carry_its_share_of_equity() -> None:
    """The dashboard's log reads "buy 50% of equity" from the event itself (its amount is 0 until the
    fill), for the placed and the refused order alike."""
    from mastertrade.db.models.trading import OrderRecord
    from mastertrade.engine.execution import order_events

    row = OrderRecord(
        id=7, client_order_id="mt-7", book="strategy:s12", mode="paper", symbol=BTC, side="buy",
        type="market", role="entry", amount=None, equity_fraction=0.5, state="open", filled=0.0, fee=0.0,
        placed_ts=0,
    )  # fmt: skip
    placed = order_events.placed(row, "paper")
    refused = order_events.rejected(row, "halted", "paper")
    assert (placed.amount, placed.equity_fraction) == (0.0, 0.5) == (refused.amount, refused.equity_fraction)
    from mastertrade.engine.events import parse_event

    back = parse_event(json.loads(json.dumps(placed.to_dict())))  # what the dashboard receives
    assert back.to_dict() == placed.to_dict() and back.to_dict()["equity_fraction"] == 0.5


def test_a_market_order_is_followed_to_its_fill(mt: MT, daemon: ThreadedTrading) -> None:
    """A paper market order fills at the next price: `mt trade` waits for it and says what filled,
    instead of "open"; a limit order resting is settled and returns at once."""
    import threading

    from mastertrade.client import DaemonClient

    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")

    def next_price_once_placed() -> None:
        """The next price, once the order rests (a timer pushed it before a slow `mt trade` had placed
        the order, which then waited for a price that never came)."""

        async def until_placed() -> None:
            async with DaemonClient() as client:
                while not await client.orders(open_only=True):
                    await asyncio.sleep(0.02)

        asyncio.run(asyncio.wait_for(until_placed(), 20))
        push(daemon, 1, 102.0)

    pusher = threading.Thread(target=next_price_once_placed)
    pusher.start()
    try:
        result = mt("trade", "buy", BTC, "5")
    finally:
        pusher.join()
    assert result.exit_code == 0, result.stderr
    assert "market (paper): filled, 5 filled at 102" in result.stdout  # the result, for scripts
    resting = mt("trade", "buy", BTC, "1", "--type", "limit", "--price", "50")
    assert resting.exit_code == 0 and "limit (paper): open" in resting.stdout
    assert "it fills at the next price" not in resting.output
