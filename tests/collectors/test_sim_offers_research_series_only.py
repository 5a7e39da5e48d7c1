"""`mt data sim` offers to simulate again only the research series it finds stored. With the daemon's
live market-wide values kept (derived from its running simulation's SOL/USDT, a series of `sim-live`
only), `mt data sim BTC-EDGE/USDT` said "`mt data sim SOL/USDT BTC-EDGE/USDT ...` derives them all
again": a research SOL/USDT the trader never had, and the daemon derives its values anew from its own
series. Now the command names the stored research series only, and says that the daemon's values stay
while its series is stored."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.collectors.test_sim_feature_origins import END
from tests.conftest import MT


def sim(mt: MT, *args: str) -> str:
    """Run `mt data sim ARGS` on 1h bars ending at END; its stderr, on one line."""
    result = mt("data", "sim", *args, "--timeframe", "1h", "--end", END)
    assert result.exit_code == 0, result.output
    return " ".join(result.stderr.split())


def test_the_daemons_live_series_is_not_offered_to_be_simulated_again(db_url: str) -> None:
    from mastertrade.engine.market.timeframes import parse_when

    mt = MT()
    sim(mt, "SOL/USDT", "--bars", "400", "--seed", "7")
    asyncio.run(_daemon_poll("SOL/USDT", parse_when(END, what="end")))
    # the research series goes: SOL/USDT is now the daemon's live feed only
    deleted = mt("data", "delete", "SOL/USDT", "--exchange", "sim", "--timeframe", "1h", "--yes")
    assert deleted.exit_code == 0, deleted.output

    said = sim(mt, "BTC-EDGE/USDT", "--bars", "400", "--seed", "9")
    assert "derived from the daemon's live SOL/USDT 1h (seed 7)" in said
    assert "mt data sim SOL/USDT" not in said  # was "`mt data sim SOL/USDT BTC-EDGE/USDT ...` derives ..."
    assert (
        "the daemon's are derived from its running simulation's series (sim-live) and stay while it is stored"
        in said
    )

    # a research series stored beside it is offered, the daemon's still not
    sim(mt, "ETH/USDT", "--bars", "500", "--seed", "3")  # older bars: times only it derives
    said = sim(mt, "BTC-EDGE/USDT", "--bars", "400", "--seed", "9")
    assert "`mt data sim ETH/USDT BTC-EDGE/USDT ...` derives all but the daemon's again" in said
    assert "SOL/USDT BTC-EDGE/USDT" not in said and "mt data sim SOL/USDT" not in said


async def _daemon_poll(symbol: str, end: int) -> None:
    """One poll of the daemon's simulated source on the running simulation's series of ``symbol``
    (``sim-live``, a copy of the research series as at the daemon's first start)."""
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
        await SimVenue(store=candles).seed_live_series([symbol], "1h")
        collector = SimFeatureCollector(
            settings.collectors, candles, exchange="sim-live", symbols=[symbol], timeframe="1h", seed=7
        )
        service: Any = CollectorService(db, settings.collectors, collectors=[collector], clock=lambda: end)
        health = await service.poll(collector)
        assert str(health.state) == "ok", health.reason
    finally:
        await db.close()
