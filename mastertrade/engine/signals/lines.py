"""Indicator lines for charts: the engine's own indicators (``signals.indicators``, pandas-ta) on a
candle frame, named by a small spec, so a chart draws exactly what a strategy computes.

A line spec is ``name(param=value, ...)`` with an optional ``.output``: ``sma(length=20)``,
``ema(length=50)``, ``bbands(length=20, std=2).upper``. Parameters not given take the indicator's
defaults; a bad name, parameter or output is a ``UserInputError`` naming it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

INDICATOR_WARMUP = 500
"""Bars read before the first one returned, so an indicator with memory (EMA) has settled."""

SPEC = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(?:\((.*)\))?\s*(?:\.([a-z_]+))?\s*$")


def parse_line(spec: str) -> tuple[str, dict[str, float | int | str], str | None]:
    """``(indicator, params, output)`` of a line spec (module docstring)."""
    match = SPEC.match(spec)
    if match is None:
        raise UserInputError(f"invalid line {spec!r}: expected name(param=value, ...)[.output]")
    name, args, output = match.groups()
    params: dict[str, float | int | str] = {}
    for item in (args or "").split(","):
        if not item.strip():
            continue
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UserInputError(f"invalid line {spec!r}: parameter {item.strip()!r} is not name=value")
        value = raw.strip()
        try:
            params[key.strip()] = int(value)
        except ValueError:
            try:
                params[key.strip()] = float(value)
            except ValueError:
                params[key.strip()] = value
    return name, params, output


def indicator_lines(frame: pd.DataFrame, specs: Sequence[str]) -> list[list[float | None]]:
    """Each spec's values, one per bar of ``frame`` (None while the indicator warms up)."""
    from mastertrade.engine.signals.indicators import IndicatorCache

    cache = IndicatorCache(frame)
    lines = []
    for spec in specs:
        name, params, output = parse_line(spec)
        values = cache.indicator(name, output, **params)
        lines.append([float(v) if math.isfinite(v) else None for v in values.tolist()])
    return lines
