"""Genomes in words, and the JSON layout people read."""

from __future__ import annotations

import json

import pytest

from mastertrade.engine.signals import builtins
from mastertrade.engine.signals.builtins import BUILTINS
from mastertrade.engine.signals.describe import describe, pretty_json
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.random_genome import random_genome


@pytest.mark.parametrize("name", list(BUILTINS))
def test_the_builtins_docstring_says_exactly_what_describe_says(name: str) -> None:
    def words(text: str) -> str:
        return " ".join(text.split())

    text, line = words(builtins.__doc__ or ""), words(f"- ``{name}``: {describe(BUILTINS[name])}")
    assert line in text
    assert text[text.index(line) + len(line) :].startswith((" - ``", " All of them"))  # the whole line


def test_one_line_and_multi_line() -> None:
    genome = parse_genome(
        {
            "name": "demo",
            "symbol": "BTC/USDT",
            "timeframe": "4h",
            "entry": {
                "all": [
                    {"crosses_above": [{"ind": "macd", "output": "hist"}, 0]},
                    {
                        "any": [
                            {"<": [{"ind": "rsi"}, 35.5]},
                            {">": [{"price": "close"}, {"ind": "vwap", "lag": 3}]},
                        ]
                    },
                ]
            },
            "exit": {
                "<": [{"price": "close"}, {"ind": "donchian", "length": 10, "output": "lower", "lag": 1}]
            },
            "stop_loss": 0.05,
            "trailing_stop": 0.025,
            "size": 0.5,
        }
    )
    assert describe(genome) == (
        "enter when MACD(12,26,9) histogram crosses above 0 and (RSI(14) < 35.5 or close > VWAP 3 bars ago); "
        "exit when close < previous Donchian(10) lower; stop-loss 5%, trailing stop 2.5%; size 50% of equity"
    )
    assert describe(genome, multiline=True).splitlines() == [
        "demo (BTC/USDT 4h)",
        "  enter when MACD(12,26,9) histogram crosses above 0 and (RSI(14) < 35.5 or close > VWAP 3 bars "
        "ago)",
        "  exit when close < previous Donchian(10) lower",
        "  stop-loss 5%, trailing stop 2.5%; size 50% of equity",
    ]
    stops_only = parse_genome(
        {"name": "s", "entry": {">": [{"ind": "bbands", "output": "percent_b"}, 1]}, "take_profit": 0.1}
    )
    assert describe(stops_only) == "enter when Bollinger(20,2) %b > 1; exit only on stops; take-profit 10%"


@pytest.mark.parametrize("seed", range(20))
def test_every_random_genome_can_be_described(seed: int) -> None:
    text = describe(random_genome(seed))
    assert text.startswith("enter when ") and "\n" not in text


def test_pretty_json_keeps_short_values_on_one_line_and_parses_back() -> None:
    document = BUILTINS["macd_trend"].to_dict()
    text = pretty_json(document)
    assert json.loads(text) == document
    assert '      {">": [{"price": "close"}, {"ind": "ema", "length": 200}]}' in text.splitlines()
    assert max(len(line) for line in text.splitlines()) <= 96
