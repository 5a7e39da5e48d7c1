"""The genome model: what it accepts, how it normalises, and the JSON path of what it rejects."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mastertrade.engine.signals.builtins import BUILTINS
from mastertrade.engine.signals.genome import (
    ConstTerm,
    Genome,
    load_genome_file,
    parse_genome,
    parse_genome_json,
    warmup_bars,
)
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.errors import InvalidGenome, UserInputError

CLOSE = {"price": "close"}
SMA10 = {"ind": "sma", "length": 10}
SMA30 = {"ind": "sma", "length": 30}
EXIT = {"crosses_below": [SMA10, SMA30]}
NAME_RULE = "name: must be 1-80 letters, digits, '_', '-' or '.', starting with a letter or digit "


def base(**changes: Any) -> dict[str, Any]:
    genome: dict[str, Any] = {
        "name": "test",
        "entry": {"all": [{">": [CLOSE, SMA30]}, {"crosses_above": [SMA10, SMA30]}]},
        "exit": EXIT,
    }
    genome.update(changes)
    return genome


def entry(*conditions: Any) -> dict[str, Any]:
    return base(entry={"all": list(conditions)})


def rejected(data: Any) -> str:
    with pytest.raises(InvalidGenome) as caught:
        parse_genome(data)
    message = str(caught.value)
    assert "\n" not in message
    return message


BAD: list[tuple[Any, str]] = [
    (
        entry({">": [CLOSE, SMA30]}, {"crosses_above": [{"ind": "sma", "length": 1}, SMA30]}),
        "entry.all[1].crosses_above[0].length: must be >= 2 (got 1)",
    ),
    (
        entry({"<": [{"ind": "sma", "length": 5000}, CLOSE]}),
        'entry.all[0]["<"][0].length: must be <= 1000 (got 5000)',
    ),
    (
        entry({">": [{"ind": "sma", "length": 10.5}, CLOSE]}),
        'entry.all[0][">"][0].length: must be an integer (got 10.5)',
    ),
    (
        entry({">": [{"ind": "sma", "length": "10"}, CLOSE]}),
        'entry.all[0][">"][0].length: must be an integer (got "10")',
    ),
    (
        entry({">": [{"ind": "sma", "length": True}, CLOSE]}),
        'entry.all[0][">"][0].length: must be an integer (got true)',
    ),
    (
        entry({">": [{"ind": "sma", "lenght": 10}, CLOSE]}),
        'entry.all[0][">"][0].lenght: unknown parameter of sma (parameters: length)',
    ),
    (
        entry({">": [{"ind": "smma", "length": 10}, CLOSE]}),
        "entry.all[0][\">\"][0].ind: unknown indicator 'smma' (known: adx, atr, bbands, cci, donchian, ema, "
        "macd, natr, obv, roc, rsi, sma, stoch, vwap, vwma)",
    ),
    (
        base(
            exit={
                "crosses_below": [{"ind": "macd", "fast": 26, "slow": 12, "signal": 9, "output": "hist"}, 0]
            }
        ),
        "exit.crosses_below[0].slow: must be greater than fast (26) (got 12)",
    ),
    (
        base(exit={"crosses_below": [{"ind": "macd"}, 0]}),
        "exit.crosses_below[0].output: required for macd: one of line, signal, hist",
    ),
    (
        base(exit={"crosses_below": [{"ind": "bbands", "output": "top"}, CLOSE]}),
        'exit.crosses_below[0].output: must be one of upper, mid, lower, percent_b (got "top")',
    ),
    (
        base(exit={"crosses_below": [{"ind": "rsi", "output": "value"}, 30]}),
        "exit.crosses_below[0].output: rsi has a single output; leave 'output' out",
    ),
    (
        base(exit={"<": [{"ind": "bbands", "std": 0.1, "output": "lower"}, CLOSE]}),
        'exit["<"][0].std: must be >= 0.5 (got 0.1)',
    ),
    (
        base(exit={"<": [{"price": "close", "lag": -1}, SMA10]}),
        'exit["<"][0].lag: must be >= 0 (got -1)',
    ),
    (
        base(exit={"<": [{"price": "close", "lag": 501}, SMA10]}),
        'exit["<"][0].lag: must be <= 500 (got 501)',
    ),
    (
        base(exit={"<": [{"price": "last"}, SMA10]}),
        "exit[\"<\"][0].price: must be one of 'open', 'high', 'low', 'close' or 'volume' (got \"last\")",
    ),
    (
        base(exit={"<": [CLOSE, "cheap"]}),
        'exit["<"][1]: expected a term: a number, {"price": ...}, {"ind": ...} or {"feature": ...} '
        '(got "cheap")',
    ),
    (base(exit={"<": [CLOSE]}), 'exit["<"][1]: required'),
    (base(exit={"<": [CLOSE, 1, 2]}), 'exit["<"]: must have at most 2 items (got 3)'),
    (
        base(exit={"<": [1, 2]}),
        "exit: compares two constants; one side must be a price, indicator or feature",
    ),
    (base(exit={"<": [SMA10, SMA10]}), "exit: compares a term with itself"),
    (base(exit={"any": []}), "exit.any: must have at least 1 item(s)"),
    (
        base(exit={"none": [EXIT]}),
        'exit: expected a rule: {"all": [...]}, {"any": [...]}, or a condition with one of the keys >, <, '
        'crosses_above, crosses_below (got {"none": [{"crosses_below": [{"ind": ...)',
    ),
    (base(exit={"all": [EXIT], "extra": 1}), "exit.extra: unknown field"),
    (base(exit=None), "exit: required when there is no stop_loss, take_profit or trailing_stop"),
    (base(stop_loss=1.5), "stop_loss: must be < 1 (got 1.5)"),
    (base(stop_loss=0), "stop_loss: must be > 0 (got 0)"),
    (base(stop_loss="5%"), 'stop_loss: must be a number (got "5%")'),
    (base(take_profit=11), "take_profit: must be <= 10 (got 11)"),
    (base(trailing_stop=-0.1), "trailing_stop: must be > 0 (got -0.1)"),
    (base(size=0), "size: must be > 0 (got 0)"),
    (base(size=1.01), "size: must be <= 1 (got 1.01)"),
    (base(size=True), "size: must be a number (got true)"),
    (
        base(name="my strategy"),
        NAME_RULE + '(got "my strategy")',
    ),
    (
        base(name=""),
        NAME_RULE + '(got "")',
    ),
    (base(timeframe="1y"), 'timeframe: must be a timeframe like 1m, 15m, 1h, 1d (got "1y")'),
    (base(symbol="BTC USDT"), 'symbol: must be a market symbol like BTC/USDT (got "BTC USDT")'),
    (base(colour="blue"), "colour: unknown field"),
    ({key: value for key, value in base().items() if key != "entry"}, "entry: required"),
    ([1, 2], "genome: must be an object (got [1, 2])"),
    (
        base(entry={"all": [{"all": [{"all": [{"all": [{"all": [EXIT]}]}]}]}]}),
        "entry: all/any groups nest deeper than 4 levels",
    ),
    (
        base(entry={"any": [{">": [CLOSE, {"ind": "sma", "length": n}]} for n in range(2, 26)] + [EXIT]}),
        "entry.any: must have at most 24 items (got 25)",
    ),
    (
        base(
            entry={
                "any": [
                    {"all": [{">": [CLOSE, {"ind": "sma", "length": n}]} for n in range(k, k + 5)]}
                    for k in range(2, 32, 5)
                ]
            }
        ),
        "entry: has 30 conditions; at most 24 are allowed",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_an_invalid_genome_is_rejected_with_the_json_path_of_the_bad_field(data: Any, message: str) -> None:
    assert rejected(data) == message


def test_an_unknown_feature_is_rejected_naming_the_registered_ones() -> None:
    message = rejected(base(exit={"<": [{"feature": "moon_phase"}, 20]}))
    assert message.startswith("exit[\"<\"][0].feature: unknown feature 'moon_phase' (known: ")


def test_invalid_genome_is_bad_input_so_the_cli_exits_2() -> None:
    assert issubclass(InvalidGenome, UserInputError)
    assert InvalidGenome.exit_code == 2


def test_the_source_prefixes_the_message() -> None:
    with pytest.raises(InvalidGenome, match=r"^mine\.json: size: must be > 0 \(got 0\)$"):
        parse_genome(base(size=0), source="mine.json")


@pytest.mark.parametrize("genome", list(BUILTINS.values()) + [random_genome(seed) for seed in range(60)])
def test_json_round_trip_returns_an_equal_genome(genome: Genome) -> None:
    document = genome.to_dict()
    again = parse_genome(json.loads(json.dumps(document)))
    assert again == genome
    assert again.to_dict() == document
    assert parse_genome_json(genome.to_json()) == genome


def test_validation_normalises_numbers_and_fills_in_defaults() -> None:
    genome = parse_genome(
        base(
            entry={"<": [{"ind": "rsi", "length": 14.0}, 30]},
            exit={">": [{"ind": "bbands", "output": "upper"}, {"const": 1e3}]},
            size=1,
        )
    )
    data = genome.to_dict()
    assert data["entry"] == {"<": [{"ind": "rsi", "length": 14}, 30.0]}
    assert data["exit"] == {">": [{"ind": "bbands", "length": 20, "std": 2.0, "output": "upper"}, 1000.0]}
    assert isinstance(data["entry"]["<"][0]["length"], int)
    assert data["size"] == 1.0
    assert isinstance(genome.entry.operands[1], ConstTerm)
    # a lag of 0 is the default and is left out; a real lag is kept
    lagged = parse_genome(base(exit={"<": [{"price": "low", "lag": 0}, {"price": "low", "lag": 2}]}))
    assert lagged.to_dict()["exit"] == {"<": [{"price": "low"}, {"price": "low", "lag": 2}]}


def test_null_optional_fields_are_accepted_and_printed() -> None:
    genome = parse_genome(
        base(symbol=None, timeframe=None, stop_loss=None, take_profit=None, trailing_stop=None)
    )
    data = genome.to_dict()
    assert {
        key: data[key] for key in ("symbol", "timeframe", "stop_loss", "take_profit", "trailing_stop")
    } == {
        "symbol": None,
        "timeframe": None,
        "stop_loss": None,
        "take_profit": None,
        "trailing_stop": None,
    }
    assert data["size"] == 1.0


def test_exit_may_be_left_out_when_a_stop_closes_the_position() -> None:
    genome = parse_genome({"name": "stops-only", "entry": EXIT, "take_profit": 0.1})
    assert genome.exit is None
    assert genome.to_dict()["exit"] is None


def test_bind_sets_and_validates_symbol_and_timeframe() -> None:
    genome = parse_genome(base())
    bound = genome.bind("ETH/USDT", "4h")
    assert (bound.symbol, bound.timeframe) == ("ETH/USDT", "4h")
    assert bound.bind(timeframe="1d").symbol == "ETH/USDT"
    with pytest.raises(InvalidGenome, match=r"^timeframe: must be a timeframe"):
        genome.bind(timeframe="hourly")
    assert genome.symbol is None  # genomes are immutable: bind returns a new one


def test_parse_does_not_touch_its_input() -> None:
    data = base()
    before = copy.deepcopy(data)
    parse_genome(data)
    assert data == before


def test_genome_files(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(base()), encoding="utf-8")
    assert load_genome_file(good) == parse_genome(base())

    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "x",\n  "entry": }', encoding="utf-8")
    with pytest.raises(
        InvalidGenome, match=r"broken\.json: invalid JSON at line 2 column 12: Expecting value$"
    ):
        load_genome_file(broken)

    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps(base(size=2)), encoding="utf-8")
    with pytest.raises(InvalidGenome, match=r"invalid\.json: size: must be <= 1 \(got 2\)$"):
        load_genome_file(invalid)

    with pytest.raises(UserInputError, match=r"genome file .*missing\.json' does not exist"):
        load_genome_file(tmp_path / "missing.json")


def test_warmup_bars_counts_the_longest_warmup_plus_lag_and_a_bar_for_crossings() -> None:
    assert warmup_bars(BUILTINS["sma_cross"]) == 30  # SMA(30) is NaN on bars 0..28; crossing needs bar 29 too
    assert warmup_bars(BUILTINS["breakout"]) == 20  # Donchian(20) lagged one bar
    genome = parse_genome(
        base(entry={">": [{"ind": "rsi", "length": 14, "lag": 3}, 50]}, exit={"<": [CLOSE, 1]})
    )
    assert warmup_bars(genome) == 17


def test_remembered_term_validation_tells_types_apart() -> None:
    """Term validation is remembered by the term's items with their types: a value refused once is
    refused again, and ``1``, ``1.0`` and ``True`` are not taken for one another."""
    from mastertrade.errors import InvalidGenome

    def with_length(value: Any) -> dict[str, Any]:
        return {
            "name": "g",
            "entry": {">": [{"ind": "sma", "length": value}, {"price": "close"}]},
            "stop_loss": 0.05,
        }

    for _ in range(2):
        assert parse_genome(with_length(20)) == parse_genome(with_length(20.0))
        with pytest.raises(InvalidGenome):
            parse_genome(with_length(True))
        with pytest.raises(InvalidGenome):
            parse_genome(with_length([20]))


def test_a_genome_file_without_a_name_is_named_after_the_file(tmp_path: Path) -> None:
    """`mt backtest g.json` refused a hand-written genome for "name: required"; the file's own name serves
    (when it makes a valid one), and a name the file gives is kept and checked."""
    rules = '"entry": {">": [{"ind": "rsi", "length": 14}, 30]}, "stop_loss": 0.05'
    (tmp_path / "rsi-dip.json").write_text("{" + rules + "}")
    assert load_genome_file(tmp_path / "rsi-dip.json").name == "rsi-dip"
    (tmp_path / "named.json").write_text('{"name": "mine", ' + rules + "}")
    assert load_genome_file(tmp_path / "named.json").name == "mine"
    (tmp_path / "bad name!.json").write_text("{" + rules + "}")
    with pytest.raises(UserInputError, match="name"):
        load_genome_file(tmp_path / "bad name!.json")
