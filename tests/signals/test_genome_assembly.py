"""Models assembled from validated parts (``condition_of``, ``group_of``, ``with_rules``) are the models
validation gives: equal field for field, in their JSON and in which fields count as set, and refused
exactly when validation refuses them."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from pydantic import BaseModel

from mastertrade.engine.signals.genome import (
    CONDITIONS,
    MAX_CONDITIONS,
    MAX_DEPTH,
    Genome,
    Rule,
    condition_of,
    group_of,
    parse_genome,
    parse_rule,
    parse_term,
    term_and_document,
    with_rules,
)
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.errors import InvalidGenome

CLOSE = {"price": "close"}
RSI = {"ind": "rsi", "length": 14}
SMA = {"ind": "sma", "length": 20}


def assert_same(ours: Any, validated: Any, where: str = "") -> None:
    """Equal, of the same types all the way down, with the same fields set and nothing extra or private."""
    assert type(ours) is type(validated), where
    if isinstance(validated, BaseModel):
        assert ours.model_fields_set == validated.model_fields_set, where
        assert ours.__pydantic_extra__ == validated.__pydantic_extra__, where
        assert ours.__pydantic_private__ == validated.__pydantic_private__, where
        assert list(ours.__dict__) == list(validated.__dict__), where
        for field in type(validated).model_fields:
            assert_same(getattr(ours, field), getattr(validated, field), f"{where}.{field}")
        assert json.dumps(ours.model_dump(mode="json")) == json.dumps(validated.model_dump(mode="json"))
        assert ours == validated and hash(ours) == hash(validated)
    elif isinstance(validated, tuple):
        assert len(ours) == len(validated), where
        for index, (mine, theirs) in enumerate(zip(ours, validated, strict=True)):
            assert_same(mine, theirs, f"{where}[{index}]")
    else:
        assert repr(ours) == repr(validated), where  # 0.0 and -0.0, 1 and 1.0 told apart


def outcome(make: Any) -> Any:
    try:
        return make()
    except InvalidGenome:
        return "refused"


def assemble_rule(rule: Rule) -> Rule:
    """``rule`` rebuilt bottom up with the assembling functions."""
    if hasattr(rule, "children"):
        key = "all" if "all" in type(rule).model_fields else "any"
        return group_of(key, tuple(assemble_rule(child) for child in rule.children))
    return condition_of(rule.OP, *rule.operands)


def test_random_genomes_rebuilt_from_their_parts_equal_the_validated_ones() -> None:
    rng = random.Random(5)
    for index in range(300):
        genome = random_genome(rng, name=f"g{index}", symbol="BTC/USDT", timeframe="1h")
        data = genome.to_dict()
        shell = parse_genome(
            {
                **data,
                "entry": CLOSE_ABOVE_SMA,
                "exit": None if data["exit"] is None else CLOSE_ABOVE_SMA,
            }
        )
        entry = assemble_rule(genome.entry)
        exit = None if genome.exit is None else assemble_rule(genome.exit)
        assert_same(with_rules(shell, name=genome.name, entry=entry, exit=exit), parse_genome(data))
        assert_same(entry, parse_rule(data["entry"]), "entry")


CLOSE_ABOVE_SMA = {">": [CLOSE, SMA]}


@pytest.mark.parametrize(
    ("op", "left", "right"),
    [
        (">", CLOSE, SMA),
        ("crosses_below", RSI, 30),
        ("<", 30, RSI),
        (">", 30, 40),  # two constants
        (">", CLOSE, CLOSE),  # a term compared with itself
        ("crosses_above", SMA, {"ind": "sma", "length": 20.0}),  # the same term, spelt otherwise
        ("<", {"price": "close", "lag": 2}, CLOSE),
        ("<", -0.0, RSI),
    ],
)
def test_a_condition_of_validated_terms_is_the_validated_condition(op: str, left: Any, right: Any) -> None:
    expected = outcome(lambda: parse_rule({op: [left, right]}))
    ours = outcome(lambda: condition_of(op, parse_term(left), parse_term(right)))
    if expected == "refused":
        assert ours == "refused"
    else:
        assert_same(ours, expected)


def test_groups_are_refused_when_empty_or_too_long_as_validation_refuses_them() -> None:
    condition = parse_rule({">": [CLOSE, SMA]})
    for count in (0, 1, 2, MAX_CONDITIONS, MAX_CONDITIONS + 1):
        for key in ("all", "any"):
            children = (condition,) * count
            expected = outcome(lambda: parse_rule({key: children}))  # noqa: B023
            ours = outcome(lambda: group_of(key, children))  # noqa: B023
            if expected == "refused":
                assert ours == "refused", (key, count)
            else:
                assert_same(ours, expected)


def nested(levels: int) -> dict[str, Any]:
    rule: dict[str, Any] = {">": [CLOSE, SMA]}
    for _ in range(levels):
        rule = {"all": [rule, {"<": [RSI, 30]}]}
    return rule


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"name": "not a name!"},
        {"name": ""},
        {"entry": nested(MAX_DEPTH)},
        {"entry": nested(MAX_DEPTH + 1)},  # too deep
        {"exit": {"any": [{"<": [RSI, float(i)]} for i in range(MAX_CONDITIONS)]}},
        {"exit": {"all": [{"any": [{"<": [RSI, float(i)]} for i in range(20)]}, nested(3)]}},  # too many
        {"exit": None},  # no exit and no stop
        {"exit": None, "trailing_stop": 0.05},
        {"exit": None, "take_profit": 0.2, "size": 0.5},
    ],
)
def test_a_genome_of_validated_rules_is_the_validated_genome(changes: dict[str, Any]) -> None:
    data = {"name": "g", "symbol": "ETH/USDT", "timeframe": "4h", "entry": nested(1), "exit": nested(0)}
    data.update(changes)
    expected = outcome(lambda: parse_genome(data))
    entry = parse_rule(data["entry"])
    exit = None if data["exit"] is None else parse_rule(data["exit"])
    has_stop = any(data.get(key) is not None for key in ("take_profit", "trailing_stop"))
    shell = parse_genome(
        {**data, "name": "g", "entry": CLOSE_ABOVE_SMA, "exit": None if has_stop else CLOSE_ABOVE_SMA}
    )
    ours = outcome(lambda: with_rules(shell, name=data["name"], entry=entry, exit=exit))
    if expected == "refused":
        assert ours == "refused"
    else:
        assert_same(ours, expected)
        assert isinstance(ours, Genome)


def test_every_operator_assembles() -> None:
    for op in CONDITIONS:
        assert_same(condition_of(op, parse_term(RSI), parse_term(70)), parse_rule({op: [RSI, 70]}))
    with pytest.raises(InvalidGenome):
        condition_of("=", parse_term(RSI), parse_term(70))


TERMS = [
    RSI,
    SMA,
    {"ind": "rsi"},  # the default filled in
    {"ind": "rsi", "length": 14.0},  # an integral float becomes an int
    {"ind": "macd", "fast": 12, "slow": 26, "signal": 9, "output": "hist", "lag": 2},
    {"ind": "macd", "output": "signal", "lag": 0},
    {"ind": "bbands", "length": 20, "std": 2, "output": "upper"},  # an int where a float is expected
    {"ind": "bbands", "length": 20, "std": -0.0 + 2.5, "output": "lower", "lag": 500},
    {"feature": "fear_greed"},
    {"feature": "sentiment", "symbol": "BTC", "lag": 3},
    {"lag": 1, "ind": "sma", "length": 10},  # keys in another order
    CLOSE,
    {"price": "close", "lag": 2},
    30,
    -0.0,
    # what the validators refuse, and what the fast path leaves to them
    {"ind": "rsi", "length": 14, "lag": 2.0},  # a float lag: validated, not taken as it is
    {"ind": "rsi", "length": 14, "lag": True},
    {"ind": "rsi", "length": 14, "lag": 501},
    {"ind": "rsi", "length": 14, "lag": -1},
    {"ind": "rsi", "length": 14, "lag": "1"},
    {"ind": "rsi", "length": 1},  # below the range
    {"ind": "rsi", "length": True},
    {"ind": "rsi", "length": float("nan")},
    {"ind": "rsi", "length": 14, "colour": 1},  # an unknown parameter
    {"ind": "macd", "fast": 12, "slow": 26, "signal": 9},  # no output
    {"ind": "rsi", "length": 14, "output": "hist"},  # an output a single-output indicator lacks
    {"ind": "rsi", "length": 14, "output": 3},
    {"ind": "nope"},
    {"ind": 3},
    {"ind": "rsi", "feature": "fear_greed"},  # two kinds: the first the union checks decides
    {"feature": "fear_greed", "ind": "rsi"},
    {"feature": "nope"},
    {"price": "close", "ind": "rsi"},
    {"const": 30},
    {},
    [RSI],
    "rsi",
    True,
    None,
]


@pytest.mark.parametrize("data", TERMS, ids=[json.dumps(term) for term in TERMS])
def test_a_term_with_its_document_is_the_validated_term_and_its_dump(data: Any) -> None:
    for _ in range(2):  # the second time its flat values are remembered
        try:
            expected = parse_term(data)
        except InvalidGenome as exc:
            with pytest.raises(InvalidGenome) as raised:
                term_and_document(data)
            assert str(raised.value) == str(exc)
            continue
        model, document = term_and_document(data)
        assert_same(model, expected)
        assert json.dumps(document) == json.dumps(expected.model_dump(mode="json"))
        assert repr(document) == repr(expected.model_dump(mode="json"))  # types too (1 and 1.0)
