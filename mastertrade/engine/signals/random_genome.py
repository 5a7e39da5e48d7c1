"""Seeded random genomes over the whole grammar: every indicator and output, prices, lags, constants,
all/any groups, both comparisons and both crossings, optional stops and sizes.

Used by the no-lookahead test, the engines' parity property test (through the hypothesis strategy in
``tests/strategies.py``, which drives this same code) and as the generator's initial population.

Random does not mean absurd: a condition compares outputs of the same scale (a price-level output with
a price or another price-level output, RSI with RSI or a constant in RSI's usual range ...), see
``Output.scale`` and ``Output.thresholds`` in :mod:`~mastertrade.engine.signals.specs`. Parameters are
drawn from each parameter's ``sample`` range. Every genome returned is valid.

The source of randomness is anything with ``random()``, ``randint(a, b)``, ``uniform(a, b)`` and
``choice(seq)``: a ``random.Random`` here, a hypothesis draw in the tests, deap's ``random`` later.
"""

from __future__ import annotations

import random as _random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from mastertrade.engine.signals.canonical import fingerprint
from mastertrade.engine.signals.features import FEATURES
from mastertrade.engine.signals.genome import CONDITIONS, Genome, parse_genome
from mastertrade.engine.signals.indicators import INDICATORS
from mastertrade.engine.signals.specs import (
    PRICE,
    SINGLE,
    VOLUME,
    Output,
    ParamValue,
    SeriesSpec,
    normalise_float,
)

T = TypeVar("T")


class Chooser(Protocol):
    """The part of ``random.Random`` the generator uses."""

    def random(self) -> float: ...

    def randint(self, a: int, b: int) -> int: ...

    def uniform(self, a: float, b: float) -> float: ...

    def choice(self, seq: Sequence[T]) -> T: ...


@dataclass(frozen=True)
class FixedTerm:
    """A feature term drawn as it is, parameters and all: a series known to have data for the market
    searched (the forecast of one trained model, ``{"feature": "forecast", "model": "lightgbm",
    "horizon": 1}``), where drawing its parameters at random would mostly name series that do not exist."""

    name: str
    params: tuple[tuple[str, ParamValue], ...] = ()

    @classmethod
    def of(cls, name: str, params: Mapping[str, ParamValue]) -> FixedTerm:
        return cls(name, tuple(sorted(params.items())))

    @property
    def label(self) -> str:
        """A short unique name: "forecast:horizon=1,model=lightgbm"."""
        return f"{self.name}:" + ",".join(f"{key}={value}" for key, value in self.params)

    def as_json(self) -> dict[str, Any]:
        return {"feature": self.name, **dict(self.params)}


@dataclass(frozen=True)
class _Source:
    """Something a term can be drawn from: an output of a spec, or a price column."""

    kind: str  # "ind", "feature" or "price"
    name: str
    output: Output
    spec: SeriesSpec | None = None
    fixed: FixedTerm | None = None


_PRICE_SOURCES = tuple(
    _Source("price", column, Output(SINGLE, column, PRICE)) for column in ("open", "high", "low", "close")
) + (_Source("price", "volume", Output(SINGLE, "volume", VOLUME)),)


def _sources(features: bool, terms: Sequence[FixedTerm] = ()) -> list[_Source]:
    sources = list(_PRICE_SOURCES)
    for kind, registry in (("ind", INDICATORS), ("feature", FEATURES if features else {})):
        for name, spec in registry.items():
            sources.extend(_Source(kind, name, output, spec) for output in spec.outputs)
    for term in terms:
        spec = FEATURES[term.name]
        sources.extend(_Source("feature", term.name, output, spec, term) for output in spec.outputs)
    return sources


class _Sources:
    """The sources a draw picks from, grouped the ways :class:`_Drawer` picks them."""

    def __init__(self, sources: list[_Source]) -> None:
        self.all = sources
        self.has_features = any(source.kind == "feature" for source in sources)
        self.by_scale: dict[str, list[_Source]] = {}
        self.by_kind: dict[str, list[_Source]] = {}
        for source in sources:
            self.by_scale.setdefault(source.output.scale, []).append(source)
            self.by_kind.setdefault(source.kind, []).append(source)


_SOURCE_SETS: dict[tuple[bool, tuple[FixedTerm, ...]], tuple[Any, _Sources]] = {}
"""The sources of each (features, terms), with the registries they were read from: the generator draws
hundreds of genomes from the same ones."""


def _source_set(features: bool, terms: Sequence[FixedTerm]) -> _Sources:
    registries = (tuple(INDICATORS.items()), tuple(FEATURES.items()) if features or terms else ())
    key = (features, tuple(terms))
    known = _SOURCE_SETS.get(key)
    if known is not None and known[0] == registries:  # the same entries (compared by identity first)
        return known[1]
    found = _Sources(_sources(features, terms))
    _SOURCE_SETS[key] = (registries, found)
    return found


def random_genome(
    rng: Chooser | int,
    *,
    name: str | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
    stops: bool | None = None,
    features: bool = False,
    terms: Sequence[FixedTerm] = (),
    max_depth: int = 2,
    max_children: int = 3,
) -> Genome:
    """A random valid genome.

    ``rng`` is a seed or a :class:`Chooser`. ``stops``: ``True`` gives at least one of stop-loss,
    take-profit and trailing stop, ``False`` none, ``None`` each with probability 0.3.
    ``features`` also draws registered alternative-data features (the cache then needs a provider);
    ``terms`` adds feature terms drawn with their parameters as given (without them, and without
    ``features``, the draws are those of a candles-only genome, number for number).
    ``max_depth`` bounds all/any nesting; ``max_children`` the children of a group. The name defaults
    to ``random-`` and the genome's fingerprint.
    """
    data = random_document(
        rng,
        name=name or "random",
        symbol=symbol,
        timeframe=timeframe,
        stops=stops,
        features=features,
        terms=terms,
        max_depth=max_depth,
        max_children=max_children,
    )
    genome = parse_genome(data, source="random genome")
    if name is None:
        genome = genome.model_copy(update={"name": f"random-{fingerprint(genome)[:10]}"})
    return genome


def random_document(
    rng: Chooser | int,
    *,
    name: str,
    symbol: str | None = None,
    timeframe: str | None = None,
    stops: bool | None = None,
    features: bool = False,
    terms: Sequence[FixedTerm] = (),
    max_depth: int = 2,
    max_children: int = 3,
) -> dict[str, Any]:
    """The JSON document :func:`random_genome` validates (the same draws from the same ``rng``), for the
    generator, which puts it on its grids before validating it."""
    chooser: Chooser = _random.Random(rng) if isinstance(rng, int) else rng
    draw = _Drawer(chooser, _source_set(features, terms), max_depth, max_children)
    data: dict[str, Any] = {"name": name, "symbol": symbol, "timeframe": timeframe}
    data["entry"] = draw.rule(0)
    data.update(draw.stops(stops))
    has_stop = any(data.get(key) is not None for key in ("stop_loss", "take_profit", "trailing_stop"))
    data["exit"] = None if has_stop and chooser.random() < 0.2 else draw.rule(0)
    data["size"] = 1.0 if chooser.random() < 0.5 else round(chooser.uniform(0.1, 1.0), 2)
    return data


def random_params(rng: Chooser, spec: SeriesSpec) -> dict[str, Any]:
    """Parameters for ``spec`` drawn from each parameter's ``sample`` range (its default when it has
    none), meeting the spec's cross-parameter check (MACD's fast < slow)."""
    for _ in range(20):
        values: dict[str, Any] = {}
        for param in spec.params:
            if param.kind == "str":
                values[param.name] = rng.choice(param.choices) if param.choices else param.default
            elif param.sample is None:
                values[param.name] = param.default
            elif param.kind == "int":
                values[param.name] = rng.randint(int(param.sample[0]), int(param.sample[1]))
            else:
                values[param.name] = round(rng.uniform(*param.sample), 2)
        if spec.check is None or spec.check(values) is None:
            return values
    return {param.name: param.default for param in spec.params}


class _Drawer:
    def __init__(self, rng: Chooser, sources: _Sources, max_depth: int, max_children: int) -> None:
        self.rng = rng
        self.max_depth = max_depth
        self.max_children = max_children
        self.has_features = sources.has_features
        self.by_scale = sources.by_scale
        self.by_kind = sources.by_kind

    def rule(self, depth: int) -> dict[str, Any]:
        if depth < self.max_depth and self.rng.random() < 0.35:
            group = self.rng.choice(("all", "any"))
            count = self.rng.randint(2, self.max_children)
            return {group: [self.rule(depth + 1) for _ in range(count)]}
        return self.condition()

    def condition(self) -> dict[str, Any]:
        rng = self.rng
        # the left side is an indicator most of the time, a price or (when enabled) a feature otherwise,
        # so neither the 5 price columns nor the many features drown the indicators
        kind = "price"
        draw = rng.random()
        if draw >= 0.2:
            kind = "feature" if draw < 0.4 and self.has_features else "ind"
        left_source = rng.choice(self.by_kind.get(kind, []))
        left = self.term(left_source)
        thresholds = left_source.output.thresholds
        if thresholds is not None and rng.random() < 0.6:
            low, high = thresholds
            right: Any = normalise_float(round(rng.uniform(low, high), 2)) if low < high else float(low)
        else:
            right_source = rng.choice(self.by_scale[left_source.output.scale])
            right = self.term(right_source)
            if right == left:  # the same series: compare it with its own past instead
                right = {**right, "lag": right.get("lag", 0) + rng.randint(1, 10)}
        op = rng.choice(tuple(CONDITIONS))
        return {op: [left, right]}

    def term(self, source: _Source) -> dict[str, Any]:
        rng = self.rng
        lag = 0 if rng.random() < 0.85 else rng.randint(1, 5)
        if source.kind == "price":
            term: dict[str, Any] = {"price": source.name}
        elif source.fixed is not None:
            term = source.fixed.as_json()
            if source.spec is not None and source.spec.multi_output:
                term["output"] = source.output.name
        else:
            assert source.spec is not None
            term = {source.kind: source.name, **random_params(rng, source.spec)}
            if source.spec.multi_output:
                term["output"] = source.output.name
        if lag:
            term["lag"] = lag
        return term

    def stops(self, wanted: bool | None) -> dict[str, float | None]:
        rng = self.rng
        ranges = {"stop_loss": (0.01, 0.15), "take_profit": (0.02, 0.5), "trailing_stop": (0.01, 0.15)}
        if wanted is False:
            return dict.fromkeys(ranges)
        chosen = {key: rng.random() < (0.5 if wanted else 0.3) for key in ranges}
        if wanted and not any(chosen.values()):
            chosen[rng.choice(tuple(ranges))] = True
        return {key: round(rng.uniform(*ranges[key]), 3) if chosen[key] else None for key in ranges}
