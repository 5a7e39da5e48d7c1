"""Genomes in words, for the CLI, the TUI and the README:
"enter when SMA(10) crosses above SMA(30); exit when SMA(10) crosses below SMA(30)"."""

from __future__ import annotations

import json
from typing import Any

from mastertrade.engine.signals.genome import (
    AllOf,
    AnyOf,
    ConstTerm,
    FeatureTerm,
    Genome,
    IndicatorTerm,
    PriceTerm,
    Rule,
    Term,
)


def describe(genome: Genome, *, multiline: bool = False) -> str:
    """One line (``enter when ...; exit when ...; stop-loss 5%; size 50% of equity``), or with
    ``multiline`` a heading with name, symbol and timeframe and one indented line per part."""
    enter = f"enter when {describe_rule(genome.entry)}"
    leave = "exit only on stops" if genome.exit is None else f"exit when {describe_rule(genome.exit)}"
    stops = _stops(genome)
    size = f"size {_percent(genome.size)} of equity"
    if not multiline:
        return "; ".join(part for part in (enter, leave, stops, size if genome.size != 1.0 else "") if part)
    market = " ".join(part for part in (genome.symbol, genome.timeframe) if part)
    heading = f"{genome.name} ({market})" if market else genome.name
    return "\n".join([heading, f"  {enter}", f"  {leave}", f"  {stops or 'no stops'}; {size}"])


def describe_rule(rule: Rule, *, nested: bool = False) -> str:
    if isinstance(rule, AllOf | AnyOf):
        text = f" {rule.WORD} ".join(describe_rule(child, nested=True) for child in rule.children)
        return f"({text})" if nested and len(rule.children) > 1 else text
    left, right = rule.operands
    return f"{describe_term(left)} {rule.WORDS} {describe_term(right)}"


def describe_term(term: Term) -> str:
    if isinstance(term, ConstTerm):
        return _number(term.const)
    if isinstance(term, PriceTerm):
        return _lagged(term.price, term.lag)
    assert isinstance(term, IndicatorTerm | FeatureTerm)
    spec = term.spec
    # an empty string parameter means "the default scope" (a market-wide feature): nothing to show
    values = [
        _number(value) if isinstance(value, int | float) else value for _, value in term.params if value != ""
    ]
    text = f"{spec.title}({','.join(values)})" if values else spec.title
    if spec.multi_output:
        text = f"{text} {spec.output(term.output).label}"
    return _lagged(text, term.lag)


def _lagged(text: str, lag: int) -> str:
    if lag == 0:
        return text
    if lag == 1:
        return f"previous {text}"
    return f"{text} {lag} bars ago"


def _stops(genome: Genome) -> str:
    parts = []
    if genome.stop_loss is not None:
        parts.append(f"stop-loss {_percent(genome.stop_loss)}")
    if genome.take_profit is not None:
        parts.append(f"take-profit {_percent(genome.take_profit)}")
    if genome.trailing_stop is not None:
        parts.append(f"trailing stop {_percent(genome.trailing_stop)}")
    return ", ".join(parts)


def _percent(fraction: float) -> str:
    return f"{_number(round(fraction * 100, 8))}%"


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def pretty_json(data: Any, *, width: int = 96, indent: int = 0) -> str:
    """JSON for people: a value that fits in ``width`` columns stays on one line, so each term and
    most conditions read as a line, and only the structure around them is indented."""
    flat = json.dumps(data, allow_nan=False)
    if len(flat) + indent <= width or not isinstance(data, dict | list) or not data:
        return flat
    pad = " " * (indent + 2)
    if isinstance(data, dict):
        items = [
            f"{pad}{json.dumps(key)}: {pretty_json(value, width=width, indent=indent + 2)}"
            for key, value in data.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + pretty_json(value, width=width, indent=indent + 2) for value in data]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
