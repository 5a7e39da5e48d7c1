"""A source whose last poll half worked (one feed, series or metric of several failed) is "ok" with the
failure named: the table of `mt data sources` shows it too, not only the JSON."""

from __future__ import annotations

import asyncio
from typing import Any

from mastertrade.engine.collectors.health import SourceHealth, SourceState

PROBLEM = "spx: Stooq ^spxx: no data from 2021-03-16 to 2024-03-15 (is the symbol right?)"


async def save(health: SourceHealth) -> None:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.store import FeatureStore

    db = await Database.open(load_settings())
    try:
        await FeatureStore(db).save_health(health)
    finally:
        await db.close()


def test_the_table_names_the_part_of_an_ok_source_that_failed(mt: Any, db_url: str) -> None:
    from mastertrade.engine.market.timeframes import now_ms

    moment = now_ms()
    asyncio.run(
        save(
            SourceHealth(
                "macro",
                SourceState.OK,
                reason=PROBLEM,
                since=moment,
                last_success=moment,
                last_attempt=moment,
            )
        )
    )
    assert {item["source"]: item["reason"] for item in mt.json("data", "sources")}["macro"] == PROBLEM
    table = mt("data", "sources", "macro")
    assert table.exit_code == 0
    assert "ok (spx: Stooq ^spxx: no data" in " ".join(table.stdout.split())
