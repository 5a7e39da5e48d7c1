"""Property-based test of the socket API from its own OpenAPI schema (schemathesis): whatever a client
sends, the daemon never answers a 5xx, and what it answers is what the schema promises: a status the
operation documents, the documented content type, and a body that matches the response's schema (the
JSON error shape for every 4xx, the enums of fixed vocabularies, the types of every field).

The app runs in-process over ASGI against a daemon with the trading service on a fake venue. Cases are
generated per operation with a bounded number of examples (keeps the test to seconds), then sent in the
daemon's own event loop. Operations left out: the event stream (it never ends), stopping the daemon,
running jobs (they start the nightly work), and sending a test alert (it delivers to the targets).
"""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.trading.conftest import TradingEngine

EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
LEFT_OUT = {
    ("GET", "/v1/events"),
    ("POST", "/v1/daemon/stop"),
    ("POST", "/v1/jobs/{name}/run"),
    ("POST", "/v1/alerts/test"),
}


def _cases(operation: Any) -> list[Any]:
    found: list[Any] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found


async def test_every_answer_conforms_to_the_schema_and_none_is_5xx(trading: TradingEngine) -> None:
    from mastertrade.engine.api.app import create_app

    app = create_app(trading.ctx)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    checked = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mt") as client:
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in LEFT_OUT:
                continue
            for case in _cases(operation):
                kwargs = case.as_transport_kwargs(base_url="http://mt")
                request = {
                    key: kwargs[key] for key in ("method", "url", "params", "headers") if key in kwargs
                }
                if "json" in kwargs:
                    request["json"] = kwargs["json"]
                elif "data" in kwargs or "content" in kwargs:
                    request["content"] = kwargs.get("content", kwargs.get("data"))
                response = await client.request(**request)
                checked += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except (AssertionError, BaseExceptionGroup) as exc:
                    failures.append(
                        f"{request['method']} {request['url']} {kwargs.get('json')!r:.200}: "
                        f"{response.status_code} {response.text[:300]}\n  {str(exc)[:600]}"
                    )
    assert checked > 100
    assert failures == [], "\n".join(failures)


async def test_goal_targets_that_would_overflow_are_refused_and_the_largest_allowed_work(
    trading: TradingEngine,
) -> None:
    from mastertrade.engine.api.app import create_app

    app = create_app(trading.ctx)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mt") as client:
        for target in (1e308, 1e13):
            refused = await client.post(
                "/v1/goals", json={"name": "huge", "kind": "profit", "target": target}
            )
            assert refused.status_code == 422 and "error" in refused.json()
        for kind in ("return", "profit", "value"):
            body = {"name": f"big {kind}", "kind": kind, "target": 1e12}
            assert (await client.post("/v1/goals", json=body)).status_code == 201
        # a field the goal's kind cannot keep is refused by name, not dropped
        for body, named in (
            ({"name": "v", "kind": "value", "target": 1e6, "period": "day"}, "'day'"),
            ({"name": "p", "kind": "profit", "target": 5, "deadline": "2030-01-01"}, "'2030-01-01'"),
        ):
            refused = await client.post("/v1/goals", json=body)
            assert refused.status_code == 400 and named in refused.json()["error"]["message"], refused.text
        report = await client.get("/v1/goals")
        assert report.status_code == 200, report.text
