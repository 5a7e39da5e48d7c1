"""Events as JSON, alert rules, cron expressions, quiet hours and secret masking: the pure parts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mastertrade.engine.alerts.masking import mask_target, scrub, secrets_of
from mastertrade.engine.alerts.quiet import parse_quiet_hours
from mastertrade.engine.alerts.rules import RULE_EVENT_TYPES, EventRule, Severity, build_rule
from mastertrade.engine.candle import Candle
from mastertrade.engine.events import (
    EVENT_TYPES,
    CircuitBreakerTripped,
    OrderFilled,
    PriceTick,
    ServiceStateChanged,
    StrategyPromoted,
    UnknownEvent,
    matches,
    parse_event,
)
from mastertrade.engine.scheduler.cron import check_cron, next_fire
from mastertrade.errors import UserInputError


def tick(symbol: str, close: float, at: float = 0.0) -> PriceTick:
    return PriceTick(venue="sim", symbol=symbol, timeframe="1h", at=at, candle=Candle(0, 1, 1, 1, close, 1))


def test_events_round_trip_through_json_with_their_type() -> None:
    event = OrderFilled(
        order_id="o1",
        client_order_id="c1",
        symbol="BTC/USDT",
        side="buy",
        amount=0.5,
        price=42_000.0,
        fee=1.5,
    )
    data = event.to_dict()
    assert data["type"] == "order.filled" and data["at"].endswith("Z") and data["price"] == 42_000.0
    back = parse_event(data)
    assert isinstance(back, OrderFilled)
    assert back.to_dict() == data
    assert abs(back.at - event.at) < 1e-5


def test_unknown_event_types_survive_parsing() -> None:
    event = parse_event({"type": "future.thing", "at": "2026-01-01T00:00:00Z", "x": 1})
    assert isinstance(event, UnknownEvent) and event.name == "future.thing" and event.to_dict()["x"] == 1


def test_every_event_type_is_registered_once_with_a_dotted_name() -> None:
    assert "price.tick" in EVENT_TYPES and "risk.circuit_breaker" in EVENT_TYPES
    assert all("." in name or name == "heartbeat" for name in EVENT_TYPES)
    assert all(cls.type == name for name, cls in EVENT_TYPES.items())


@pytest.mark.parametrize(
    ("event_type", "patterns", "selected"),
    [
        ("order.filled", None, True),
        ("order.filled", {"*"}, True),
        ("order.filled", {"order"}, True),
        ("order.filled", {"order.filled"}, True),
        ("order.filled", {"order.placed"}, False),
        ("risk.circuit_breaker", {"risk"}, True),
        ("price.tick", {"order", "candle"}, False),
        ("orders.x", {"order"}, False),
    ],
)
def test_type_patterns(event_type: str, patterns: set[str] | None, selected: bool) -> None:
    assert matches(event_type, frozenset(patterns) if patterns is not None else None) is selected


def test_price_cross_fires_once_per_crossing_in_the_asked_direction() -> None:
    rule = build_rule("price_cross", {"symbol": "BTC/USDT", "level": 100, "direction": "above"}, rule_id=3)
    prices = [95, 99, 101, 102, 98, 103, 99]
    fired = [rule.evaluate(tick("BTC/USDT", p)) for p in prices]
    titles = [c.title for c in fired if c is not None]
    assert titles == ["BTC/USDT crossed above 100", "BTC/USDT crossed above 100"]
    assert fired[2] is not None and fired[2].dedupe_key == "rule3:price_cross:BTC/USDT:100:above"
    assert rule.evaluate(tick("ETH/USDT", 1000)) is None
    both = build_rule("price_cross", {"symbol": "BTC/USDT", "level": 100})
    crossed = [c for p in prices if (c := both.evaluate(tick("BTC/USDT", p)))]
    assert [c.title.split()[2] for c in crossed] == ["above", "below", "above", "below"]
    lower = build_rule("price_cross", {"symbol": "btc/usdt", "level": 100})  # the same market
    assert [c for p in prices if (c := lower.evaluate(tick("BTC/USDT", p)))]


def test_pct_move_fires_when_the_move_inside_the_window_reaches_the_threshold() -> None:
    rule = build_rule("pct_move", {"pct": 5, "window": "1h"})
    assert rule.evaluate(tick("BTC/USDT", 100, at=0)) is None
    assert rule.evaluate(tick("BTC/USDT", 104, at=600)) is None
    up = rule.evaluate(tick("BTC/USDT", 105.5, at=1200))
    assert up is not None and up.title == "BTC/USDT up 5.50% in 1h" and up.severity is Severity.WARNING
    # The window restarts after an alert, and old prices fall out of it.
    assert rule.evaluate(tick("BTC/USDT", 108, at=1300)) is None
    assert rule.evaluate(tick("BTC/USDT", 102.5, at=9000)) is None
    down = rule.evaluate(tick("BTC/USDT", 97, at=9100))
    assert down is not None and "down 5.37%" in down.title


def test_event_kinds_format_alerts_and_can_be_narrowed() -> None:
    rule = EventRule("order_filled")
    fired = rule.evaluate(
        OrderFilled(order_id="o", client_order_id="c", symbol="ETH/USDT", side="sell", amount=2, price=3000)
    )
    assert fired is not None and fired.title == "[paper account] sell 2 ETH/USDT filled at 3000"
    book = rule.evaluate(
        OrderFilled(
            order_id="o",
            client_order_id="c",
            symbol="SOL/USDT",
            side="buy",
            amount=60.28,
            price=150,
            book="strategy:63f7a43f9c",
        )
    )  # a strategy's own paper book never reads as the account
    assert book is not None and book.title == "[paper book 63f7a43f] buy 60.28 SOL/USDT filled at 150"
    live = rule.evaluate(
        OrderFilled(
            order_id="o", client_order_id="c", symbol="BTC/USDT", side="buy", amount=1, price=9, mode="live"
        )
    )
    assert live is not None and live.title == "[live account] buy 1 BTC/USDT filled at 9"
    narrowed = build_rule("order_filled", {"symbol": "BTC/USDT"}, rule_id=1, severity="critical")
    assert (
        narrowed.evaluate(
            OrderFilled(
                order_id="o", client_order_id="c", symbol="ETH/USDT", side="sell", amount=2, price=3000
            )
        )
        is None
    )
    # a symbol in another case is the same market (a rule added through the API as "btc/usdt" was kept
    # and never matched a fill)
    lower = build_rule("order_filled", {"symbol": "btc/usdt"}, rule_id=2)
    fill = OrderFilled(order_id="o", client_order_id="c", symbol="BTC/USDT", side="buy", amount=1, price=9)
    assert lower.evaluate(fill) is not None
    breaker = EventRule("circuit_breaker").evaluate(
        CircuitBreakerTripped(breaker="daily_loss", reason="-5% today")
    )
    assert breaker is not None and breaker.severity is Severity.CRITICAL
    promoted = EventRule("strategy").evaluate(
        StrategyPromoted(strategy_id="7", name="rsi-7", stage_from="paper", stage_to="active")
    )
    assert promoted is not None and promoted.title == "Strategy rsi-7 promoted to active"
    failure = EventRule("service_failure")
    assert failure.evaluate(ServiceStateChanged(service="market-feed", state="running")) is None
    crashed = failure.evaluate(
        ServiceStateChanged(service="market-feed", state="crashed", error="boom", restarts=2, backoff_s=4)
    )
    assert crashed is not None and crashed.dedupe_key == "service:market-feed:crashed"
    assert RULE_EVENT_TYPES >= {"price.tick", "order.filled", "service.state", "strategy.retired"}


def test_a_built_in_rule_and_a_narrower_user_rule_make_one_alert_per_fill() -> None:
    """`mt alerts add order_filled --symbol BTC/USDT` beside the built-in order_filled rule: one alert
    per BTC fill (the user's, which may be more severe), one per other fill (the built-in's)."""
    from mastertrade.engine.alerts.rules import RuleSet

    rules = RuleSet(
        [EventRule("order_filled"), build_rule("order_filled", {"symbol": "BTC/USDT"}, rule_id=4)]
    )

    def fill(symbol: str, order: str) -> OrderFilled:
        return OrderFilled(order_id=order, client_order_id="c", symbol=symbol, side="buy", amount=1, price=9)

    btc = rules.evaluate(fill("BTC/USDT", "o1"))
    assert [c.dedupe_key for c in btc] == ["rule4:order_filled:o1:1@9"]  # the user's, asked for by name
    eth = rules.evaluate(fill("ETH/USDT", "o2"))
    assert [c.dedupe_key for c in eth] == ["order_filled:o2:1@9"]
    louder = RuleSet(
        [build_rule("order_filled", {}, rule_id=5, severity="critical"), EventRule("order_filled")]
    )
    kept = louder.evaluate(fill("BTC/USDT", "o3"))
    assert [(c.dedupe_key, c.severity) for c in kept] == [("rule5:order_filled:o3:1@9", Severity.CRITICAL)]
    crossed = RuleSet([EventRule("circuit_breaker"), EventRule("order_filled")])  # different happenings
    assert len(crossed.evaluate(fill("BTC/USDT", "o4"))) == 1


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("price_jump", {}, "unknown alert rule kind 'price_jump'"),
        ("price_cross", {"level": 5}, "needs --symbol"),
        ("price_cross", {"symbol": "X"}, "needs --level"),
        ("price_cross", {"symbol": "X", "level": "lots"}, "invalid --level 'lots'"),
        ("price_cross", {"symbol": "X", "level": -1}, "must be a positive number"),
        ("price_cross", {"symbol": "X", "level": 1, "direction": "up"}, "invalid --direction 'up'"),
        ("pct_move", {"pct": 2, "window": "soon"}, "invalid --window 'soon'"),
        ("circuit_breaker", {"symbol": "X"}, "takes no --symbol"),
    ],
)
def test_bad_rules_are_refused_naming_the_value(kind: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        build_rule(kind, params)
    with pytest.raises(UserInputError, match="invalid severity 'loud'"):
        build_rule("order_filled", {}, severity="loud")


@pytest.mark.parametrize(
    "expression", ["0 3 * * *", "*/15 * * * *", "0 9-17 * * mon-fri", "@hourly", "5,35 * 1 jan *"]
)
def test_valid_cron_expressions(expression: str) -> None:
    assert check_cron(expression) == expression


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 3 * *", "expected 5 fields"),
        ("61 * * * *", "minute value '61' is outside 0-59"),
        ("* 24 * * *", "hour value '24'"),
        ("*/0 * * * *", "step 0"),
        ("* * * foo *", "month value 'foo'"),
    ],
)
def test_invalid_cron_expressions_name_the_field(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_cron(expression)


def test_next_fire_is_in_utc_and_strictly_after() -> None:
    at_three = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    assert next_fire("0 3 * * *", at_three) == datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    assert next_fire("*/15 * * * *", datetime(2026, 1, 1, 3, 7, tzinfo=UTC)).minute == 15
    assert next_fire("@daily", at_three) == datetime(2026, 1, 2, tzinfo=UTC)


def test_quiet_hours_across_midnight_in_a_time_zone() -> None:
    quiet = parse_quiet_hours("22:00-07:00", "Europe/Berlin")  # UTC+1 in January
    assert quiet.active(datetime(2026, 1, 1, 21, 30, tzinfo=UTC))  # 22:30 in Berlin
    assert not quiet.active(datetime(2026, 1, 1, 20, 30, tzinfo=UTC))
    assert quiet.active(datetime(2026, 1, 2, 5, 59, tzinfo=UTC))
    assert not quiet.active(datetime(2026, 1, 2, 6, 0, tzinfo=UTC))
    assert quiet.ends_after(datetime(2026, 1, 1, 23, 0, tzinfo=UTC)) == datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
    for bad in ("22-07", "25:00-07:00", "07:00-07:00"):
        with pytest.raises(ValueError, match="invalid quiet hours"):
            parse_quiet_hours(bad)


def test_apprise_urls_are_masked_and_their_secrets_scrubbed() -> None:
    assert mask_target("json://127.0.0.1:8080/hook") == "json://127.0.0.1:8080/***"
    assert mask_target("tgram://123456:ABCDEF/987654") == "tgram://***"
    assert mask_target("mailtos://me:hunter22@example.com") == "mailtos://***"
    assert mask_target("jsons://user:pw@host.example/x?token=abc") == "jsons://***@host.example/***?***"
    text = scrub("POST to tgram 123456:ABCDEF failed for chat 987654", ["tgram://123456:ABCDEF/987654"])
    assert "ABCDEF" not in text and "987654" not in text


def test_scrubbing_hides_secrets_but_not_option_names_or_words_that_contain_a_path_word() -> None:
    url = "json://127.0.0.1:8080/fail/T0KEN123?format=markdown&mode=Private9&apikey=ZZSECRETZZ"
    secrets = secrets_of(url)
    assert {"T0KEN123", "ZZSECRETZZ", "Private9", "markdown", "fail"} <= set(secrets)
    assert not {"format", "mode", "apikey"} & set(secrets)  # Apprise's option names, not secrets

    text = scrub("alert #6 failed (mode paper): POST /fail/T0KEN123 refused key ZZSECRETZZ", [url])
    assert text == "alert #6 failed (mode paper): POST /***/*** refused key ***"
    # A letters-only secret is still found right after a percent escape, as in a quoted URL.
    assert scrub("tgram://4242%3AABCdefGHIjkl/7", ["tgram://4242:ABCdefGHIjkl/7"]) == "tgram://***%3A***/7"
    assert scrub("bare value ?SECRETBARE", ["json://h/x?SECRETBARE"]) == "bare value ?***"


def test_a_price_cross_rule_is_named_with_its_direction() -> None:
    """Two rules on one level, one for each direction, were both listed as "BTC/USDT crosses 70000"."""
    names = {
        direction: build_rule(
            "price_cross", {"symbol": "BTC/USDT", "level": 70000, "direction": direction}
        ).name
        for direction in ("above", "below", "any")
    }
    assert names == {
        "above": "BTC/USDT crosses above 70000",
        "below": "BTC/USDT crosses below 70000",
        "any": "BTC/USDT crosses 70000",
    }


def test_a_fill_alert_names_the_asset_each_fee_was_paid_in() -> None:
    rule = EventRule("order_filled")

    def body(**fees: Any) -> str:
        fired = rule.evaluate(
            OrderFilled(
                order_id="o", client_order_id="c", symbol="BTC/USDT", side="buy", amount=1, price=9, **fees
            )
        )
        assert fired is not None
        return fired.body

    assert "fee 0.00234 BNB." in body(fee=0.00234, fee_asset="BNB")  # was "fee 0.00234", read as USDT
    assert "fee 1.17 USDT + 0.00003 BNB." in body(fee=1.17, fee_asset="USDT", more_fees={"BNB": 0.00003})
