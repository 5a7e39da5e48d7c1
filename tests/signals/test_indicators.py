"""Indicators: values checked against independent numpy computations, warm-up, and the cache."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.signals import indicators
from mastertrade.engine.signals.evaluate import signals
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.indicators import INDICATORS, IndicatorCache
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.errors import DataValidationError, UserInputError


def sma(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    sums = np.cumsum(np.concatenate([[0.0], x]))
    out[n - 1 :] = (sums[n:] - sums[:-n]) / n
    return out


def ema_seeded(x: np.ndarray, n: int) -> np.ndarray:
    """EMA with alpha 2/(n+1), seeded with the SMA of the first n values (TA-Lib's convention)."""
    out = np.full(len(x), np.nan)
    start = int(np.argmax(~np.isnan(x)))
    alpha = 2.0 / (n + 1)
    out[start + n - 1] = x[start : start + n].mean()
    for t in range(start + n, len(x)):
        out[t] = alpha * x[t] + (1 - alpha) * out[t - 1]
    return out


def rolling(x: np.ndarray, n: int, fn: Any) -> np.ndarray:
    out = np.full(len(x), np.nan)
    for t in range(n - 1, len(x)):
        out[t] = fn(x[t - n + 1 : t + 1])
    return out


def close_enough(ours: np.ndarray, theirs: np.ndarray, rtol: float = 1e-9) -> None:
    assert ours.shape == theirs.shape
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)), np.flatnonzero(
        np.isnan(ours) != np.isnan(theirs)
    )[:5]
    valid = ~np.isnan(theirs)
    np.testing.assert_allclose(ours[valid], theirs[valid], rtol=rtol, atol=1e-9)


def test_sma_and_ema(candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles)
    close = candles["close"].to_numpy()
    close_enough(cache.indicator("sma", length=10), sma(close, 10))
    close_enough(cache.indicator("ema", length=21), ema_seeded(close, 21))


def test_rsi_is_wilders_smoothing_of_gains_and_losses(candles: pd.DataFrame) -> None:
    close = candles["close"].to_numpy()
    n = 14
    change = np.diff(close)
    gains, losses = np.maximum(change, 0), np.maximum(-change, 0)
    # pandas-ta starts Wilder's running average at the first change (not at an SMA of n changes)
    avg_gain, avg_loss = gains[0], losses[0]
    expected = np.full(len(close), np.nan)
    for t in range(1, len(close)):
        if t > 1:
            avg_gain = avg_gain + (gains[t - 1] - avg_gain) / n
            avg_loss = avg_loss + (losses[t - 1] - avg_loss) / n
        if t >= n:  # the warm-up: n changes before the first value
            expected[t] = 100 * avg_gain / (avg_gain + avg_loss)
    close_enough(IndicatorCache(candles).indicator("rsi", length=n), expected)


def test_macd(candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles)
    close = candles["close"].to_numpy()
    line = ema_seeded(close, 12) - ema_seeded(close, 26)
    signal = ema_seeded(line, 9)
    warm = 26 + 9 - 2
    for output, expected in (("line", line), ("signal", signal), ("hist", line - signal)):
        expected = expected.copy()
        expected[:warm] = np.nan
        close_enough(cache.indicator("macd", output, fast=12, slow=26, signal=9), expected)


def test_bollinger_bands_use_the_population_deviation(candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles)
    close = candles["close"].to_numpy()
    mid = sma(close, 20)
    deviation = rolling(close, 20, np.std)
    upper, lower = mid + 2.5 * deviation, mid - 2.5 * deviation
    params = {"length": 20, "std": 2.5}
    close_enough(cache.indicator("bbands", "mid", **params), mid)
    close_enough(cache.indicator("bbands", "upper", **params), upper)
    close_enough(cache.indicator("bbands", "lower", **params), lower)
    close_enough(
        cache.indicator("bbands", "percent_b", **params), (close - lower) / (upper - lower), rtol=1e-7
    )


def test_atr_natr_and_roc(candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles)
    high, low, close = (candles[c].to_numpy() for c in ("high", "low", "close"))
    n = 14
    previous = np.concatenate([[np.nan], close[:-1]])
    true_range = np.fmax(high - low, np.fmax(np.abs(high - previous), np.abs(low - previous)))
    atr = np.full(len(close), np.nan)
    atr[n - 1] = true_range[:n].mean()
    for t in range(n, len(close)):
        atr[t] = (atr[t - 1] * (n - 1) + true_range[t]) / n
    atr[:n] = np.nan  # masked: pandas-ta needs n + 1 bars before it returns anything
    close_enough(cache.indicator("atr", length=n), atr)
    close_enough(cache.indicator("natr", length=n), 100 * atr / close)
    roc = np.full(len(close), np.nan)
    roc[5:] = 100 * (close[5:] - close[:-5]) / close[:-5]
    close_enough(cache.indicator("roc", length=5), roc)


def test_cci_uses_the_textbook_formula(candles: pd.DataFrame) -> None:
    typical = (candles["high"] + candles["low"] + candles["close"]).to_numpy() / 3
    n = 20
    mean = sma(typical, n)
    deviation = rolling(typical, n, lambda w: np.abs(w - w.mean()).mean())
    close_enough(IndicatorCache(candles).indicator("cci", length=n), (typical - mean) / (0.015 * deviation))


def test_stochastic(candles: pd.DataFrame) -> None:
    high, low, close = (candles[c].to_numpy() for c in ("high", "low", "close"))
    k, d, smooth = 14, 3, 3
    highest, lowest = rolling(high, k, np.max), rolling(low, k, np.min)
    raw = 100 * (close - lowest) / (highest - lowest)
    slow_k = np.full(len(close), np.nan)
    slow_k[k - 1 :] = sma(raw[k - 1 :], smooth)  # raw is defined from bar k - 1
    first_k = k - 1 + smooth - 1
    slow_d = np.full(len(close), np.nan)
    slow_d[first_k:] = sma(slow_k[first_k:], d)
    warm = k + d + smooth - 1
    slow_k[:warm] = slow_d[:warm] = np.nan
    cache = IndicatorCache(candles)
    close_enough(cache.indicator("stoch", "k", k=k, d=d, smooth_k=smooth), slow_k)
    close_enough(cache.indicator("stoch", "d", k=k, d=d, smooth_k=smooth), slow_d)


def test_donchian_channel(candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles)
    upper = rolling(candles["high"].to_numpy(), 20, np.max)
    lower = rolling(candles["low"].to_numpy(), 20, np.min)
    close_enough(cache.indicator("donchian", "upper", length=20), upper)
    close_enough(cache.indicator("donchian", "lower", length=20), lower)
    close_enough(cache.indicator("donchian", "mid", length=20), (upper + lower) / 2)


def test_obv_adds_volume_on_up_closes_and_subtracts_it_on_down_closes(candles: pd.DataFrame) -> None:
    close, volume = candles["close"].to_numpy(), candles["volume"].to_numpy()
    expected = np.full(len(close), np.nan)
    expected[1:] = np.cumsum(np.sign(np.diff(close)) * volume[1:])
    close_enough(IndicatorCache(candles).indicator("obv"), expected)


def test_vwap_restarts_at_each_utc_midnight(candles: pd.DataFrame) -> None:
    typical = ((candles["high"] + candles["low"] + candles["close"]) / 3).to_numpy()
    volume = candles["volume"].to_numpy()
    day = candles.index.floor("D")
    expected = np.full(len(candles), np.nan)
    for session in np.unique(day):
        rows = np.flatnonzero(day == session)
        expected[rows] = np.cumsum(typical[rows] * volume[rows]) / np.cumsum(volume[rows])
    expected[0] = np.nan  # the first bar is warm-up (pandas-ta needs two bars)
    close_enough(IndicatorCache(candles).indicator("vwap"), expected)


def test_vwma_and_adx_are_computed_in_range(candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles)
    close, volume = candles["close"].to_numpy(), candles["volume"].to_numpy()
    close_enough(cache.indicator("vwma", length=10), sma(close * volume, 10) / sma(volume, 10))
    for output in ("adx", "plus_di", "minus_di"):
        values = cache.indicator("adx", output, length=14)
        valid = values[~np.isnan(values)]
        assert len(valid) == len(candles) - 27 and (valid >= 0).all() and (valid <= 100).all()


def every_output() -> list[tuple[str, str | None]]:
    return [
        (name, output.name if spec.multi_output else None)
        for name, spec in INDICATORS.items()
        for output in spec.outputs
    ]


def sample_params(name: str, rng: random.Random) -> dict[str, Any]:
    spec = INDICATORS[name]
    for _ in range(50):
        params: dict[str, Any] = {}
        for param in spec.params:
            assert param.sample is not None
            low, high = param.sample
            params[param.name] = (
                rng.randint(int(low), int(high)) if param.kind == "int" else rng.uniform(low, high)
            )
        if spec.check is None or spec.check(params) is None:
            return params
    raise AssertionError(f"no valid parameters drawn for {name}")


@pytest.mark.parametrize(("name", "output"), every_output())
def test_warmup_is_exactly_the_leading_nan_bars(name: str, output: str | None, candles: pd.DataFrame) -> None:
    spec = INDICATORS[name]
    rng = random.Random(name)
    settings: list[Mapping[str, Any]] = [{}] + [sample_params(name, rng) for _ in range(3) if spec.params]
    cache = IndicatorCache(candles)
    for params in settings:
        values = cache.indicator(name, output, **params)
        full = {p.name: params.get(p.name, p.default) for p in spec.params}
        warmup = spec.warmup(full)
        assert np.isnan(values[:warmup]).all(), (params, warmup)
        assert not np.isnan(values[warmup:]).any(), (params, warmup, np.flatnonzero(np.isnan(values))[-3:])


@pytest.mark.parametrize("bars", [0, 1, 2, 5, 30])
def test_frames_too_short_for_an_indicator_give_nan_quietly(
    bars: int, candles: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    """pandas-ta returns None (or, for VWAP, prints to stdout) on short frames: we give NaN until the
    warm-up is over and then exactly the values the long series has."""
    short, full = IndicatorCache(candles.iloc[:bars]), IndicatorCache(candles)
    for name, output in every_output():
        values = short.indicator(name, output)
        assert values.shape == (bars,)
        assert np.array_equal(values, full.indicator(name, output)[:bars], equal_nan=True), name
    assert capsys.readouterr().out == ""


def test_cache_computes_each_indicator_and_parameters_once(
    candles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    for name, compute in list(indicators._COMPUTE.items()):

        def counting(
            frame: pd.DataFrame, params: Mapping[str, Any], _name: str = name, _compute: Any = compute
        ) -> Any:
            calls.append((_name, dict(params)))
            return _compute(frame, params)

        monkeypatch.setitem(indicators._COMPUTE, name, counting)

    cache = IndicatorCache(candles)
    macd = {"ind": "macd", "fast": 12, "slow": 26, "signal": 9}
    genomes = [
        parse_genome(
            {
                "name": "a",
                "entry": {"crosses_above": [{"ind": "sma", "length": 10}, {"ind": "sma", "length": 30}]},
                "exit": {"crosses_below": [{**macd, "output": "line"}, {**macd, "output": "signal"}]},
            }
        ),
        parse_genome(
            {
                "name": "b",
                "entry": {
                    "all": [
                        {">": [{"ind": "sma", "length": 10.0}, {"price": "close"}]},
                        {">": [{**macd, "output": "hist"}, 0]},
                    ]
                },
                "exit": {"<": [{"ind": "sma", "length": 30, "lag": 2}, {"price": "close"}]},
            }
        ),
    ]
    for _ in range(3):
        for genome in genomes:
            signals(genome, cache)
    cache.indicator("sma", length=10)
    cache.indicator("macd", "hist")  # the defaults are the same parameters
    assert sorted(name for name, _ in calls) == ["macd", "sma", "sma"]
    assert cache.computations == 3

    cache.indicator("sma", length=11)
    assert cache.computations == 4

    # thousands of random genomes on one cache: each (indicator, parameters) still computed once
    for seed in range(200):
        signals(random_genome(seed), cache)
    keys = [(name, tuple(sorted(params.items()))) for name, params in calls]
    assert len(keys) == len(set(keys)) == cache.computations


def test_arrays_from_the_cache_are_read_only_float64(candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles)
    values = cache.indicator("rsi")
    assert values.dtype == np.float64 and values.flags.c_contiguous
    with pytest.raises(ValueError, match="read-only"):
        values[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        cache.price("close")[0] = 1.0


def test_cache_rejects_bad_frames_and_bad_requests(candles: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="lacks column"):
        IndicatorCache(candles.drop(columns=["volume"]))
    with pytest.raises(DataValidationError, match="DatetimeIndex"):
        IndicatorCache(candles.reset_index(drop=True))
    with pytest.raises(DataValidationError, match="strictly increasing"):
        IndicatorCache(candles.iloc[::-1])
    cache = IndicatorCache(candles)
    with pytest.raises(UserInputError, match=r"^sma\.length: must be >= 2 \(got 1\)$"):
        cache.indicator("sma", length=1)
    with pytest.raises(UserInputError, match=r"^unknown indicator 'kama'"):
        cache.indicator("kama")
    with pytest.raises(UserInputError, match=r"^macd\.output: required for macd"):
        cache.indicator("macd")
    with pytest.raises(UserInputError, match=r"^unknown price column 'mid'"):
        cache.price("mid")


def test_cache_does_not_depend_on_the_frames_memory_layout(candles: pd.DataFrame) -> None:
    """A frame built from a 2-D block (the store's) and one of separate columns give the same values."""
    block = pd.DataFrame(candles.to_numpy().copy(), index=candles.index, columns=candles.columns)
    for name, output in every_output():
        a = IndicatorCache(candles).indicator(name, output)
        b = IndicatorCache(block).indicator(name, output)
        assert np.array_equal(a, b, equal_nan=True), name


def test_precompile_computes_every_indicator(monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[str] = []
    for name, compute in list(indicators._COMPUTE.items()):

        def counting(
            frame: pd.DataFrame, params: Mapping[str, Any], _name: str = name, _compute: Any = compute
        ) -> Any:
            computed.append(_name)
            result = _compute(frame, params)
            assert all(value is not None for value in result.values()), _name  # long enough for all
            return result

        monkeypatch.setitem(indicators._COMPUTE, name, counting)
    indicators.precompile()
    assert sorted(computed) == sorted(INDICATORS)
