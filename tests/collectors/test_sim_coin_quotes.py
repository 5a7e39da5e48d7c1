"""A coin's simulated features are stored per coin ("BTC"), so BTC/USDT and BTC/EUR cannot both derive
them. `mt data sim BTC/EUR` once BTC/USDT derived them replaced them without a word (BTC/USDT's backtests
then read values derived from another price path). Now it keeps them, says whose they are and names the
flag that replaces them; one run with both quotes derives them from the first named. The daemon's live
simulated features record what they were derived from (its ``sim-live`` series), like a run's, so they
are told apart too."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.collectors.test_sim_feature_origins import END, query
from tests.conftest import MT

OWN = ("sentiment", "mentions", "bullish_ratio", "whale_tx_count", "mempool_tx", "hash_rate", "tx_count_24h")


def sim(mt: MT, *args: str) -> str:
    """Run `mt data sim ARGS` on 1h bars ending at END; its stderr, on one line."""
    result = mt("data", "sim", *args, "--timeframe", "1h", "--end", END)
    assert result.exit_code == 0, result.output
    return " ".join(result.stderr.split())


def derived(symbol: str, bars: int, seed: int) -> dict[tuple[str, int], float]:
    """The BTC values (sentiment, mentions ... of the coin) ``symbol``'s candles derive."""
    from mastertrade.engine.collectors.sim import simulate_features
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.timeframes import parse_when

    frame = simulate(symbol, "1h", bars, seed, end=parse_when(END, what="end"))
    return {
        (point.name, point.ts): point.value
        for point in simulate_features({symbol: frame}, "1h", seed)
        if point.symbol == "BTC"
    }


def stored() -> dict[tuple[str, int], float]:
    """The BTC values stored."""
    rows = query("SELECT name, ts, value FROM features WHERE source = 'sim' AND symbol = 'BTC'")
    return {(str(name), int(ts)): float(value) for name, ts, value in rows}


def test_a_second_quote_keeps_the_coins_features_unless_told_to_replace_them(db_url: str) -> None:
    mt = MT()
    sim(mt, "BTC/USDT", "--bars", "400", "--seed", "7")
    usdt = derived("BTC/USDT", 400, 7)
    assert stored() == usdt and {name for name, _ in usdt} == set(OWN)

    said = sim(mt, "BTC/EUR", "--bars", "400", "--seed", "9")
    assert stored() == usdt  # were BTC/EUR's: BTC/USDT's values gone without a word
    assert (
        f"mt: warning: kept the {len(usdt):,} simulated BTC feature values (sentiment, mentions ...) derived"
        " from BTC/USDT 1h (seed 7): a coin's simulated features are derived from one of its series, so"
        " BTC/EUR reads those (`mt data sim BTC/EUR --replace-features ...` derives them from BTC/EUR"
        " instead)" in said
    )
    assert "stored" not in said  # nothing was derived from BTC/EUR
    # its candles are stored all the same
    held = "SELECT COUNT(*) FROM candles c JOIN series s ON c.series_id = s.id WHERE s.symbol = 'BTC/EUR'"
    assert query(held) == [(400,)]
    [shown] = mt.json("data", "sim", "BTC/EUR", "--bars", "400", "--seed", "9", "--end", END)
    assert (shown["features_derived"], shown["coin_features_kept"], shown["coin_features_replaced"]) == (
        False,
        len(usdt),
        0,
    )

    said = sim(mt, "BTC/EUR", "--bars", "400", "--seed", "9", "--replace-features")
    eur = derived("BTC/EUR", 400, 9)
    assert stored() == eur
    assert (
        f"replaced the {len(usdt):,} simulated BTC feature values (sentiment, mentions ...) derived from"
        " BTC/USDT 1h (seed 7) with those of BTC/EUR" in said
    )
    # the market-wide values BTC/USDT's candles derived went with them
    assert (
        "market-wide simulated feature values derived from BTC/USDT 1h (seed 7) with those of BTC/EUR" in said
    )
    origins = query(
        "SELECT DISTINCT o.derived_from FROM features f JOIN feature_origins o ON f.origin_id = o.id"
    )
    assert origins == [('{"seed": 9, "series": ["sim:BTC/EUR:1h"]}',)]

    # and BTC/USDT, simulated again, now finds them BTC/EUR's
    said = sim(mt, "BTC/USDT", "--bars", "400", "--seed", "7")
    assert stored() == eur and "derived from BTC/EUR 1h (seed 9): a coin's simulated features" in said


def test_one_run_with_two_quotes_derives_the_coins_features_from_the_first_named(db_url: str) -> None:
    mt = MT()
    said = sim(mt, "BTC/EUR", "ETH/USDT", "BTC/USDT", "--bars", "300", "--seed", "4")
    # were BTC/USDT's (the last named) per value, with the daily series BTC/EUR's: a mix of both
    assert stored() == derived("BTC/EUR", 300, 4)
    assert (
        "BTC/USDT reads the simulated BTC features derived from BTC/EUR: a coin's simulated features are"
        " derived from one of its series, the first named" in said
    )
    [origin] = query("SELECT derived_from FROM feature_origins")
    assert origin == ('{"seed": 4, "series": ["sim:BTC/EUR:1h", "sim:ETH/USDT:1h"]}',)


def test_the_daemons_live_features_record_their_origin_and_a_second_quote_keeps_them(db_url: str) -> None:
    from mastertrade.engine.market.timeframes import parse_when

    mt = MT()
    # 70 days: the daemon derives its values over the last 60 (WINDOW_DAYS), the older ones stay the run's
    sim(mt, "BTC/USDT", "ETH/USDT", "--bars", str(70 * 24), "--seed", "7")
    end = parse_when(END, what="end")
    asyncio.run(_daemon_poll(end))
    origins = query(
        "SELECT o.derived_from, COUNT(*) FROM features f JOIN feature_origins o ON f.origin_id = o.id"
        " WHERE f.symbol = 'BTC' GROUP BY o.derived_from ORDER BY o.derived_from"
    )
    assert [origin for origin, _ in origins] == [
        '{"seed": 7, "series": ["sim-live:BTC/USDT:1h", "sim-live:ETH/USDT:1h"]}',
        '{"seed": 7, "series": ["sim:BTC/USDT:1h", "sim:ETH/USDT:1h"]}',
    ]
    assert query("SELECT COUNT(*) FROM features WHERE origin_id IS NULL") == [(0,)]  # were the daemon's

    said = sim(mt, "BTC/EUR", "--bars", "300", "--seed", "7")
    assert (
        f"kept the {sum(count for _, count in origins):,} simulated BTC feature values (sentiment, mentions"
        " ...) derived from BTC/USDT 1h (seed 7) and the daemon's live BTC/USDT 1h (seed 7): a coin's"
        " simulated features are derived from one of its series, so BTC/EUR reads those" in said
    )
    deleted = mt("data", "delete", "BTC/USDT", "--exchange", "sim-live", "--timeframe", "1h", "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert (
        "simulated feature values derived from sim-live:BTC/USDT:1h stay, though no candles back"
        in " ".join(deleted.stderr.split())
    )


async def _daemon_poll(end: int) -> None:
    """One poll of the daemon's simulated source, as ``CollectorsService`` builds it, on the running
    simulation's series (``sim-live``, a copy of the research series as at the daemon's first start)."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.service import CollectorService
    from mastertrade.engine.collectors.sim_collector import SimFeatureCollector
    from mastertrade.engine.market.sim_venue import SimVenue
    from mastertrade.engine.market.store import CandleStore

    settings = load_settings()
    db = await Database.open(settings)
    try:
        candles = CandleStore(db)
        await SimVenue(store=candles).seed_live_series(["BTC/USDT", "ETH/USDT"], "1h")
        collector = SimFeatureCollector(
            settings.collectors,
            candles,
            exchange="sim-live",
            symbols=["BTC/USDT", "ETH/USDT"],
            timeframe="1h",
            seed=7,
        )
        service: Any = CollectorService(db, settings.collectors, collectors=[collector], clock=lambda: end)
        health = await service.poll(collector)
        assert str(health.state) == "ok", health.reason
    finally:
        await db.close()
