"""The same alert rule cannot be added twice: `mt alerts add price_cross --symbol BTC/USDT --level 70000`
run twice stored and listed two rules that watch the same thing. A rule that alerts on exactly what a rule
in force alerts on (same kind, parameters as the rule reads them, and severity; a name alone changes
nothing that is sent) is refused: 409 `already_exists` naming the rule there, `mt alerts add` exit 2,
nothing stored. One that differs in anything that changes what is sent is added."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mastertrade.config import Settings
from mastertrade.engine.api.app import create_app
from tests.conftest import MT
from tests.daemon.conftest import Engine, ThreadedDaemon

CROSS = {"kind": "price_cross", "symbol": "BTC/USDT", "level": 70000}


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


def asgi(engine: Engine) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(engine.ctx)), base_url="http://mt")


async def user_rules(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [rule for rule in (await http.get("/v1/alerts/rules")).json() if not rule["builtin"]]


@pytest.mark.parametrize(
    "again",
    [
        CROSS,
        {**CROSS, "direction": "any"},  # the default, said
        {**CROSS, "level": 70000.0},
        {**CROSS, "symbol": "btc/usdt"},  # the market it names
        {**CROSS, "name": "another name"},  # the same alerts under another name
    ],
)
async def test_an_identical_rule_is_refused_naming_the_one_there(
    engine: Engine, again: dict[str, Any]
) -> None:
    async with asgi(engine) as http:
        first = await http.post("/v1/alerts/rules", json=CROSS)
        assert first.status_code == 201, first.text
        rule = first.json()
        refused = await http.post("/v1/alerts/rules", json=again)
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["code"] == "already_exists"
        assert error["message"].startswith(
            f"alert rule {rule['id']} ('BTC/USDT crosses 70000') already alerts on exactly this"
        )
        assert f"mt alerts remove {rule['id']}" in error["message"]
        assert await user_rules(http) == [rule]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (CROSS, {**CROSS, "level": 70001}),
        (CROSS, {**CROSS, "direction": "above"}),
        (CROSS, {**CROSS, "symbol": "ETH/USDT"}),
        (CROSS, {**CROSS, "severity": "critical"}),  # says it louder: not the same alert
        (
            {"kind": "pct_move", "symbol": "BTC/USDT", "pct": 5, "window": "1h"},
            {"kind": "pct_move", "symbol": "BTC/USDT", "pct": 5, "window": "2h"},
        ),
        ({"kind": "pct_move", "pct": 5}, {"kind": "pct_move", "symbol": "BTC/USDT", "pct": 5}),
        ({"kind": "order_filled", "symbol": "BTC/USDT"}, {"kind": "order_filled", "symbol": "ETH/USDT"}),
    ],
)
async def test_a_rule_that_differs_is_added(
    engine: Engine, first: dict[str, Any], second: dict[str, Any]
) -> None:
    async with asgi(engine) as http:
        for body in (first, second):
            added = await http.post("/v1/alerts/rules", json=body)
            assert added.status_code == 201, added.text
        assert len(await user_rules(http)) == 2


async def test_a_window_is_compared_as_the_rule_reads_it(engine: Engine) -> None:
    async with asgi(engine) as http:
        body = {"kind": "pct_move", "symbol": "BTC/USDT", "pct": 5}
        assert (await http.post("/v1/alerts/rules", json={**body, "window": "1h"})).status_code == 201
        for window in ("60m", "3600", "3600s"):
            refused = await http.post("/v1/alerts/rules", json={**body, "window": window})
            assert refused.status_code == 409, (window, refused.text)
        assert len(await user_rules(http)) == 1


async def test_a_rule_that_repeats_a_built_in_one_is_refused(engine: Engine) -> None:
    async with asgi(engine) as http:
        refused = await http.post("/v1/alerts/rules", json={"kind": "order_filled"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["message"].startswith(
            "the built-in rule order_filled ([alerts] events) already alerts on exactly this"
        )
        assert await user_rules(http) == []


async def test_two_identical_rules_sent_at_once_store_one(engine: Engine) -> None:
    async with asgi(engine) as http:
        answers = await asyncio.gather(*(http.post("/v1/alerts/rules", json=CROSS) for _ in range(4)))
        assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409]
        assert len(await user_rules(http)) == 1


async def test_a_removed_rule_can_be_added_again(engine: Engine) -> None:
    async with asgi(engine) as http:
        rule = (await http.post("/v1/alerts/rules", json=CROSS)).json()
        assert (await http.delete(f"/v1/alerts/rules/{rule['id']}")).status_code == 200
        again = await http.post("/v1/alerts/rules", json=CROSS)
        assert again.status_code == 201, again.text


def test_mt_alerts_add_twice_is_exit_2_naming_the_rule(mt: MT, threaded_daemon: ThreadedDaemon) -> None:
    args = ("alerts", "add", "pct_move", "--symbol", "BTC/USDT", "--pct", "5", "--window", "1d")
    rule = mt.json(*args)
    again = mt(*args)
    assert again.exit_code == 2, again.output
    assert again.stderr.startswith(
        f"mt: error: alert rule {rule['id']} ('BTC/USDT moves 5% in 1d') already alerts on exactly this"
    )
    assert again.stderr.count("\n") == 1 and again.stdout == ""
    assert [r["id"] for r in mt.json("alerts", "list")["rules"] if not r["builtin"]] == [rule["id"]]


async def test_an_identical_signal_rule_is_refused_however_its_condition_is_written(engine: Engine) -> None:
    # Each signal rule raises its own alert when its condition becomes true: two identical ones sent
    # every such alert twice.
    fear = {"<": [{"feature": "fear_greed"}, 20]}
    async with asgi(engine) as http:
        body = {"kind": "signal", "symbol": "BTC/USDT", "when": fear}
        assert (await http.post("/v1/alerts/rules", json=body)).status_code == 201
        for again in (
            body,
            {**body, "when": '{"<": [{"feature": "fear_greed"}, 20.0]}'},
            {**body, "timeframe": "1h"},  # the one the daemon streams, the default
        ):
            refused = await http.post("/v1/alerts/rules", json=again)
            assert refused.status_code == 409, (again, refused.text)
        other = {**body, "when": {"<": [{"feature": "fear_greed"}, 25]}}
        assert (await http.post("/v1/alerts/rules", json=other)).status_code == 201
        assert len(await user_rules(http)) == 2
