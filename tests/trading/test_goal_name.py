"""A goal's name with a control character is refused, by `mt goal add` and by `POST /v1/goals`. A name
with a newline or an escape sequence (pasted, or typed in a script) was stored, and `mt goal list` then
drew it over two rows and sent the escape to the terminal."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import MT
from tests.trading.conftest import TradingEngine

BAD_NAMES = ["two\nlines", "red\x1b[31m", "tab\there", "\x1b", "bell\x07"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_mt_goal_add_refuses_a_control_character(mt: MT, name: str) -> None:
    result = mt("goal", "add", name, "--kind", "return", "--target", "5%")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"mt: error: invalid goal name {name!r}: ")
    assert result.stderr.count("\n") == 1 and "control character" in result.stderr


async def test_the_api_refuses_it_and_keeps_names_in_any_script(trading: TradingEngine) -> None:
    from mastertrade.engine.api.app import create_app

    app = create_app(trading.ctx)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mt") as client:
        for name in [*BAD_NAMES, " ", ""]:
            body = {"name": name, "kind": "return", "target": 0.05}
            refused = await client.post("/v1/goals", json=body)
            assert refused.status_code == 422 and "error" in refused.json(), (name, refused.text)
        for name in ("quarterly profit", "Jahresziel für 2027", "目標", " padded "):
            body = {"name": name, "kind": "return", "target": 0.05}
            added = await client.post("/v1/goals", json=body)
            assert added.status_code == 201, added.text
        names = [goal["name"] for goal in (await client.get("/v1/goals")).json()["goals"]]
        assert not any(name in names for name in BAD_NAMES)
