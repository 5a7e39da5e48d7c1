"""The grids the search draws from: indicator parameters, thresholds, stops and sizes on coarse steps.

A genetic search that may pick any RSI length from 5 to 30 and any threshold to two decimals produces
thousands of near-identical strategies (RSI(14) > 30.01 and RSI(15) > 30.02) that differ only in noise,
and pays for an indicator computation (milliseconds each) for every new parameter set. On a grid of
about ten values per parameter, near-duplicates collapse into the same canonical genome (and the same
fingerprint, so they are deduplicated), the indicator cache stays small and warm, and fewer distinct
trials means less room to overfit, which the deflated Sharpe ratio would charge for anyway.

- integer parameters: about ``POINTS`` geometrically spaced values over the parameter's ``sample``
  range, plus its default (14 for RSI, 20 for SMA ...);
- float parameters: evenly spaced values over the ``sample`` range, plus the default;
- thresholds (constants compared with an output): ``THRESHOLD_STEPS`` steps over the output's
  ``thresholds`` range;
- stop-loss and trailing stop: 1% to 15% by 1%; take-profit: 2% to 50% by 2%; size: 10% to 100% by 10%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from mastertrade.engine.signals.random_genome import Chooser
from mastertrade.engine.signals.specs import Param, SeriesSpec, normalise_float

POINTS = 7
THRESHOLD_STEPS = 20

STOP_GRID = tuple(round(0.01 * i, 2) for i in range(1, 16))
TAKE_PROFIT_GRID = tuple(round(0.02 * i, 2) for i in range(1, 26))
SIZE_GRID = tuple(round(0.1 * i, 1) for i in range(1, 11))
STOP_GRIDS: dict[str, tuple[float, ...]] = {
    "stop_loss": STOP_GRID,
    "take_profit": TAKE_PROFIT_GRID,
    "trailing_stop": STOP_GRID,
}
LAGS = (0, 1, 2, 3, 5)


@cache
def param_grid(param: Param) -> tuple[Any, ...]:
    """The values the search uses for ``param`` (ascending; strings: its choices)."""
    if param.kind == "str":
        return param.choices or ((param.default,) if param.default is not None else ())
    if param.sample is None:
        return (param.default,)
    low, high = param.sample
    points: list[float]
    if param.kind == "int":
        ratio = math.log(high) - math.log(max(low, 1))
        # geometric spacing: 5, 8, 13, 21 ... matters at short lengths, less at long ones
        points = [round(max(low, 1) * math.exp(i * ratio / (POINTS - 1))) for i in range(POINTS)]
    else:
        points = [normalise_float(round(low + i * (high - low) / (POINTS - 1), 2)) for i in range(POINTS)]
    values: list[float] = sorted(set(points))
    if (
        isinstance(param.default, int | float)
        and low <= param.default <= high
        and param.default not in values
    ):
        # the classic setting (RSI 14, SMA 20) replaces its nearest point rather than crowding it
        values[values.index(nearest(param.default, values))] = param.default
    return tuple(sorted(values))


def nearest(value: float, grid: Sequence[Any]) -> Any:
    try:
        return _nearest_in_tuple(value, grid)
    except TypeError:  # a grid that is not a tuple (or a value that is not a number: raises again below)
        return _nearest(value, grid)


@lru_cache(maxsize=65_536, typed=True)
def _nearest_in_tuple(value: float, grid: Sequence[Any]) -> Any:
    """Remembered: breeding snaps the same few thousand values to the same grids again and again."""
    return _nearest(value, grid)


def _nearest(value: float, grid: Sequence[Any]) -> Any:
    return min(grid, key=lambda point: (abs(point - value), point))


def grid_params(rng: Chooser, spec: SeriesSpec) -> dict[str, Any]:
    """Parameters for ``spec`` drawn from the grids, meeting the spec's cross-parameter check
    (MACD's fast < slow); its defaults when twenty draws fail."""
    for _ in range(20):
        values = {param.name: rng.choice(param_grid(param)) for param in spec.params}
        if spec.check is None or spec.check(values) is None:
            return values
    return {param.name: param.default for param in spec.params}


def snap_params(spec: SeriesSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` moved to the nearest grid points (a value the check then refuses is left as it was)."""
    snapped = dict(values)
    for param in spec.params:
        value = values.get(param.name, param.default)
        if param.kind != "str" and isinstance(value, int | float) and param.sample is not None:
            snapped[param.name] = nearest(value, param_grid(param))
    if spec.check is not None and spec.check(snapped) is not None:
        return dict(values)
    return snapped


@cache
def threshold_grid(bounds: tuple[float, float]) -> tuple[float, ...]:
    low, high = bounds
    if high <= low:
        return (float(low),)
    step = (high - low) / THRESHOLD_STEPS
    return tuple(normalise_float(round(low + i * step, 6)) for i in range(THRESHOLD_STEPS + 1))


def snap_threshold(value: float, bounds: tuple[float, float] | None) -> float:
    """A constant moved to its threshold grid; without bounds, to three significant digits."""
    if bounds is None:
        return normalise_float(float(f"{value:.3g}"))
    return float(nearest(value, threshold_grid(bounds)))
