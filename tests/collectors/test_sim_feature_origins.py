"""The simulated market's market-wide features (sentiment, fear & greed ...) record which `mt data sim`
run derived them. Re-simulating the symbol that produced them replaces them, though another simulated
symbol is stored (before, they were kept and no longer matched its candles); another symbol's run still
leaves them alone. A store from before origins were recorded keeps working and says what it cannot know,
and `mt data delete` of the producer says which values it leaves without candles."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from alembic import command
from sqlalchemy import text

from mastertrade.db.migrate import alembic_config
from tests.conftest import MT

END = "2026-06-01T00:00:00Z"
WIDE = ("sentiment", "mentions", "bullish_ratio", "fear_greed")


def sim(mt: MT, *args: str) -> str:
    """Run `mt data sim ARGS` on 1h bars ending at END; its stderr, as one line per message."""
    result = mt("data", "sim", *args, "--timeframe", "1h", "--end", END)
    assert result.exit_code == 0, result.output
    return result.stderr


def derived(symbols: dict[str, int], seed: int) -> dict[tuple[str, int], float]:
    """The market-wide values a run of ``symbols`` (symbol -> bars) with ``seed`` derives."""
    from mastertrade.engine.collectors.sim import simulate_features
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.timeframes import parse_when

    end = parse_when(END, what="end")
    frames = {symbol: simulate(symbol, "1h", bars, seed, end=end) for symbol, bars in symbols.items()}
    return {
        (point.name, point.ts): point.value
        for point in simulate_features(frames, "1h", seed)
        if not point.symbol and point.name in WIDE
    }


def stored() -> dict[tuple[str, int], float]:
    """The market-wide simulated values stored."""
    rows = query("SELECT name, ts, value FROM features WHERE source = 'sim' AND symbol = ''")
    return {(str(name), int(ts)): float(value) for name, ts, value in rows}


def query(sql: str) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the workspace's database; its rows, if any."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database

    async def go() -> list[tuple[Any, ...]]:
        db = await Database.open(load_settings())
        try:
            async with db.engine.begin() as conn:
                result = await conn.execute(text(sql))
                return [tuple(row) for row in result.all()] if result.returns_rows else []
        finally:
            await db.close()

    return asyncio.run(go())


def matches(expected: dict[tuple[str, int], float], held: dict[tuple[str, int], float]) -> int:
    """How many expected values are stored as derived."""
    return sum(key in held and held[key] == value for key, value in expected.items())


def test_resimulating_the_producer_replaces_them_while_another_symbol_leaves_them(db_url: str) -> None:
    mt = MT()
    sim(mt, "BTC/USDT", "--bars", "500", "--seed", "7")
    sim(mt, "ETH/USDT", "--bars", "600", "--seed", "3")
    said = " ".join(sim(mt, "BTC/USDT", "--bars", "500", "--seed", "8").split())
    fresh = derived({"BTC/USDT": 500}, 8)
    # every value BTC's new candles derive is stored: none of the old ones stayed
    assert matches(fresh, stored()) == len(fresh)
    assert (
        f"replaced the {len(fresh):,} market-wide simulated feature values derived from BTC/USDT 1h"
        " (seed 7) with those of BTC/USDT; those derived from ETH/USDT 1h (seed 3) stay" in said
    )
    # another symbol, with another seed and more bars, leaves them alone and says so
    said = " ".join(sim(mt, "ETH/USDT", "--bars", "700", "--seed", "4").split())
    assert matches(fresh, stored()) == len(fresh)
    assert "market-wide simulated feature values stored before" in said
    assert "derived from BTC/USDT 1h (seed 8); only times not stored yet were added from ETH/USDT" in said
    again = mt.json("data", "sim", "BTC/USDT", "--bars", "500", "--seed", "8", "--end", END)
    assert again[0]["market_features_replaced"] == len(fresh) and again[0]["market_features_kept"] == 0


def test_a_store_without_origins_keeps_working_and_says_what_it_cannot_know(db_url: str) -> None:
    mt = MT()
    sim(mt, "BTC/USDT", "--bars", "300", "--seed", "7")
    sim(mt, "ETH/USDT", "--bars", "300", "--seed", "3")
    before = stored()
    # as stored by a version that recorded no origins (the upgrade leaves them so)
    query("UPDATE features SET origin_id = NULL")
    said = " ".join(sim(mt, "BTC/USDT", "--bars", "300", "--seed", "8").split())
    # nothing tells whether BTC produced them, so they stay, and the note says so and how to renew them
    assert stored() == before
    held = len(derived({"BTC/USDT": 300}, 8))
    assert (
        f"kept the {held:,} market-wide simulated feature values stored before (sentiment, fear & greed ...),"
        " of unrecorded origin (stored by an earlier version; BTC/USDT's earlier candles may be among"
        " them); only times not stored yet were added from BTC/USDT" in said
    )
    assert "`mt data sim ETH/USDT BTC/USDT ...` derives them all again" in said
    said = " ".join(sim(mt, "ETH/USDT", "BTC/USDT", "--bars", "300", "--seed", "8").split())
    assert (
        "market-wide simulated feature values of unrecorded origin (stored by an earlier version) with those"
        " of ETH/USDT, BTC/USDT" in said
    )
    fresh = derived({"ETH/USDT": 300, "BTC/USDT": 300}, 8)
    assert stored() == fresh
    assert query("SELECT COUNT(*) FROM features WHERE origin_id IS NULL") == [(0,)]


def test_deleting_the_producer_says_its_features_stay_and_the_next_run_replaces_them(db_url: str) -> None:
    mt = MT()
    sim(mt, "BTC/USDT", "--bars", "300", "--seed", "7")
    sim(mt, "ETH/USDT", "--bars", "300", "--seed", "3")
    sim(mt, "XRP/USDT", "--bars", "300", "--seed", "5")
    deleted = mt("data", "delete", "BTC/USDT", "--timeframe", "1h", "--yes")
    said = " ".join(deleted.stderr.split())
    found = re.search(
        r"the ([\d,]+) simulated feature values derived from sim:BTC/USDT:1h stay, though no candles back"
        r" them now; ([\d,]+) of them are market-wide \(sentiment, fear & greed \.\.\.\), read by every"
        r" simulated symbol's strategies until the next `mt data sim` replaces them",
        said,
    )
    assert deleted.exit_code == 0 and found, said
    assert int(found.group(2).replace(",", "")) == len(derived({"BTC/USDT": 300}, 7))
    # ETH is not their producer, but their producer is gone: ETH's run replaces them, naming why
    said = " ".join(sim(mt, "ETH/USDT", "--bars", "300", "--seed", "3").split())
    assert "derived from BTC/USDT 1h (seed 7, its candles since deleted)" in said
    assert matches(derived({"ETH/USDT": 300}, 3), stored()) == len(derived({"ETH/USDT": 300}, 3))
    # XRP produced no market-wide value (BTC's held all its times): only its own values are named
    xrp = mt("data", "delete", "XRP/USDT", "--timeframe", "1h", "--yes", "--json")
    said = " ".join(xrp.stderr.split())
    assert xrp.exit_code == 0 and "derived from sim:XRP/USDT:1h stay, though no candles back them now" in said
    assert "market-wide" not in said


async def test_the_upgrade_keeps_every_feature_row_with_no_origin(db_url: str) -> None:
    from mastertrade.db.database import create_engine
    from mastertrade.db.migrate import upgrade

    def at_ml_0001(connection: Any) -> None:
        command.upgrade(alembic_config(connection), "ml_0001")
        for ts in range(5):
            connection.execute(
                text(
                    "INSERT INTO features (source, name, symbol, ts, value, published_at)"
                    " VALUES (:source, 'fear_greed', '', :ts, :value, :ts)"
                ),
                [{"source": source, "ts": ts, "value": float(ts)} for source in ("sim", "fear_greed")],
            )

    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(at_ml_0001)
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT source, COUNT(*), SUM(value), COUNT(origin_id) FROM features GROUP BY source"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert sorted(tuple(row) for row in rows) == [("fear_greed", 5, 10.0, 0), ("sim", 5, 10.0, 0)]
