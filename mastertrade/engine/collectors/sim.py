"""Simulated alternative data that moves with the simulated market, for the demo and the tests.

From a set of candle series (``mastertrade.engine.market.sim.simulate`` or stored ones) this derives,
deterministically for a seed, the same features the real collectors store, under source ``sim``:

Per symbol (base asset) and bar, published at the bar's close (so, aligned, a bar sees the previous
bar's values, as with the real sources):

- ``sentiment`` in [-1, 1]: mostly the bar's own return and the recent trend, in units of the recent
  volatility, squashed with tanh, plus noise; crowds react to prices.
- ``mentions``: a Poisson count that rises with the size of the move and with volume.
- ``bullish_ratio`` in [0, 1]: a logistic function of the sentiment, plus noise.
- ``whale_tx_count`` (BTC only, like the real collector): a Poisson count that rises with big moves.
- ``mempool_tx`` (BTC only): waiting transactions, higher when the market is volatile.

Market-wide (symbol ""): ``sentiment``, ``mentions`` and ``bullish_ratio`` over all symbols
(mention-weighted), and from the market leader (BTC when simulated, else the first symbol), per day:

- ``fear_greed`` in 0..100: 50 plus two-week momentum minus excess 30-day volatility, smoothed, plus
  noise; stamped and published at the day's start from data before it, like alternative.me's.
- ``hash_rate`` (EH/s) and ``tx_count_24h`` (symbol BTC, only when BTC is simulated): a slowly growing
  hash rate that follows price with a lag, and daily transactions that follow volume; published at the
  day's end.

Noise comes from a generator keyed on (seed, symbol, feature) with a stable hash, so one series does
not change when another symbol is added.

Features are kept per coin (a strategy on BTC/EUR and one on BTC/USDT read the same "BTC" series), so a
coin's values are derived from one of its series: the first given (``one_per_coin``). ``mt data sim`` of
a second quote of a coin keeps the values the first derived, unless told to replace them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mastertrade.engine.collectors.base import DAY_MS, FeaturePoint
from mastertrade.engine.market.symbols import base_asset
from mastertrade.engine.market.timeframes import timeframe_ms

if TYPE_CHECKING:
    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.origins import Origin
    from mastertrade.engine.market.store import SeriesKey

SIM_SOURCE = "sim"
LEADER = "BTC"
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def one_per_coin(symbols: Iterable[str]) -> list[str]:
    """The first symbol of each coin, in order: ["BTC/USDT", "BTC/EUR", "ETH/USDT"] -> BTC/USDT, ETH/USDT.
    A coin's simulated features are derived from one series (they are stored per coin)."""
    first: dict[str, str] = {}
    for symbol in symbols:
        first.setdefault(base_asset(symbol), symbol)
    return list(first.values())


def _rng(seed: int, *parts: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(part.encode("utf-8")) for part in parts)])


def _ema(values: FloatArray, span: float) -> FloatArray:
    return np.asarray(pd.Series(values).ewm(span=span, adjust=False).mean().to_numpy(), dtype=np.float64)


def _bar_features(asset: str, frame: pd.DataFrame, bar_ms: int, seed: int) -> dict[str, FloatArray]:
    close = frame["close"].to_numpy(dtype=np.float64)
    volume = frame["volume"].to_numpy(dtype=np.float64)
    returns = np.diff(np.log(close), prepend=np.log(close[0]))
    bars_per_day = max(1.0, DAY_MS / bar_ms)
    vol = np.sqrt(_ema(returns**2, span=bars_per_day * 3)) + 1e-12
    shock = np.clip(returns / vol, -6, 6)
    trend = np.clip(_ema(returns, span=bars_per_day) / vol * np.sqrt(bars_per_day), -6, 6)
    noise = _rng(seed, asset, "sentiment").normal(0.0, 0.18, close.shape[0])
    sentiment = np.clip(0.45 * np.tanh(0.8 * shock) + 0.35 * np.tanh(0.5 * trend) + noise, -1.0, 1.0)
    volume_ratio = volume / (_ema(volume, span=bars_per_day * 7) + 1e-12)
    hours = bar_ms / 3_600_000
    rate = 12.0 * hours * (1.0 + np.abs(shock)) * np.sqrt(np.clip(volume_ratio, 0.1, 10.0))
    mentions = _rng(seed, asset, "mentions").poisson(rate).astype(np.float64)
    ratio_noise = _rng(seed, asset, "bullish_ratio").normal(0.0, 0.05, close.shape[0])
    bullish = np.clip(1.0 / (1.0 + np.exp(-3.0 * sentiment)) + ratio_noise, 0.0, 1.0)
    out = {"sentiment": sentiment, "mentions": mentions, "bullish_ratio": bullish}
    if asset == LEADER:
        whale_rate = 0.8 * hours * (1.0 + 2.0 * np.abs(shock))
        out["whale_tx_count"] = _rng(seed, asset, "whales").poisson(whale_rate).astype(np.float64)
        wait = _rng(seed, asset, "mempool").normal(0.0, 0.15, close.shape[0])
        excess = np.clip(vol / (np.median(vol) + 1e-12), 0.2, 5.0)
        out["mempool_tx"] = np.round(40_000.0 * excess * np.exp(wait))
    return out


def _daily_features(
    frame: pd.DataFrame, seed: int
) -> dict[str, tuple[pd.DatetimeIndex, FloatArray, int, str]]:
    """Daily series of the leader: name -> (days, values, publication lag in ms, symbol)."""
    daily = frame[["close", "volume"]].resample("1D").agg({"close": "last", "volume": "sum"}).ffill()
    days = pd.DatetimeIndex(daily.index)
    close = daily["close"].to_numpy(dtype=np.float64)
    volume = daily["volume"].to_numpy(dtype=np.float64)
    n = close.shape[0]
    log_close = np.log(close)
    returns = np.diff(log_close, prepend=log_close[0])
    # Fear & greed of day D uses closes up to the end of day D-1 only: shift everything by one day.
    momentum = pd.Series(log_close).diff(14).shift(1).fillna(0.0).to_numpy()
    vol30 = pd.Series(returns).rolling(30, min_periods=5).std().shift(1)
    vol_ref = vol30.expanding(min_periods=5).median()
    excess = (vol30 / vol_ref - 1.0).fillna(0.0).to_numpy()
    raw = 50.0 + 38.0 * np.tanh(momentum / 0.12) - 14.0 * np.tanh(excess)
    smooth = _ema(raw, span=3)
    fear_greed = np.clip(np.round(smooth + _rng(seed, LEADER, "fear_greed").normal(0.0, 3.0, n)), 0.0, 100.0)
    lagged_price = pd.Series(log_close).shift(60).bfill().fillna(log_close[0]).to_numpy()
    growth = np.arange(n) * np.log(1.0 + 0.015) / 30.0
    hash_noise = _rng(seed, LEADER, "hash_rate").normal(0.0, 0.03, n)
    hash_rate = 450.0 * np.exp(growth + 0.25 * (lagged_price - lagged_price[0]) + hash_noise)
    volume_ratio = volume / (_ema(volume, span=30) + 1e-12)
    tx_noise = _rng(seed, LEADER, "tx_count").normal(0.0, 0.05, n)
    tx_count = np.round(450_000.0 * (0.8 + 0.2 * np.clip(volume_ratio, 0.2, 3.0)) * np.exp(tx_noise))
    return {
        "fear_greed": (days, fear_greed, 0, ""),
        "hash_rate": (days, hash_rate, DAY_MS, LEADER),
        "tx_count_24h": (days, tx_count, DAY_MS, LEADER),
    }


def simulate_features(candles: Mapping[str, pd.DataFrame], timeframe: str, seed: int) -> list[FeaturePoint]:
    """Simulated feature points for candle series keyed by market symbol ("BTC/USDT"); a coin's from its
    first series with candles (a later BTC/EUR beside BTC/USDT adds nothing: ``one_per_coin``)."""
    bar_ms = timeframe_ms(timeframe)
    points: list[FeaturePoint] = []
    per_symbol: dict[str, dict[str, FloatArray]] = {}
    opens: dict[str, np.ndarray[Any, np.dtype[np.int64]]] = {}
    for symbol, frame in candles.items():
        if frame.empty or base_asset(symbol) in per_symbol:
            continue
        asset = base_asset(symbol)
        opens[asset] = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
        per_symbol[asset] = _bar_features(asset, frame, bar_ms, seed)
        for name, values in per_symbol[asset].items():
            points += _points(name, asset, opens[asset], values, bar_ms)
    if not per_symbol:
        return points
    points += _market_wide(per_symbol, opens, bar_ms)
    leader = LEADER if LEADER in per_symbol else next(iter(per_symbol))
    leader_frame = next(
        frame for symbol, frame in candles.items() if base_asset(symbol) == leader and not frame.empty
    )
    last_close = int(opens[leader][-1]) + bar_ms
    for name, (days, values, lag, symbol) in _daily_features(leader_frame, seed).items():
        if symbol and symbol != leader:
            continue  # Bitcoin's on-chain series only exist when Bitcoin is simulated
        day_ms = days.as_unit("ms").asi8
        keep = day_ms + lag <= last_close
        points += _points(name, symbol, day_ms[keep], values[keep], lag)
    return points


def _points(
    name: str, symbol: str, ts: np.ndarray[Any, np.dtype[np.int64]], values: FloatArray, lag: int
) -> list[FeaturePoint]:
    stamps = [int(stamp) for stamp in ts]
    numbers = [float(value) for value in values]
    return [
        FeaturePoint(name, float(value), stamp, stamp + lag, symbol)
        for stamp, value in zip(stamps, numbers, strict=True)
    ]


def _market_wide(
    per_symbol: dict[str, dict[str, FloatArray]],
    opens: dict[str, np.ndarray[Any, np.dtype[np.int64]]],
    bar_ms: int,
) -> list[FeaturePoint]:
    frames = {
        asset: pd.DataFrame(
            {
                "sentiment": features["sentiment"],
                "mentions": features["mentions"],
                "bullish": features["bullish_ratio"] * features["mentions"],
            },
            index=opens[asset],
        )
        for asset, features in per_symbol.items()
    }
    joined = pd.concat(frames.values(), keys=list(frames), names=["asset", "ts"]).reset_index()
    joined["weighted"] = joined["sentiment"] * joined["mentions"]
    grouped = joined.groupby("ts")[["weighted", "mentions", "bullish", "sentiment"]].sum().sort_index()
    count = joined.groupby("ts")["sentiment"].count().reindex(grouped.index).to_numpy(dtype=np.float64)
    mentions = grouped["mentions"].to_numpy(dtype=np.float64)
    sentiment = np.where(
        mentions > 0, grouped["weighted"] / np.maximum(mentions, 1), grouped["sentiment"] / count
    )
    bullish = np.where(mentions > 0, grouped["bullish"] / np.maximum(mentions, 1), 0.5)
    ts = grouped.index.to_numpy(dtype=np.int64)
    return [
        *_points("sentiment", "", ts, np.asarray(sentiment, dtype=np.float64), bar_ms),
        *_points("mentions", "", ts, mentions, bar_ms),
        *_points("bullish_ratio", "", ts, np.asarray(bullish, dtype=np.float64), bar_ms),
    ]


async def write_sim_features(db: Database, symbols: list[str], timeframe: str, seed: int) -> int:
    """Derive simulated features from the stored simulated candles of ``symbols`` and of every other
    simulated series of the timeframe, and store them under source ``sim``, replacing earlier simulated
    series of the same names, recording them as derived from those series. Returns the number of values.

    The market-wide series (sentiment, fear & greed ...) are one per market, so they are derived from
    every simulated symbol stored: simulating one more symbol over fewer bars must not cut them to its
    span (it did: the other symbols' strategies lost their feature values outside it).
    """
    from mastertrade.engine.collectors.origins import Origin, origin_id
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.market.store import SIM_EXCHANGE, SeriesKey

    candles = await _sim_candles(db, {}, symbols, timeframe)
    used = one_per_coin(symbol for symbol, frame in candles.items() if not frame.empty)
    origin = Origin.of((SeriesKey(SIM_EXCHANGE, symbol, timeframe) for symbol in used), seed)
    points = simulate_features(candles, timeframe, seed)
    async with db.engine.begin() as conn:
        oid = await origin_id(conn, origin)
        return await FeatureStore(db).replace(SIM_SOURCE, points, conn=conn, origin_id=oid)


@dataclass(frozen=True)
class CoinFeatures:
    """A coin's simulated features (``sentiment``, ``mentions`` ... of "BTC") stored before a run, derived
    (some or all) from another of its series than the run's (BTC/USDT's, the run simulating BTC/EUR):
    ``values`` of them, from ``origins`` (narrowed to the coin's series; None: unknown). ``symbols`` are
    the run's symbols of the coin; ``by`` is the one that replaced them (``--replace-features``), or ""
    when they were kept."""

    asset: str
    symbols: tuple[str, ...]
    values: int
    origins: tuple[Origin | None, ...]
    unbacked: frozenset[Origin]
    """Origins among ``origins`` whose candles are no longer stored."""
    by: str = ""


@dataclass(frozen=True)
class SimWrite:
    """What ``write_sim_market`` stored: candles each series replaced, feature values written, and what
    became of the market-wide values stored before. ``replaced_wide`` of them were derived from this
    run's symbols' earlier candles (``replaced_from``; None: stored before origins were recorded, with no
    other simulated symbol stored) and were replaced. Those of other producers (``kept_origins``; None:
    unknown) stay; ``kept`` is how many of this run's values were not written because such a value holds
    the time. ``kept_from`` names the other simulated symbols stored."""

    replaced: dict[SeriesKey, int]
    features: int
    kept: int
    kept_from: tuple[str, ...]
    replaced_wide: int
    replaced_from: tuple[Origin | None, ...] = ()
    kept_origins: tuple[Origin | None, ...] = ()
    unbacked: frozenset[Origin] = frozenset()
    """Origins among ``replaced_from`` whose candles were no longer stored (``mt data delete``)."""
    deriving: tuple[str, ...] = ()
    """The run's symbols the features were derived from: one per coin, none of a coin kept."""
    coins: tuple[CoinFeatures, ...] = ()
    """Coins whose features another series of theirs had derived: kept, or replaced when asked."""
    rerun: tuple[str, ...] = ()
    """The stored research series' symbols (exchange ``sim``) that a run must simulate again, with its
    own, to derive the kept values again: those ``kept_from`` names only as the daemon's live series
    (``sim-live``) are left out, since `mt data sim` of one stores a research series the trader never
    had, and the running simulation derives its values anew from its own."""


async def write_sim_market(
    db: Database,
    frames: Mapping[SeriesKey, pd.DataFrame],
    timeframe: str,
    seed: int,
    *,
    replace_features: bool = False,
) -> SimWrite:
    """Replace the simulated candle series ``frames`` (keys of exchange ``sim``) and the simulated
    features derived from them, all in one transaction: ``mt data sim``. A failure anywhere (deriving
    the features, a database error) leaves everything stored as it was.

    Only what the simulated symbols produced is replaced: their coins' own series, and the market-wide
    values (sentiment, fear & greed ...) their earlier candles produced, as each value's recorded origin
    tells (``origins.py``). The market-wide values other simulated symbols produced are kept, and this
    run's are added only at times not stored yet: simulating ETH must not change what BTC's backtests
    see (it re-derived them with ETH's seed and ETH in the mix), while re-simulating BTC must (its old
    values no longer matched its candles). Values derived from candles no longer stored (``mt data
    delete``) are replaced too. Values of unknown origin (stored before origins were recorded) are
    replaced only when no other simulated symbol is stored, so could not have produced them.

    A coin's features are stored once (per coin, not per market), so they are derived from one series
    of it: the run's first of the coin. When another stored series of the coin (BTC/USDT's, the research
    one or the daemon's live one) derived them, simulating BTC/EUR keeps them and derives nothing from
    it, unless ``replace_features`` (then they, and the market-wide values derived with them, go)."""
    from mastertrade.engine.collectors.origins import Origin, load_origins, origin_id
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.market.store import (
        SIM_EXCHANGE,
        CandleStore,
        is_simulated_exchange,
        rows_from_frame,
    )

    by_symbol = {key.symbol: frame for key, frame in frames.items()}
    store = CandleStore(db)
    listed = [
        info.key
        for info in await store.list_series()
        if is_simulated_exchange(info.key.exchange) and info.rows
    ]
    others = sorted(
        {key.symbol for key in listed if key.exchange == SIM_EXCHANGE and key.symbol not in by_symbol}
    )
    # the daemon's live series (sim-live) back the values the daemon derived from them
    backed = {str(key) for key in [*listed, *frames]}
    features = FeatureStore(db)
    replaced: dict[SeriesKey, int] = {}
    async with db.engine.begin() as conn:
        per_coin = await features.count_by_coin(conn, SIM_SOURCE)
        known = await load_origins(conn, (origin for _, origin in per_coin if origin is not None))
        coins: list[CoinFeatures] = []
        displaced: set[str] = set()
        deriving: list[str] = []
        for first in one_per_coin(by_symbol):
            asset = base_asset(first)
            mine = tuple(symbol for symbol in by_symbol if base_asset(symbol) == asset)
            held = {origin: count for (coin, origin), count in per_coin.items() if coin == asset}
            elsewhere = [
                origin for origin in held if _held_elsewhere(known, origin, asset, by_symbol, backed, listed)
            ]
            if elsewhere:
                coins.append(_coin(known, held, asset, mine, backed, first if replace_features else ""))
                if not replace_features:
                    continue
                displaced |= {
                    key
                    for origin in elsewhere
                    if (recorded := known.get(origin) if origin is not None else None) is not None
                    for key in recorded.of_coin(asset)
                }
            deriving.append(first)
        derive = {key: frame for key, frame in frames.items() if key.symbol in deriving}
        points = simulate_features({key.symbol: frame for key, frame in derive.items()}, timeframe, seed)
        own = [point for point in points if point.symbol]
        wide = [point for point in points if not point.symbol]
        oid = await origin_id(conn, Origin.of(derive, seed)) if derive else None
        for key, frame in frames.items():
            replaced[key] = await store.replace(key, rows_from_frame(frame), conn=conn)
        written = await features.replace(SIM_SOURCE, own, conn=conn, origin_id=oid)
        stored: list[int | None] = []
        if derive:  # a run that derives nothing (every coin's kept) leaves the market-wide values alone
            stored = [
                origin
                for (origin, market_wide) in await features.count_by_origin(SIM_SOURCE, conn=conn)
                if market_wide
            ]
        known.update(await load_origins(conn, (origin for origin in stored if origin is not None)))

        def produced_here(origin: int | None) -> bool:
            """Whether the values of ``origin`` go: derived from this run's symbols' earlier candles, from
            candles no longer stored, from the series of a coin whose features this run replaces, or
            (unknown) when every simulated symbol stored is simulated again."""
            recorded = known.get(origin) if origin is not None else None
            if recorded is None:
                return not others
            return (
                not set(recorded.symbols).isdisjoint(by_symbol)
                or backed.isdisjoint(recorded.series)
                or not displaced.isdisjoint(recorded.series)
            )

        stale = {origin for origin in stored if produced_here(origin)}
        removed = await features.remove_market_wide(conn, SIM_SOURCE, stale)
        kept = await features.add_missing(conn, SIM_SOURCE, wide, origin_id=oid)
        written += len(wide) - kept
    kept_origins = tuple(
        known.get(origin) if origin is not None else None
        for origin in sorted(set(stored) - stale, key=_order)
    )
    # the symbols whose run derives the kept values again: the other research series, and the symbols
    # the kept values were derived from (the daemon's live series are named by their symbols)
    again = [*others, *(symbol for origin in kept_origins if origin is not None for symbol in origin.symbols)]
    research = {key.symbol for key in listed if key.exchange == SIM_EXCHANGE}
    return SimWrite(
        replaced,
        written,
        kept,
        tuple(dict.fromkeys(symbol for symbol in again if symbol not in by_symbol)),
        removed,
        tuple(known.get(origin) if origin is not None else None for origin in sorted(stale, key=_order)),
        kept_origins,
        frozenset(
            recorded
            for origin in stale
            if origin is not None and (recorded := known.get(origin)) and backed.isdisjoint(recorded.series)
        ),
        tuple(deriving),
        tuple(coins),
        tuple(dict.fromkeys(symbol for symbol in again if symbol in research and symbol not in by_symbol)),
    )


def _coin(
    known: Mapping[int, Origin | None],
    held: Mapping[int | None, int],
    asset: str,
    symbols: tuple[str, ...],
    backed: set[str],
    by: str,
) -> CoinFeatures:
    """What a coin holds: every value stored of it, named by the coin's series each was derived from."""
    from mastertrade.engine.collectors.origins import Origin

    origins: dict[Origin | None, None] = {}
    unbacked: set[Origin] = set()
    for origin in sorted(held, key=_order):
        recorded = known.get(origin) if origin is not None else None
        mine = None if recorded is None else Origin(recorded.of_coin(asset), recorded.seed)
        origins[mine] = None
        if mine is not None and backed.isdisjoint(mine.series):
            unbacked.add(mine)
    return CoinFeatures(asset, symbols, sum(held.values()), tuple(origins), frozenset(unbacked), by)


def _held_elsewhere(
    known: Mapping[int, Origin | None],
    origin: int | None,
    asset: str,
    run: Mapping[str, object],
    backed: set[str],
    listed: Iterable[SeriesKey],
) -> bool:
    """Whether a coin's values of ``origin`` were derived from another of its series than the run's
    symbols, whose candles are still stored: BTC/USDT's, the run simulating only BTC/EUR. Values of
    unknown origin may be when such a series is stored. Values of the run's own symbols, or of candles
    since deleted, are not: the run replaces them as before."""
    recorded = known.get(origin) if origin is not None else None
    if recorded is None:
        return any(base_asset(key.symbol) == asset and key.symbol not in run for key in listed)
    series = recorded.of_coin(asset)
    return (
        bool(series)
        and not any(symbol in run for symbol in recorded.symbols if base_asset(symbol) == asset)
        and not backed.isdisjoint(series)
    )


def _order(origin: int | None) -> int:
    return -1 if origin is None else origin


async def _sim_candles(
    db: Database, fresh: Mapping[str, pd.DataFrame], symbols: list[str], timeframe: str
) -> dict[str, pd.DataFrame]:
    """The simulated candles of the timeframe that features are derived from, by symbol: ``fresh``
    (about to be stored, in place of what is stored under their names), ``symbols`` and every other
    simulated series stored, in one order whichever symbol came last."""
    from mastertrade.engine.market.store import SIM_EXCHANGE, CandleStore, SeriesKey

    store = CandleStore(db)
    stored = [
        info.key.symbol
        for info in await store.list_series()
        if info.key.exchange == SIM_EXCHANGE and info.key.timeframe == timeframe and info.rows > 0
    ]
    every = sorted({*fresh, *symbols, *stored})
    return {
        symbol: (
            fresh[symbol] if symbol in fresh else await store.read(SeriesKey(SIM_EXCHANGE, symbol, timeframe))
        )
        for symbol in every
    }
