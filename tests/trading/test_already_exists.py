"""Adding what is there already answers 409 `already_exists` naming it, as a duplicate alert rule does: a
goal whose name is taken and a client order id that is another order were 400 `user_input_error`. The
CLI still refuses with exit 2 and one line naming the goal there."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from mastertrade.config import Settings
from mastertrade.errors import AlreadyExists
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading, TradingEngine, trading_settings

BTC = "BTC/USDT"


@pytest.fixture
def settings(mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    return trading_settings()


async def test_a_taken_goal_name_is_409_already_exists_naming_the_goal(raw: httpx.AsyncClient) -> None:
    body = {"name": "weekly", "kind": "profit", "target": 500, "period": "week"}
    added = await raw.post("/v1/goals", json=body)
    assert added.status_code == 201, added.text
    goals = (await raw.get("/v1/goals")).json()["goals"]
    again = await raw.post("/v1/goals", json={**body, "target": 5})
    assert again.status_code == 409, again.text
    assert again.json()["error"] == {
        "code": "already_exists",
        "message": f"a goal named 'weekly' exists already: goal {added.json()['id']} (500.00 profit per "
        "week); remove it first or choose another name",
    }
    assert (await raw.get("/v1/goals")).json()["goals"] == goals
    documented = (await raw.get("/openapi.json")).json()["paths"]["/v1/goals"]["post"]["responses"]
    assert "already_exists" in documented["409"]["description"]


async def test_a_client_order_id_of_another_order_is_409_already_exists(
    trading: TradingEngine, raw: httpx.AsyncClient
) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    order = {
        "symbol": BTC,
        "side": "buy",
        "amount": 2,
        "type": "limit",
        "price": 50,
        "client_order_id": "mine-1",
    }
    first = await raw.post("/v1/orders", json=order)
    assert first.status_code == 201, first.text
    again = await raw.post("/v1/orders", json={**order, "price": 51})
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "already_exists"
    assert again.json()["error"]["message"].startswith("client order id 'mine-1' is already order ")
    assert len((await raw.get("/v1/orders")).json()) == 1


def test_mt_goal_add_of_a_taken_name_exits_2_naming_the_goal(mt: MT, daemon: ThreadedTrading) -> None:
    first = mt.json("goal", "add", "weekly", "--kind", "profit", "--target", "500", "--period", "week")
    again = mt("goal", "add", "weekly", "--kind", "return", "--target", "5%")
    assert again.exit_code == 2, again.output
    assert again.stderr == (
        f"mt: error: a goal named 'weekly' exists already: goal {first['id']} (500.00 profit per week); "
        "remove it first or choose another name\n"
    )
    assert [goal["name"] for goal in mt.json("goal", "list")].count("weekly") == 1


async def test_two_goals_of_one_name_added_at_once_store_one(database: Any) -> None:
    """The name was checked, then the goal written, with awaits between: two requests at once both
    passed the check and both were stored. One is stored now, the other refused naming it."""
    from mastertrade.engine.sizing.goals import Goal, GoalKind, Period
    from mastertrade.engine.sizing.store import GoalStore

    store = GoalStore(database)
    goal = Goal("weekly", GoalKind.PROFIT, 500, Period.WEEK)
    results = await asyncio.gather(store.add(goal), store.add(goal), return_exceptions=True)
    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], AlreadyExists), results
    assert [g.name for g in await store.list()].count("weekly") == 1


async def test_the_default_goals_are_made_once_though_asked_for_twice_at_once(database: Any) -> None:
    from mastertrade.engine.sizing.store import GoalStore

    store = GoalStore(database)
    first, second = await asyncio.gather(store.list(), store.list())
    names = [goal.name for goal in await store.list()]
    assert names == ["monthly return", "monthly profit", "portfolio value"], names
    assert first == second
