"""What a genome term may ask for: the parameters and outputs of an indicator or a feature.

An indicator term (``{"ind": "macd", "fast": 12, "slow": 26, "signal": 9, "output": "hist"}``) and a
feature term (``{"feature": "fear_greed"}``) are both validated against a :class:`SeriesSpec` found by
name in a registry. A spec lists its parameters (type, range, default), its outputs, and for each
output the *scale* of its values, which says what the output can sensibly be compared with: the random
genome generator only builds conditions between outputs of the same scale, or between a bounded output
and a constant drawn from its ``thresholds`` range. This keeps generated strategies meaningful
(``RSI(14) < 30``, ``close > SMA(50)``) instead of comparing an oscillator with a price.

Validation here raises :class:`ParamError` carrying the name of the bad parameter; the genome model
turns it into an ``InvalidGenome`` message with the full JSON path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ParamValue = int | float | str
Params = tuple[tuple[str, ParamValue], ...]
"""Validated parameters of a term, in the spec's order: hashable, so they can key the cache."""

# Scales: which outputs can be compared with which.
PRICE = "price"
"""Values in the quote currency at the level of the price (moving averages, bands, channels, VWAP)."""
VOLUME = "volume"
OSCILLATOR = "oscillator"
"""Bounded or centred values whose meaning does not depend on the price level (RSI, %b, ADX ...)."""


@dataclass(frozen=True)
class Param:
    """One parameter of an indicator or feature.

    ``low``/``high`` bound numeric values (inclusive); ``choices`` bound strings. ``sample`` is the
    narrower range the random genome generator draws from, so random strategies use usual settings.
    """

    name: str
    kind: Literal["int", "float", "str"]
    default: ParamValue | None = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    sample: tuple[float, float] | None = None
    doc: str = ""


@dataclass(frozen=True)
class Output:
    """One output series. ``thresholds`` is the range of constants it is sensibly compared with
    (``None``: compare it only with other outputs of the same ``scale``, never with a constant)."""

    name: str
    label: str
    scale: str
    thresholds: tuple[float, float] | None = None


SINGLE = "value"
"""The output name of a single-output spec; a term never writes it (``output`` is left out)."""


@dataclass(frozen=True)
class SeriesSpec:
    """An indicator or feature a term can name.

    ``check`` enforces constraints between parameters (MACD's fast < slow): it returns the name of the
    parameter to blame and the reason, or ``None``. ``warmup`` gives the number of leading bars that
    are NaN for given parameters (the cache masks them, so warm-up never signals).
    """

    name: str
    title: str
    doc: str
    params: tuple[Param, ...] = ()
    outputs: tuple[Output, ...] = ()
    warmup: Callable[[Mapping[str, Any]], int] = field(default=lambda params: 0)
    check: Callable[[Mapping[str, Any]], tuple[str, str] | None] | None = None

    @property
    def multi_output(self) -> bool:
        return len(self.outputs) > 1

    def output(self, name: str | None) -> Output:
        """The output named (``None`` for a single-output spec)."""
        if not self.multi_output:
            return self.outputs[0]
        return next(out for out in self.outputs if out.name == name)

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)


class ParamError(ValueError):
    """A bad parameter: ``field`` names it (``None`` when the term as a whole is wrong)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def show(value: Any) -> str:
    """A value as it appears in an error message: JSON-like, and short."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def normalise_float(value: float) -> float:
    """Ten significant digits and no negative zero: numbers that print and hash the same way
    whichever arithmetic produced them (the generator's mutations, a hand-edited file)."""
    result = float(f"{value:.10g}")
    return 0.0 if result == 0 else result


def number(value: Any, *, integer: bool) -> int | float:
    """A JSON number as an int or a float; booleans, strings, NaN and infinities are refused.

    An integral float (``14.0``) is accepted where an integer is expected, and becomes ``14``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be {'an integer' if integer else 'a number'} (got {show(value)})")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number (got {show(value)})")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"must be an integer (got {show(value)})")
        return int(value)
    return normalise_float(float(value))


def _format_bound(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


def validate_params(spec: SeriesSpec, raw: Mapping[str, Any]) -> Params:
    """Check ``raw`` against ``spec`` and fill in defaults; raise :class:`ParamError` naming the field."""
    known = {p.name for p in spec.params}
    for key in raw:
        if key not in known:
            expected = ", ".join(p.name for p in spec.params) or "none"
            raise ParamError(key, f"unknown parameter of {spec.name} (parameters: {expected})")
    values: dict[str, ParamValue] = {}
    for param in spec.params:
        if param.name not in raw:
            if param.default is None:
                raise ParamError(param.name, f"required by {spec.name}")
            values[param.name] = param.default
            continue
        values[param.name] = _validate_value(param, raw[param.name])
    if spec.check is not None:
        problem = spec.check(values)
        if problem is not None:
            raise ParamError(*problem)
    return tuple((p.name, values[p.name]) for p in spec.params)


def _validate_value(param: Param, value: Any) -> ParamValue:
    if param.kind == "str":
        if not isinstance(value, str):
            raise ParamError(param.name, f"must be a string (got {show(value)})")
        if param.choices and value not in param.choices:
            raise ParamError(param.name, f"must be one of {', '.join(param.choices)} (got {show(value)})")
        return value
    try:
        result = number(value, integer=param.kind == "int")
    except ValueError as exc:
        raise ParamError(param.name, str(exc)) from None
    if param.low is not None and result < param.low:
        raise ParamError(param.name, f"must be >= {_format_bound(param.low)} (got {show(value)})")
    if param.high is not None and result > param.high:
        raise ParamError(param.name, f"must be <= {_format_bound(param.high)} (got {show(value)})")
    return result


def validate_output(spec: SeriesSpec, output: Any) -> str | None:
    """The output a term picks: required (and known) for multi-output specs, absent otherwise."""
    if not spec.multi_output:
        if output is not None:
            raise ParamError("output", f"{spec.name} has a single output; leave 'output' out")
        return None
    names = ", ".join(out.name for out in spec.outputs)
    if output is None:
        raise ParamError("output", f"required for {spec.name}: one of {names}")
    if not isinstance(output, str) or output not in {out.name for out in spec.outputs}:
        raise ParamError("output", f"must be one of {names} (got {show(output)})")
    return output
