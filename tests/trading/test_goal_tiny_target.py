"""A goal target too small to show is refused, by `mt goal add` and by `POST /v1/goals`. `mt goal add x
--kind return --target 1e-300` was stored as "0.00% return per month", reached at once, and its line in
the goal factor's reasons printed a percentage of some 300 digits (and lowered the factor "to protect
gains"). The smallest target is 0.01% for a return and 0.01 for an amount, the least either reads as."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import MT
from tests.trading.conftest import TradingEngine


@pytest.mark.parametrize(
    ("kind", "target"), [("return", "1e-300"), ("return", "0.001%"), ("profit", "0.001"), ("value", "1e-6")]
)
def test_mt_goal_add_refuses_a_target_that_reads_as_zero(mt: MT, kind: str, target: str) -> None:
    result = mt("goal", "add", "tiny", "--kind", kind, "--target", target)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"mt: error: invalid --target {target!r}: below the smallest ")
    assert result.stderr.count("\n") == 1


async def test_the_api_refuses_it_and_takes_the_smallest(trading: TradingEngine) -> None:
    from mastertrade.engine.api.app import create_app

    app = create_app(trading.ctx)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mt") as client:
        for kind, target in (("return", 1e-300), ("profit", 0.001), ("value", 1e-6)):
            body = {"name": f"tiny {kind}", "kind": kind, "target": target}
            refused = await client.post("/v1/goals", json=body)
            assert refused.status_code == 422, refused.text
            assert "target" in refused.json()["error"]["message"]
        for kind, target in (("return", 0.0001), ("profit", 0.01)):
            body = {"name": f"least {kind}", "kind": kind, "target": target}
            added = await client.post("/v1/goals", json=body)
            assert added.status_code == 201, added.text
