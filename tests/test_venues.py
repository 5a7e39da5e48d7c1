"""The simulated and replay venues behind the Venue interface."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mastertrade.engine.market.replay import ReplayVenue
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.market.sim_venue import ORIGIN_MS, SimVenue
from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
from mastertrade.engine.market.venue import CandleUpdate, Venue

HOUR = 3_600_000
NOW = ORIGIN_MS + 1000 * HOUR + 1234  # a fixed "now" inside bar 1000


async def no_sleep(_: float) -> None:
    return None


async def take(venue: Venue, symbols: list[str], n: int, timeframe: str = "1h") -> list[CandleUpdate]:
    out = []
    async for update in venue.stream(symbols, timeframe):
        out.append(update)
        if len(out) == n:
            break
    return out


async def test_sim_history_pages_join_up() -> None:
    venue = SimVenue(seed=3, clock=lambda: NOW)
    assert isinstance(venue, Venue) and venue.simulated and venue.id == "sim-live"
    whole = await venue.fetch_ohlcv("BTC/USDT", "1h", ORIGIN_MS, 600)
    fresh = SimVenue(seed=3, clock=lambda: NOW)
    pages = await fresh.fetch_ohlcv("BTC/USDT", "1h", ORIGIN_MS, 250)
    pages += await fresh.fetch_ohlcv("BTC/USDT", "1h", pages[-1][0] + HOUR, 350)
    assert pages == whole
    assert [row[0] for row in whole] == [ORIGIN_MS + i * HOUR for i in range(600)]
    # history stops at the forming bar: nothing from the future
    tail = await venue.fetch_ohlcv("BTC/USDT", "1h", NOW - 5 * HOUR, 100)
    assert tail[-1][0] == ORIGIN_MS + 1000 * HOUR


async def test_sim_stream_forms_bars_and_closes_each_once() -> None:
    venue = SimVenue(seed=1, ticks_per_bar=6, sleep=no_sleep, clock=lambda: NOW)
    updates = await take(venue, ["BTC/USDT", "ETH/USDT"], 2 * 6 * 5)
    closed = [u for u in updates if u.closed]
    assert [u.symbol for u in closed] == ["BTC/USDT", "ETH/USDT"] * 5
    btc = [u for u in closed if u.symbol == "BTC/USDT"]
    assert [u.ts for u in btc] == [ORIGIN_MS + (1000 + i) * HOUR for i in range(5)]
    for bar in closed:
        forming = [u for u in updates if u.symbol == bar.symbol and u.ts == bar.ts and not u.closed]
        assert len(forming) == 5
        final = bar.candle
        assert all(final.low <= u.candle.low <= u.candle.close <= u.candle.high <= final.high
                   or final.low <= u.candle.close for u in forming)  # fmt: skip
        assert all(u.candle.open == final.open and final.low <= u.candle.close <= final.high for u in forming)
    # consecutive bars join: each opens at the previous close
    assert all(b.candle.open == a.candle.close for a, b in zip(btc, btc[1:], strict=False))


async def test_sim_stream_continues_stored_history(database: Any) -> None:
    store = CandleStore(database)
    frame = simulate("BTC/USDT", "1h", 48, 5, end=ORIGIN_MS + 2000 * HOUR)
    await store.upsert(SeriesKey("sim", "BTC/USDT", "1h"), rows_from_frame(frame))
    venue = SimVenue(seed=5, ticks_per_bar=3, store=store, sleep=no_sleep, clock=lambda: NOW)
    first = (await take(venue, ["BTC/USDT"], 3))[-1]
    assert first.closed and first.ts == ORIGIN_MS + 2000 * HOUR
    assert first.candle.open == frame["close"].iloc[-1]
    # the live series started as a copy of the research series, which the stream never writes to
    live = await store.read(SeriesKey("sim-live", "BTC/USDT", "1h"))
    assert len(live) == 48 and (await store.info(SeriesKey("sim", "BTC/USDT", "1h"))).rows == 48


async def test_sim_stream_runs_in_accelerated_time() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    venue = SimVenue(seed=1, speed=3600, ticks_per_bar=4, sleep=sleep, clock=lambda: NOW)
    await take(venue, ["BTC/USDT"], 8)
    assert sum(slept) == 2.0  # two 1h bars at 3600x: two seconds of wall time


async def test_replay_plays_stored_bars_in_order(database: Any) -> None:
    store = CandleStore(database)
    start = ORIGIN_MS + 100 * HOUR
    frames = {
        symbol: simulate(symbol, "1h", 10, 2, end=start + 10 * HOUR) for symbol in ("BTC/USDT", "ETH/USDT")
    }
    for symbol, frame in frames.items():
        await store.upsert(SeriesKey("binance", symbol, "1h"), rows_from_frame(frame))
    venue = ReplayVenue(store, "binance", start=start + 4 * HOUR, ticks_per_bar=2, sleep=no_sleep)
    assert venue.simulated and venue.id == "binance"
    updates = [u async for u in venue.stream(["BTC/USDT", "ETH/USDT"], "1h")]
    closed = [u for u in updates if u.closed]
    assert len(updates) == 2 * 2 * 6 and len(closed) == 12  # six bars each, then the stream ends
    btc = np.array([u.row() for u in closed if u.symbol == "BTC/USDT"])
    expected = np.array(rows_from_frame(frames["BTC/USDT"])[4:])
    assert np.array_equal(btc, expected)
    assert await venue.fetch_ohlcv("ETH/USDT", "1h", start, 3) == rows_from_frame(frames["ETH/USDT"])[:3]


async def test_factory_opens_the_configured_offline_venues(database: Any, monkeypatch: Any) -> None:
    from mastertrade.config import load_settings
    from mastertrade.engine.market.factory import open_venue
    from mastertrade.errors import UserInputError

    monkeypatch.setenv("MT_MARKET__SPEED", "3600")
    sim = await open_venue(load_settings(), database)
    assert isinstance(sim, SimVenue) and sim.speed == 3600 and sim.store is not None
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "binance")
    monkeypatch.setenv("MT_MARKET__REPLAY_START", "2024-01-01")
    replay = await open_venue(load_settings(), database)
    assert isinstance(replay, ReplayVenue) and replay.exchange == "binance"
    assert replay.start == 1_704_067_200_000
    monkeypatch.setenv("MT_MARKET__REPLAY_START", "someday")
    with pytest.raises(UserInputError, match=r"\[market\] replay_start 'someday'"):
        await open_venue(load_settings(), database)


async def test_a_restarted_replay_resumes_after_the_last_bar_it_served(
    database: Any, monkeypatch: Any
) -> None:
    """Market time never goes back: a daemon restarted on a replay (a new venue from the same config and
    database) goes on after the bar it was serving, even one cut short by a kill, never from the first
    stored candle; once every stored bar has been served it says so and serves nothing more."""
    from mastertrade.config import load_settings
    from mastertrade.engine.market.factory import open_venue

    store = CandleStore(database)
    start = ORIGIN_MS + 100 * HOUR
    frame = simulate("BIG/USDT", "1h", 6, 3, end=start + 6 * HOUR)
    await store.upsert(SeriesKey("csv", "BIG/USDT", "1h"), rows_from_frame(frame))
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__TICKS_PER_BAR", "2")

    async def run(limit: int | None) -> tuple[ReplayVenue, list[CandleUpdate]]:
        venue = await open_venue(load_settings(), database)
        assert isinstance(venue, ReplayVenue)
        venue._sleep = no_sleep
        seen: list[CandleUpdate] = []
        async for update in venue.stream(["BIG/USDT"], "1h"):
            seen.append(update)
            if len(seen) == limit:
                break  # the daemon is killed here
        return venue, seen

    _, first = await run(2 * 2 + 1)  # bars 0 and 1 closed, bar 2 cut short after its first tick
    assert [u.ts for u in first if u.closed] == [start, start + HOUR]
    venue, second = await run(None)
    assert [u.ts for u in second if u.closed] == [start + 3 * HOUR, start + 4 * HOUR, start + 5 * HOUR]
    assert min(u.ts for u in second) > max(u.ts for u in first)
    assert venue.ended is not None and "every stored csv 1h bar has been served" in venue.ended
    monkeypatch.setenv("MT_MARKET__REPLAY_START", "2000-01-01")  # an earlier start does not rewind
    venue, third = await run(None)
    assert third == [] and venue.ended is not None
    assert "the last opened" in venue.ended


async def test_a_replay_of_another_source_or_timeframe_never_takes_market_time_back(
    database: Any, monkeypatch: Any
) -> None:
    """Switching ``replay_exchange`` (or ``timeframe``) to candles older than the market time the
    workspace reached is refused at start-up, naming both times and the two ways on, and changes nothing
    stored; with ``replay_start`` at that time the new source goes on from there, never earlier."""
    from mastertrade.config import load_settings
    from mastertrade.engine.market.factory import open_venue
    from mastertrade.engine.market.replay_position import ReplayPositions
    from mastertrade.errors import UserInputError
    from mastertrade.utc import iso_ms

    store = CandleStore(database)
    start = ORIGIN_MS + 10_000 * HOUR
    older = start - 400 * HOUR  # "old" holds the 400 hours before csv's first bar and its first 10
    await store.upsert(
        SeriesKey("csv", "BIG/USDT", "1h"),
        rows_from_frame(simulate("BIG/USDT", "1h", 6, 3, end=start + 6 * HOUR)),
    )
    await store.upsert(
        SeriesKey("old", "BIG/USDT", "1h"),
        rows_from_frame(simulate("BIG/USDT", "1h", 410, 4, end=start + 10 * HOUR)),
    )
    await store.upsert(
        SeriesKey("csv", "BIG/USDT", "4h"),
        rows_from_frame(simulate("BIG/USDT", "4h", 8, 5, end=start + 32 * HOUR)),
    )
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BIG/USDT"]')
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__TICKS_PER_BAR", "2")
    csv = await open_venue(load_settings(), database)
    assert isinstance(csv, ReplayVenue)
    csv._sleep = no_sleep
    played = await take(csv, ["BIG/USDT"], 3 * 2)  # three bars: market time reached their last close
    reached = start + 3 * HOUR
    assert max(u.ts for u in played) == reached - HOUR
    positions = ReplayPositions(database)
    before = (await positions.reached(), (await store.info(SeriesKey("old", "BIG/USDT", "1h"))).rows)

    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "old")
    with pytest.raises(UserInputError) as refused:
        await open_venue(load_settings(), database)
    message = str(refused.value)
    assert message.startswith('[market] replay_exchange = "old" would take market time back')
    assert f"its first 1h bar to play opens at {iso_ms(older)}, before {iso_ms(reached)}" in message
    assert "reached replaying csv 1h" in message
    assert f'set [market] replay_start = "{iso_ms(reached)}"' in message and "new workspace" in message
    unchecked = ReplayVenue(store, "old", sleep=no_sleep, positions=positions)  # the stream refuses too
    with pytest.raises(UserInputError, match="would take market time back"):
        await take(unchecked, ["BIG/USDT"], 1)
    assert (await positions.reached(), (await store.info(SeriesKey("old", "BIG/USDT", "1h"))).rows) == before

    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__TIMEFRAME", "4h")  # csv's 4h bars open from start on
    with pytest.raises(UserInputError, match=r'^\[market\] timeframe = "4h" would take market time back'):
        await open_venue(load_settings(), database)
    monkeypatch.delenv("MT_MARKET__TIMEFRAME")

    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "old")
    monkeypatch.setenv("MT_MARKET__REPLAY_START", iso_ms(reached))
    old = await open_venue(load_settings(), database)
    assert isinstance(old, ReplayVenue)
    old._sleep = no_sleep
    assert (
        await old.resume_time(["BIG/USDT"], "1h") == reached
    )  # the workspace's market time, not the wall clock
    rest = [u async for u in old.stream(["BIG/USDT"], "1h")]
    assert [u.ts for u in rest if u.closed] == [start + i * HOUR for i in range(3, 10)]
    assert old.ended is not None and "every stored old 1h bar has been served" in old.ended

    monkeypatch.setenv("MT_MARKET__REPLAY_START", iso_ms(start + 100 * HOUR))  # later than any stored bar
    beyond = await open_venue(load_settings(), database)
    assert isinstance(beyond, ReplayVenue)
    assert [u async for u in beyond.stream(["BIG/USDT"], "1h")] == []
    assert beyond.ended is not None
    assert f"no old 1h bar is stored from {iso_ms(start + 100 * HOUR)} on" in beyond.ended


@pytest.mark.parametrize("what", ["order", "fill"])
async def test_a_replay_never_starts_before_the_workspace_traded(
    database: Any, monkeypatch: Any, what: str
) -> None:
    """A workspace that traded on the simulated market or an exchange (its orders and fills stamped on
    their market time, 2026 say) switched to a replay of older candles placed orders after the old ones
    and filled them on 2024 bars. It is refused at start-up, naming both times and the ways on, and
    changes nothing stored; with ``replay_start`` at that time the replay goes on from there."""
    from mastertrade.config import load_settings
    from mastertrade.db.models.trading import FillRecord, OrderRecord, TradingBook
    from mastertrade.engine.market.factory import open_venue
    from mastertrade.engine.orders import OrderState
    from mastertrade.errors import UserInputError
    from mastertrade.utc import iso_ms

    store = CandleStore(database)
    start = ORIGIN_MS + 10_000 * HOUR
    await store.upsert(
        SeriesKey("csv", "BIG/USDT", "1h"),
        rows_from_frame(simulate("BIG/USDT", "1h", 10, 3, end=start + 10 * HOUR)),
    )
    placed = start + 4 * HOUR + 1  # on the simulated market, the replay's fifth bar's time
    filled = placed + (HOUR if what == "fill" else -HOUR)  # the newer of the two is what counts
    async with database.sessions() as session:
        session.add(TradingBook(id="paper", mode="paper", quote="USDT"))
        await session.flush()
        order = OrderRecord(
            client_order_id="mt-sim-1", book="paper", mode="paper", symbol="BIG/USDT", side="buy",
            type="market", amount=1.0, state=OrderState.FILLED, filled=1.0, placed_ts=placed,
        )  # fmt: skip
        session.add(order)
        await session.flush()
        assert order.id is not None
        session.add(
            FillRecord(
                order_id=order.id,
                book="paper",
                symbol="BIG/USDT",
                side="buy",
                amount=1.0,
                price=100.0,
                fee_asset="USDT",
                trade_id="t1",
                ts=filled,
            )  # fmt: skip
        )
        await session.commit()
    newest = max(placed, filled)
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BIG/USDT"]')
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__TICKS_PER_BAR", "2")
    with pytest.raises(UserInputError) as refused:
        await open_venue(load_settings(), database)
    message = str(refused.value)
    assert message.startswith('[market] venue = "replay" of csv would take market time back')
    assert f"its first 1h bar to play opens at {iso_ms(start)}, before {iso_ms(newest)}" in message
    done = f"order {order.id} was placed" if what == "order" else f"order {order.id} filled"
    assert f"when this workspace's newest {done}" in message
    assert f'set [market] replay_start = "{iso_ms(newest)}"' in message and "new workspace" in message
    assert (await store.info(SeriesKey("csv", "BIG/USDT", "1h"))).rows == 10

    monkeypatch.setenv("MT_MARKET__REPLAY_START", iso_ms(newest))
    replay = await open_venue(load_settings(), database)
    assert isinstance(replay, ReplayVenue)
    replay._sleep = no_sleep
    played = [u.ts for u in await take(replay, ["BIG/USDT"], 2)]
    assert played and min(played) >= newest  # the first bar it plays opens after the newest trade


@pytest.mark.parametrize("what", ["equity", "ledger"])
async def test_a_replay_never_starts_before_the_workspace_marked_its_books(
    database: Any, monkeypatch: Any, what: str
) -> None:
    """A daemon on the simulated market that never traded still marked its account's equity at every
    closed bar (2026, say), and a ledger entry is stamped on market time too; switched to a replay of
    older candles, its equity history ran from 2026 back to 2024. It is refused at start-up as after a
    trade, naming both times and the ways on, and changes nothing stored."""
    from mastertrade.config import load_settings
    from mastertrade.db.models.trading import EquityPointRecord, LedgerEntry, TradingBook
    from mastertrade.engine.market.factory import open_venue
    from mastertrade.errors import UserInputError
    from mastertrade.utc import iso_ms

    store = CandleStore(database)
    start = ORIGIN_MS + 10_000 * HOUR
    await store.upsert(
        SeriesKey("csv", "BIG/USDT", "1h"),
        rows_from_frame(simulate("BIG/USDT", "1h", 10, 3, end=start + 10 * HOUR)),
    )
    newest = start + 4 * HOUR  # on the simulated market, the replay's fifth bar's time
    async with database.sessions() as session:
        session.add(TradingBook(id="paper", mode="paper", quote="USDT"))
        await session.flush()
        session.add(LedgerEntry(book="paper", asset="USDT", amount=1000.0, reason="starting cash", ts=0))
        if what == "equity":
            for ts in (newest - HOUR, newest):
                session.add(
                    EquityPointRecord(book="paper", ts=ts, equity=1000.0, cash=1000.0, positions_value=0.0)
                )
        else:
            session.add(LedgerEntry(book="paper", asset="USDT", amount=5.0, reason="deposit", ts=newest))
        await session.commit()
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BIG/USDT"]')
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__TICKS_PER_BAR", "2")
    with pytest.raises(UserInputError) as refused:
        await open_venue(load_settings(), database)
    message = str(refused.value)
    assert message.startswith('[market] venue = "replay" of csv would take market time back')
    assert f"its first 1h bar to play opens at {iso_ms(start)}, before {iso_ms(newest)}" in message
    record = "equity mark (book paper" if what == "equity" else "ledger entry (book paper"
    assert f"when this workspace's newest {record}" in message, message
    assert f'set [market] replay_start = "{iso_ms(newest)}"' in message and "new workspace" in message
    assert (await store.info(SeriesKey("csv", "BIG/USDT", "1h"))).rows == 10

    monkeypatch.setenv("MT_MARKET__REPLAY_START", iso_ms(newest))
    replay = await open_venue(load_settings(), database)
    assert isinstance(replay, ReplayVenue)
    replay._sleep = no_sleep
    played = [u.ts for u in await take(replay, ["BIG/USDT"], 2)]
    assert played and min(played) >= newest
