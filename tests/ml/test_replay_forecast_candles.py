"""On a replay, the check that stored forecasts were made from the candles beside them reads only the bars
closed by the market time.

A replay's store holds the bars it has yet to play. Before, the check read every recorded bar: those the
forecasts added after the training read up to the newest stored one, bars the replay had not played. A
rewrite of such a bar (an import over the history the replay plays) refused, at market time, forecasts
whose candles the replay had shown unchanged: the daemon's forecast of the bar that closed, `mt
backtest` in the replay workspace, and the nightly refit, which trained the series all over again."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.market.store import CandleStore
from tests.ml.test_refit_candles_changed import CHANGED, ENDED, HOUR, TERM, _bar, _candles, _key, _train
from tests.ml.test_refit_candles_changed import ml as ml  # the [ml] settings of the daemon's services

pytest.importorskip("lightgbm")
pytestmark = pytest.mark.usefixtures("ml")

PLAYED = ENDED + 2 * HOUR
"""The open of the last bar the replay has played (closed): the bars after it are still to play."""
MARKET_TIME = PLAYED + HOUR
FORECAST = {"model": "lightgbm", "horizon": 1}


async def _history(database: Any) -> None:
    """A trained series, then six new bars each forecast as it came (the forecasts record the bars they
    read), as a workspace holds them before a replay of its history starts."""
    from mastertrade.engine.ml.trainer import latest_model, predict_latest

    await _candles(database, seed=4)
    await _train(database)
    loaded = await latest_model("lightgbm", _key(), 1, db=database)
    for i in range(6):
        await _bar(database, ENDED + i * HOUR, 100.0 + i)
        assert (await predict_latest(database, loaded, _key()))["stored"]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The end (exclusive open time) of every candle read."""
    ends: list[int | None] = []
    original = CandleStore.read

    async def read(self: CandleStore, key: Any, start: int | None = None, end: int | None = None) -> Any:
        ends.append(end)
        return await original(self, key, start, end)

    monkeypatch.setattr(CandleStore, "read", read)
    return ends


async def test_a_rewrite_of_bars_still_to_play_refuses_nothing_the_replay_showed(
    database: Any, reads: list[int | None]
) -> None:
    from mastertrade.engine.collectors.forecast_candles import stale
    from mastertrade.engine.research.series import SeriesLoader
    from mastertrade.engine.services.forecasts import ForecastService
    from mastertrade.engine.signals.genome import parse_genome
    from tests.ml.test_daemon import _ctx

    await _history(database)
    await _bar(database, ENDED + 4 * HOUR, 50.0)  # imported over: a bar the replay has yet to play
    reason = await stale(database, "lightgbm", _key(), 1)  # as of the newest stored bar: changed
    assert reason is not None and "forecast of 2026-11-01T04:00:00Z, added after model" in reason

    # the daemon's forecast of the bar that just closed (it holds one already: kept, not refused)
    reads.clear()
    made = await ForecastService().on_bar(_ctx(database), "sim", "BTC/USDT", "1h", PLAYED)
    assert len(made) == 1 and made[0]["already_stored"], made
    assert reads and all(end is not None and end <= PLAYED + 1 for end in reads), reads

    # `mt backtest` of a strategy on the forecast, in the replay workspace
    genome = parse_genome({"name": "fc", "entry": {">": [TERM, 0]}, "exit": {"<": [TERM, 0]}})
    reads.clear()
    series = await SeriesLoader(database, stale="refuse").find(
        "BTC/USDT", "1h", "sim", [genome], until=MARKET_TIME
    )
    assert series.stamps()[-1] == PLAYED and series.features.readable("forecast", FORECAST)
    assert all(end is not None and end <= PLAYED + 1 for end in reads), reads


async def test_the_replay_s_refit_keeps_forecasts_of_bars_unchanged_by_its_market_time(database: Any) -> None:
    from mastertrade.config import load_settings
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.ml.trainer import refit
    from mastertrade.engine.services.forecasts import request_for
    from tests.ml.test_refit_candles_changed import _series

    await _history(database)
    before = await _series(database)
    await _bar(database, ENDED + 4 * HOUR, 50.0)
    request = request_for(load_settings(), "lightgbm", "BTC/USDT", "sim")
    summary = await refit(database, request, strategies=StrategyStore(database), until=MARKET_TIME)
    # a refit, not a walk-forward over other candles replacing the series
    assert "candles_changed" not in summary and "forecasts" not in summary, summary
    assert (await _series(database)).values.tolist() == before.values.tolist()


async def test_a_rewrite_of_a_bar_the_replay_played_is_still_caught(database: Any) -> None:
    from mastertrade.engine.collectors.forecast_candles import CandlesChanged, stale
    from mastertrade.engine.research.series import SeriesLoader
    from mastertrade.engine.services.forecasts import ForecastService
    from mastertrade.engine.signals.genome import parse_genome
    from tests.ml.test_daemon import _ctx

    await _history(database)
    await _bar(database, ENDED + HOUR, 50.0)  # read by the forecast of +1h, which the replay has played
    reason = await stale(database, "lightgbm", _key(), 1, until=MARKET_TIME)
    assert reason is not None and reason.startswith(CHANGED), reason
    assert await ForecastService().on_bar(_ctx(database), "sim", "BTC/USDT", "1h", PLAYED) == []
    genome = parse_genome({"name": "fc", "entry": {">": [TERM, 0]}, "exit": {"<": [TERM, 0]}})
    with pytest.raises(CandlesChanged, match="were made from other candles"):
        await SeriesLoader(database, stale="refuse").find(
            "BTC/USDT", "1h", "sim", [genome], until=MARKET_TIME
        )
