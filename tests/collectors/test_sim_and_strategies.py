"""Simulated features (deterministic, moving with the simulated market) and feature terms in genomes,
loaded from the store and aligned without lookahead."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.collectors.provider import StoredFeatures, pick_source
from mastertrade.engine.collectors.sim import SIM_SOURCE, simulate_features, write_sim_features
from mastertrade.engine.collectors.store import FeatureStore
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
from mastertrade.engine.signals.evaluate import signals
from mastertrade.engine.signals.genome import parse_genome, required_features
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.errors import InvalidGenome

BARS = 24 * 90
SYMBOLS = ("BTC/USDT", "ETH/USDT")
END = 1_735_689_600_000  # 2025-01-01T00:00:00Z: fixed, so the daily features' days fall on the same bars


def candles(seed: int = 7) -> dict[str, pd.DataFrame]:
    return {symbol: simulate(symbol, "1h", BARS, seed, end=END) for symbol in SYMBOLS}


def as_frame(points: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.name, p.symbol, p.ts, p.published_at, p.value) for p in points],
        columns=["name", "symbol", "ts", "published", "value"],
    )


def test_simulated_features_are_deterministic_for_a_seed() -> None:
    first = simulate_features(candles(7), "1h", seed=3)
    again = simulate_features(candles(7), "1h", seed=3)
    other = simulate_features(candles(7), "1h", seed=4)
    assert first == again
    assert [p.value for p in first] != [p.value for p in other]
    # Adding a symbol leaves the series of the others as they were.
    btc_only = simulate_features({"BTC/USDT": candles(7)["BTC/USDT"]}, "1h", seed=3)
    key = ("sentiment", "BTC")
    assert [p for p in btc_only if (p.name, p.symbol) == key] == [
        p for p in first if (p.name, p.symbol) == key
    ]


def test_simulated_features_have_the_real_shapes_and_move_with_the_market() -> None:
    market = candles()
    frame = as_frame(simulate_features(market, "1h", seed=3))
    names = set(zip(frame["name"], frame["symbol"], strict=True))
    assert {
        ("sentiment", "BTC"),
        ("mentions", "ETH"),
        ("bullish_ratio", ""),
        ("fear_greed", ""),
        ("hash_rate", "BTC"),
        ("whale_tx_count", "BTC"),
    } <= names
    sentiment = frame[(frame.name == "sentiment") & (frame.symbol == "BTC")]
    assert sentiment["value"].between(-1, 1).all()
    assert (sentiment["published"] - sentiment["ts"] == 3_600_000).all()  # known when the bar closes
    returns = np.log(market["BTC/USDT"]["close"]).diff().to_numpy()
    assert np.corrcoef(returns[1:], sentiment["value"].to_numpy()[1:])[0, 1] > 0.4
    fear_greed = frame[frame.name == "fear_greed"]
    assert fear_greed["value"].between(0, 100).all() and fear_greed["value"].std() > 5
    assert (fear_greed["published"] == fear_greed["ts"]).all()
    ratio = frame[frame.name == "bullish_ratio"]["value"]
    assert ratio.between(0, 1).all()
    assert (frame[frame.name == "mentions"]["value"] >= 0).all()
    last_close = int(market["BTC/USDT"].index[-1].value // 1_000_000) + 3_600_000
    assert frame["published"].max() <= last_close  # nothing is published after the data it comes from


def test_sources_are_picked_sim_for_simulated_candles_and_by_preference_otherwise() -> None:
    assert pick_source(["news", "sim", "reddit"], "auto", simulated=True) == SIM_SOURCE
    assert pick_source(["news", "reddit"], "auto", simulated=True) is None
    assert pick_source(["reddit", "news", "sim"], "auto", simulated=False) == "news"
    assert pick_source(["reddit", "news"], "reddit", simulated=False) == "reddit"
    assert pick_source(["news"], "x", simulated=False) is None
    assert pick_source(["zz_plugin", "aa_plugin"], "auto", simulated=False) == "aa_plugin"


def test_genomes_validate_feature_terms_with_json_paths() -> None:
    genome = parse_genome(
        {
            "name": "f",
            "entry": {">": [{"feature": "sentiment", "symbol": "BTC"}, 0.2]},
            "exit": {"<": [{"feature": "fear_greed"}, 25]},
        }
    )
    assert required_features(genome) == [
        ("sentiment", (("symbol", "BTC"), ("source", "auto"))),
        ("fear_greed", ()),
    ]
    with pytest.raises(
        InvalidGenome, match=r'entry\[">"\]\[0\]\.source: must be one of auto, news, reddit, x \(got "tv"\)'
    ):
        parse_genome(
            {
                "name": "f",
                "entry": {">": [{"feature": "sentiment", "source": "tv"}, 0.2]},
                "exit": {"<": [{"price": "close"}, 1]},
            }
        )
    with pytest.raises(InvalidGenome, match="unknown feature 'moon_phase'"):
        parse_genome(
            {
                "name": "f",
                "entry": {">": [{"feature": "moon_phase"}, 0.2]},
                "exit": {"<": [{"price": "close"}, 1]},
            }
        )
    # The generator can draw feature terms too, and they stay valid.
    drawn = [random_genome(seed, features=True) for seed in range(60)]
    assert any(required_features(g) for g in drawn)


async def test_backtest_path_uses_stored_history_aligned_without_lookahead(database: Any) -> None:
    market = candles()
    store = CandleStore(database)
    for symbol, frame in market.items():
        await store.upsert(SeriesKey("sim", symbol, "1h"), rows_from_frame(frame))
    written = await write_sim_features(database, list(SYMBOLS), "1h", seed=3)
    assert written == len(simulate_features(market, "1h", seed=3))
    assert await FeatureStore(database).sources_for("fear_greed") == [SIM_SOURCE]

    genome = parse_genome(
        {
            "name": "contrarian",
            "entry": {
                "all": [
                    {"<": [{"feature": "fear_greed"}, 30]},
                    {">": [{"feature": "sentiment", "symbol": "BTC"}, 0]},
                ]
            },
            "exit": {">": [{"feature": "fear_greed"}, 45]},
        }
    )
    frame = await store.read(SeriesKey("sim", "BTC/USDT", "1h"))
    provider = await StoredFeatures.for_genomes(
        database, [genome], timeframe="1h", simulated=True, exchange="sim"
    )
    cache = IndicatorCache(frame, features=provider)
    entries, exits = signals(genome, cache)
    assert entries.any() and exits.any()

    sentiment = cache.feature_output("sentiment", (("symbol", "BTC"), ("source", "auto")), None)
    stored = await FeatureStore(database).read(SIM_SOURCE, "sentiment", "BTC")
    # Bar t sees the sentiment of bar t - 1 (published at bar t's open, so not by bar t), i.e. of t - 2.
    assert np.isnan(sentiment[:2]).all()
    assert np.allclose(sentiment[2:], stored.values[:-2])
    fear_greed = cache.feature_output("fear_greed", (), None)
    daily = await FeatureStore(database).read(SIM_SOURCE, "fear_greed")
    # The first hourly bar that may use day D's index is 01:00 on D (published at 00:00 on D).
    day = int(daily.ts[10])
    position = int(np.searchsorted(frame.index.as_unit("ms").asi8, day))
    assert fear_greed[position] == daily.values[9] and fear_greed[position + 1] == daily.values[10]

    # The same genome on real candles without real features: the terms read NaN and never fire.
    real = await StoredFeatures.for_genomes(
        database, [genome], timeframe="1h", simulated=False, exchange="binance"
    )
    entries, _ = signals(genome, IndicatorCache(frame, features=real))
    assert not entries.any()


async def test_feature_genomes_never_see_values_published_at_or_after_a_bars_open(database: Any) -> None:
    """Strategy-level lookahead test: drop every feature value published at or after the open of bar k
    and the signals of bars 0..k must not change (a value is usable only from the bar after the one it
    was published in). Random genomes drawn with features, on simulated market and features."""
    import random

    from mastertrade.engine.collectors.store import FeatureSeries
    from mastertrade.engine.signals.lookahead import lookahead_violations
    from mastertrade.engine.signals.strategy import Strategy

    market = {"BTC/USDT": simulate("BTC/USDT", "1h", 24 * 45, 11, end=END)}
    store = CandleStore(database)
    await store.upsert(SeriesKey("sim", "BTC/USDT", "1h"), rows_from_frame(market["BTC/USDT"]))
    await write_sim_features(database, ["BTC/USDT"], "1h", seed=5)
    frame = await store.read(SeriesKey("sim", "BTC/USDT", "1h"))
    opens = frame.index.as_unit("ms").asi8
    genomes = [
        g
        for g in (
            random_genome(seed, features=True, symbol="BTC/USDT", timeframe="1h") for seed in range(400)
        )
        if required_features(g)
    ][:25]
    assert len(genomes) == 25
    provider = await StoredFeatures.for_genomes(
        database, genomes, timeframe="1h", simulated=True, exchange="sim"
    )
    full_cache = IndicatorCache(frame, features=provider)
    full = [signals(genome, full_cache) for genome in genomes]
    assert sum(bool(entries.any()) for entries, _ in full) >= 5  # not vacuous
    rng = random.Random(3)
    for cut in sorted(rng.sample(range(30, len(frame)), 12)):
        known = {
            ref: None
            if series is None
            else FeatureSeries(
                series.source,
                series.name,
                series.symbol,
                series.ts[series.published_at < opens[cut]],
                series.published_at[series.published_at < opens[cut]],
                series.values[series.published_at < opens[cut]],
            )
            for ref, series in provider.series.items()
        }
        cut_cache = IndicatorCache(frame, features=StoredFeatures(known, provider.bar_ms))
        for genome, (entries, exits) in zip(genomes, full, strict=True):
            part_entries, part_exits = signals(genome, cut_cache)
            assert (part_entries[: cut + 1] == entries[: cut + 1]).all(), (cut, genome)
            assert (part_exits[: cut + 1] == exits[: cut + 1]).all(), (cut, genome)
    # And truncating the candles changes nothing either (the signals helper's own check).
    strategies = [Strategy.from_genome(genome) for genome in genomes[:8]]
    assert lookahead_violations(strategies, frame, range(0, len(frame), 97), features=provider) == []


def test_simulating_one_more_symbol_keeps_the_market_wide_features_of_the_others(
    db_url: str, tmp_path: Any
) -> None:
    """The market-wide series (sentiment, fear & greed) are one per market: simulating ETH over 50 bars
    after BTC over 500 must leave BTC's strategies their feature values on all 500 bars (they were cut to
    ETH's 50)."""
    import csv

    from tests.conftest import MT

    mt = MT()
    end = ("--end", "2024-12-21T20:00:00Z")  # 500 bars back: the first opens at 00:00 UTC on 1 December
    mt.json("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "500", "--seed", "7", *end)
    mt.json("data", "sim", "ETH/USDT", "--timeframe", "1h", "--bars", "50", "--seed", "3", *end)
    out = tmp_path / "btc.csv"
    mt.json(
        "data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out),
        "--feature", "sentiment", "--feature", "fear_greed",
    )  # fmt: skip
    with out.open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 500 and rows[0]["timestamp"] == "2024-12-01T00:00:00Z"
    # Every bar has the day's value but the first, which opens at 00:00 UTC, the moment that value is
    # published (a value is seen only by bars opening after it).
    assert sum(row["fear_greed"] != "" for row in rows) == 499
    assert sum(row["sentiment"] != "" for row in rows) >= 495  # all but the first bars' publication lag
