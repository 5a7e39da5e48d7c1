"""A macro series whose provider has no rows for the window asked (Stooq's "No data" for a symbol it does
not know, a FRED series of holidays only) says so in the source's health instead of passing for a
good poll that stored nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mastertrade.engine.collectors.health import SourceState
from mastertrade.engine.collectors.macro import MacroCollector
from mastertrade.engine.collectors.service import CollectorService
from mastertrade.errors import DataValidationError
from tests.collectors.helpers import NOW, client_for, settings

STOOQ_DXY = "Date,Open,High,Low,Close,Volume\n2024-03-14,102.79,103.44,102.70,103.37,0\n"


def answer(request: httpx.Request) -> httpx.Response:
    if request.url.host == "fred.stlouisfed.org":
        return httpx.Response(200, text="observation_date,SP500\n2024-03-01,.\n")
    if request.url.params["s"] == "dx.f":
        return httpx.Response(200, text=STOOQ_DXY)
    return httpx.Response(200, text="No data")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("stooq:^spxx", "Stooq ^spxx: no data from 2021-03-16 to 2024-03-15 (is the symbol right?)"),
        ("fred:SP500", "FRED SP500: no data from 2021-03-16 to 2024-03-15 (is the series right?)"),
    ],
)
async def test_a_series_without_rows_is_a_failure_naming_it(spec: str, message: str) -> None:
    collector = MacroCollector(settings(macro_series={"spx": spec}))
    async with client_for(answer) as client:
        with pytest.raises(DataValidationError) as raised:
            await collector.collect(client, NOW)
    assert str(raised.value) == message


async def test_the_other_series_still_count_and_the_source_names_the_empty_one(database: Any) -> None:
    collector = MacroCollector(settings(macro_series={"spx": "stooq:^spxx", "dxy": "stooq:dx.f"}))
    service = CollectorService(
        database,
        collector.settings,
        collectors=[collector],
        transport=httpx.MockTransport(answer),
        clock=lambda: NOW,
    )
    try:
        health = await service.poll(collector)
    finally:
        await service.close()
    assert health.state is SourceState.OK
    assert health.reason == "spx: Stooq ^spxx: no data from 2021-03-16 to 2024-03-15 (is the symbol right?)"
    assert len(await service.store.read("macro", "dxy")) == 1
