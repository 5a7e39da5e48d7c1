"""The compiled indicators agree with pandas-ta, and with the textbook where pandas-ta is off.

Data: random walks with flat stretches (bars where open = high = low = close for a while), overnight
gaps, and the product's simulated market. Every comparison goes through the cache's own warm-up mask
and requires the NaN positions to be exactly the same.

Tolerances (stated once, here):
- EMA, RSI, MACD, ROC, Donchian: the same bits as pandas-ta. ATR, NATR and ADX too, on bars that all
  have a range; on flat bars pandas-ta adds machine epsilon to every bar's range, so there they agree to
  1e-12 relative or 1e-14 absolute (an ATR decaying to 1e-5 on a flat stretch keeps pandas-ta's
  epsilons: 2e-11 relative).
- SMA, Stochastic, VWMA (compensated running means vs pandas-ta's convolutions): 1e-12 relative.
- Bollinger bands: mid within 2 ulps of the correctly rounded mean and the deviation within 1e-12
  relative of the exact population deviation (``statistics``); pandas' running variance is off by up
  to 1e-7 relative on flat stretches, so against pandas-ta the bands agree to 1e-6 of the price only.
"""

from __future__ import annotations

import random
import statistics
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.signals import formulas, kernels
from mastertrade.engine.signals.indicators import INDICATORS, IndicatorCache, precompile
from mastertrade.engine.signals.specs import SINGLE, Params, validate_params
from mastertrade.engine.signals.ta_reference import PANDAS_TA
from tests.signals.conftest import sim_frame
from tests.signals.test_indicators import sample_params

EXACT = {"ema", "rsi", "macd", "roc", "donchian", "obv", "vwap"}
EXACT_WITH_RANGES = {"atr", "natr", "adx"}


def walk(bars: int, seed: int, *, flat: bool = True) -> pd.DataFrame:
    """A geometric random walk with overnight gaps and (``flat``) stretches of bars that do not move."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, bars)))
    if flat:
        for start in rng.integers(0, bars - 60, 6):
            close[start : start + int(rng.integers(5, 50))] = close[start]
    gaps = np.exp(rng.normal(0.0, 0.004, bars) * (rng.random(bars) < 0.1))
    opens = np.concatenate([close[:1], close[:-1]]) * gaps
    high = np.maximum(opens, close) * (1 + np.abs(rng.normal(0.0, 0.002, bars)))
    low = np.minimum(opens, close) * (1 - np.abs(rng.normal(0.0, 0.002, bars)))
    still = np.concatenate([[False], close[1:] == close[:-1]])
    opens[still] = high[still] = low[still] = close[still]
    index = pd.date_range("2024-01-01", periods=bars, freq="h", tz="UTC", name="time")
    volume = rng.uniform(1.0, 10.0, bars)
    return pd.DataFrame(
        {"open": opens, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


FRAMES = {
    "walk with flat stretches": lambda: walk(2000, 1),
    "walk": lambda: walk(2000, 2, flat=False),
    "simulated market": lambda: sim_frame(2000, seed=9),
}


def draws(name: str, count: int) -> list[Params]:
    """The defaults and ``count`` parameter sets from the search's sampling ranges."""
    spec = INDICATORS[name]
    rng = random.Random(name)
    found = [validate_params(spec, {})]
    while len(found) < count + 1:
        found.append(validate_params(spec, sample_params(name, rng)))
    return found


def theirs(cache: IndicatorCache, name: str, params: Params) -> Mapping[str, np.ndarray]:
    raw = PANDAS_TA[name](cache.frame, dict(params))
    return cache._finish(INDICATORS[name], params, raw, f"pandas-ta {name}")


def same_nans(ours: np.ndarray, reference: np.ndarray, what: str) -> np.ndarray:
    """The bars where both have a value; fails unless the NaN bars are the same."""
    assert np.array_equal(np.isnan(ours), np.isnan(reference)), (
        what,
        np.flatnonzero(np.isnan(ours) != np.isnan(reference))[:5],
    )
    return ~np.isnan(ours)


@pytest.mark.parametrize("frame_name", list(FRAMES))
@pytest.mark.parametrize("name", sorted(set(PANDAS_TA) - {"bbands"}))
def test_kernels_agree_with_pandas_ta(name: str, frame_name: str) -> None:
    frame = FRAMES[frame_name]()
    cache = IndicatorCache(frame)
    has_ranges = bool((frame["high"] > frame["low"]).all())
    bit_for_bit = name in EXACT or (name in EXACT_WITH_RANGES and has_ranges)
    for params in draws(name, 6):
        reference = theirs(cache, name, params)
        for output in INDICATORS[name].outputs:
            ours = cache.indicator_output(
                name, params, output.name if INDICATORS[name].multi_output else None
            )
            what = f"{name}{dict(params)}.{output.name} on {frame_name}"
            valid = same_nans(ours, reference[output.name], what)
            assert valid.sum() > len(frame) // 2, what
            if bit_for_bit:
                assert np.array_equal(ours[valid], reference[output.name][valid]), what
            else:
                # pandas-ta's epsilon in ranges: a few ulps absolute, noticeable only as an ATR decays
                atol = 1e-14 if name in EXACT_WITH_RANGES else 0.0
                np.testing.assert_allclose(
                    ours[valid], reference[output.name][valid], rtol=1e-12, atol=atol, err_msg=what
                )


def creeping(bars: int, seed: int) -> pd.DataFrame:
    """A walk whose flat stretches creep by 1e-9 a bar: windows with a deviation of 1e-8 after a move of
    1, where a running variance loses every digit."""
    frame = walk(bars, seed)
    close = frame["close"].to_numpy().copy()
    still = np.flatnonzero(np.concatenate([[False], close[1:] == close[:-1]]))
    close[still] += 1e-9 * np.arange(1, len(still) + 1) % 1e-7
    return frame.assign(
        close=close, high=np.maximum(frame["high"], close), low=np.minimum(frame["low"], close)
    )


@pytest.mark.parametrize("frame_name", [*FRAMES, "creeping walk"])
def test_bollinger_bands_are_the_exact_window_statistics(frame_name: str) -> None:
    frame = (creeping(700, 10) if frame_name == "creeping walk" else FRAMES[frame_name]()).iloc[:700]
    close = frame["close"].to_numpy()
    cache = IndicatorCache(frame)
    for params in draws("bbands", 3):
        length, width = int(dict(params)["length"]), float(dict(params)["std"])
        mean = np.full(len(close), np.nan)
        deviation = np.full(len(close), np.nan)
        for t in range(length - 1, len(close)):
            window = close[t - length + 1 : t + 1]
            mean[t], deviation[t] = statistics.fmean(window), statistics.pstdev(window)
        ours = {
            out.name: cache.indicator_output("bbands", params, out.name)
            for out in INDICATORS["bbands"].outputs
        }
        valid = same_nans(ours["mid"], mean, "mid")
        np.testing.assert_array_max_ulp(ours["mid"][valid], mean[valid], maxulp=2)
        ours_deviation = kernels.rolling_deviation(formulas._input(close), length)
        moving = valid & (deviation > 0)
        np.testing.assert_allclose(ours_deviation[moving], deviation[moving], rtol=1e-12)
        np.testing.assert_allclose(ours["upper"][valid], mean[valid] + width * deviation[valid], rtol=1e-15)
        flat = valid & (deviation == 0)
        if frame_name == "walk with flat stretches":
            assert flat.any()
        if frame_name == "creeping walk":
            assert (deviation[valid] < 1e-7).any()
        # a flat window: the bands close on the price and %b is undefined
        assert (ours["mid"][flat] == close[flat]).all() and (ours["upper"][flat] == close[flat]).all()
        assert np.isnan(ours["percent_b"][flat]).all()
        lower, upper = ours["lower"][moving], ours["upper"][moving]
        np.testing.assert_allclose(
            ours["percent_b"][moving], (close[moving] - lower) / (upper - lower), rtol=1e-15, atol=0
        )
        # pandas-ta's running variance: the same bands to 1e-6 of the price
        reference = theirs(cache, "bbands", params)
        for output in ("upper", "mid", "lower"):
            np.testing.assert_allclose(ours[output][valid], reference[output][valid], rtol=1e-6, atol=0)


def test_stochastic_is_zero_on_a_flat_range() -> None:
    frame = walk(400, 3)
    close = np.full(400, 50.0)
    close[:100] = 50.0 + np.arange(100) * 0.1
    frame = frame.assign(open=close, high=close, low=close, close=close)
    cache = IndicatorCache(frame)
    k = cache.indicator("stoch", "k", k=14, d=3, smooth_k=3)
    assert (k[130:] == 0.0).all()


def test_ewm_mean_steps_exactly_like_pandas() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(0.0, 1.0, 500)
    values[[40, 41, 200]] = np.nan  # a NaN leaves the average and decays its weight
    values[300:320] = values[299]  # a constant stretch: pandas skips the update
    view = formulas._input(values)
    for com in (0.5, 6.5, 13.0, 99.0 / 7.0):
        expected = pd.Series(values[10:]).ewm(com=com, adjust=False).mean().to_numpy()
        ours = kernels.ewm_mean(view, 10, float(values[10]), com)
        assert np.isnan(ours[:10]).all()
        assert np.array_equal(ours[10:], expected, equal_nan=True), com


def test_rolling_extremes_and_flat_means() -> None:
    rng = np.random.default_rng(5)
    values = np.round(rng.normal(0.0, 1.0, 300), 1)  # many ties
    values[100:140] = 0.3
    view = formulas._input(values)
    for length in (1, 2, 7, 40):
        highest = kernels.rolling_extreme(view, length, True)
        lowest = kernels.rolling_extreme(view, length, False)
        mean = kernels.rolling_mean(view, length)
        for t in range(len(values)):
            if t < length - 1:
                assert np.isnan(highest[t]) and np.isnan(lowest[t]) and np.isnan(mean[t])
                continue
            window = values[t - length + 1 : t + 1]
            assert highest[t] == window.max() and lowest[t] == window.min()
            if (window == window[0]).all():
                assert mean[t] == window[0]  # exactly the price, not a rounding of it
            else:
                assert mean[t] == pytest.approx(statistics.fmean(window), rel=1e-14, abs=1e-15)


KERNELS = [kernels.rolling_mean, kernels.mean_deviation, kernels.rolling_deviation, kernels.rolling_extreme]
KERNELS += [kernels.ewm_mean, kernels.on_balance_volume, kernels.session_vwap]


def test_load_loads_the_specialisations_the_formulas_use() -> None:
    """``kernels.load`` (which a scorer runs on a thread while the search breeds) loads each kernel with
    the argument types the formulas pass: computing every indicator afterwards adds no specialisation
    (a wrong one would compile for seconds and leave two)."""
    kernels.load()
    loaded = {dispatcher: list(dispatcher.signatures) for dispatcher in KERNELS}  # type: ignore[attr-defined]
    assert all(len(signatures) == 1 for signatures in loaded.values()), loaded
    cache = IndicatorCache(walk(300, 12))
    for name, spec in INDICATORS.items():
        cache.indicator_output(
            name, validate_params(spec, {}), spec.outputs[0].name if spec.multi_output else None
        )
    assert {dispatcher: list(dispatcher.signatures) for dispatcher in KERNELS} == loaded  # type: ignore[attr-defined]


def minute_bars(days: int, seed: int, tz: str) -> pd.DataFrame:
    """``days`` of one-minute bars in zone ``tz``: 1,440 bars a VWAP session, long running sums."""
    frame = walk(days * 1440, seed)
    return frame.set_axis(pd.date_range("2024-03-30", periods=len(frame), freq="min", tz=tz, name="time"))


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_vwap_sessions_are_pandas_ta_s_calendar_days(tz: str) -> None:
    """Sessions are the calendar days of the bars' wall-clock time, as pandas-ta's ``to_period("D")``
    takes them (across a daylight-saving change too), and the running sums are pandas' to the bit."""
    cache = IndicatorCache(minute_bars(3, 13, tz))
    params = validate_params(INDICATORS["vwap"], {})
    ours = cache.indicator_output("vwap", params, None)
    reference = theirs(cache, "vwap", params)[SINGLE]
    assert np.array_equal(ours, reference, equal_nan=True)


def test_every_kernel_is_compiled_by_precompile_once() -> None:
    """One specialisation per kernel, made by ``precompile`` on made-up bars: real bars use it too,
    so the installation's numba cache covers every indicator (no compile in a user's first search)."""
    precompile()
    dispatchers = KERNELS
    before = {dispatcher: list(dispatcher.signatures) for dispatcher in dispatchers}  # type: ignore[attr-defined]
    assert all(len(signatures) == 1 for signatures in before.values()), before
    cache = IndicatorCache(walk(500, 6))
    for name, spec in INDICATORS.items():
        for params in draws(name, 2) if spec.params else [validate_params(spec, {})]:
            cache.indicator_output(name, params, spec.outputs[0].name if spec.multi_output else None)
    assert {dispatcher: list(dispatcher.signatures) for dispatcher in dispatchers} == before  # type: ignore[attr-defined]


def requests_of(frame: pd.DataFrame) -> list[tuple[str, Params]]:
    found = [
        (name, params) for name in sorted(INDICATORS) for params in draws(name, 3) if INDICATORS[name].params
    ]
    return found + found[:5] + [("obv", validate_params(INDICATORS["obv"], {}))]


def test_warm_on_two_threads_stores_the_same_entries_in_the_same_order() -> None:
    frame = walk(1500, 7)
    wanted = requests_of(frame)
    caches = {threads: IndicatorCache(frame) for threads in (1, 2)}
    for threads, cache in caches.items():
        cache.warm(wanted, threads=threads)
        cache.warm(wanted, threads=threads)  # all present: nothing computed again
    one, two = caches[1], caches[2]
    assert one.computations == two.computations == len(set(wanted))
    assert list(one._outputs) == list(two._outputs)
    for key in one._outputs:
        for output, values in one._outputs[key].items():
            assert np.array_equal(values, two._outputs[key][output], equal_nan=True), (key, output)


def test_warm_stores_the_others_before_raising_the_first_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from mastertrade.engine.signals import indicators

    def broken(frame: pd.DataFrame, params: Mapping[str, Any]) -> Mapping[str, Any]:
        raise ZeroDivisionError("no")

    monkeypatch.setitem(indicators._COMPUTE, "rsi", broken)
    cache = IndicatorCache(walk(300, 8))
    wanted = requests_of(cache.frame)
    with pytest.raises(ZeroDivisionError):
        cache.warm(wanted, threads=2)
    assert cache.computations == len({request for request in wanted if request[0] != "rsi"})


def test_the_cache_serves_threads_asking_at_once() -> None:
    frame = walk(1500, 9)
    wanted = requests_of(frame)
    expected = IndicatorCache(frame)
    expected.warm(wanted)
    shared = IndicatorCache(frame)
    failures: list[BaseException] = []

    def ask(order: list[tuple[str, Params]]) -> None:
        try:
            for name, params in order:
                for output in INDICATORS[name].outputs:
                    got = shared.indicator_output(
                        name, params, output.name if INDICATORS[name].multi_output else None
                    )
                    assert np.array_equal(
                        got,
                        expected.indicator_output(
                            name, params, output.name if INDICATORS[name].multi_output else None
                        ),
                        equal_nan=True,
                    )
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=ask, args=(wanted[::step],)) for step in (1, -1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert set(shared._outputs) == set(expected._outputs)


@pytest.mark.parametrize(
    ("names", "threads", "met"),
    [(("sma", "ema"), 2, True), (("sma", "ema"), 1, False), (("obv", "vwap"), 2, False)],
)
def test_kernel_indicators_compute_side_by_side_and_the_others_one_at_a_time(
    names: tuple[str, str], threads: int, met: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two computations that wait for each other meet only if they run at once: on two threads for the
    kernel formulas, never for pandas-ta's (or a plugin's), whatever the thread count."""
    from mastertrade.engine.signals import indicators

    monkeypatch.setattr(indicators, "_KERNEL", indicators._KERNEL - {"obv", "vwap"})  # as a plugin's
    barrier = threading.Barrier(2, timeout=0.5)
    meetings: list[bool] = []
    for name in names:
        compute = indicators._COMPUTE[name]

        def meeting(frame: pd.DataFrame, params: Mapping[str, Any], _compute: Any = compute) -> Any:
            try:
                barrier.wait()
                meetings.append(True)
            except threading.BrokenBarrierError:
                meetings.append(False)
            return _compute(frame, params)

        monkeypatch.setitem(indicators._COMPUTE, name, meeting)
    cache = IndicatorCache(walk(200, 11))
    cache.warm([(name, validate_params(INDICATORS[name], {})) for name in names], threads=threads)
    assert meetings == [met, met]
    assert cache.computations == 2
