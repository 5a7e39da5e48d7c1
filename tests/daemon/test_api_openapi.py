"""The OpenAPI document says what the API answers: each operation's error statuses with the JSON error
shape (never FastAPI's own validation-error schema, which the API does not send), and enums for the fields
with a fixed vocabulary, kept equal to the engine's own vocabularies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest

from mastertrade.config import Settings
from mastertrade.engine.alerts.rule_base import Severity
from mastertrade.engine.api import schemas, schemas_strategies, schemas_trading
from mastertrade.engine.api.app import create_app
from mastertrade.engine.collectors.health import SourceState
from mastertrade.engine.execution.protection_store import OPEN_STATES
from mastertrade.engine.generator.states import State
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.orders import OrderType, Side
from mastertrade.engine.sizing.goals import GoalKind, Period
from mastertrade.errors import UserInputError
from tests.daemon.conftest import Engine


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


def _document(engine: Engine) -> dict[str, Any]:
    return create_app(engine.ctx).openapi()


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def _enum(prop: dict[str, Any]) -> list[str]:
    for option in prop.get("anyOf", [prop]):
        if "enum" in option:
            return list(option["enum"])
    raise AssertionError(f"no enum in {prop}")


async def test_every_operation_documents_its_errors_with_the_error_shape(engine: Engine) -> None:
    document = _document(engine)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "default" not in responses, (method, path)  # each status is named
            assert {"401", "500"} <= set(responses), (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert response["content"] == error, (method, path, status)
    orders = document["paths"]["/v1/orders"]["post"]["responses"]
    assert {"400", "404", "409", "413", "415", "422", "502", "503"} <= set(orders)
    cancel = document["paths"]["/v1/orders/{order_id}/cancel"]["post"]["responses"]
    assert {"400", "404", "409", "422"} <= set(cancel)
    assert {"404", "409", "422"} <= set(document["paths"]["/v1/goals/{goal_id}"]["delete"]["responses"])
    assert "404" in document["paths"]["/v1/candles"]["get"]["responses"]
    assert "409" not in document["paths"]["/v1/status"]["get"]["responses"]


async def test_fields_of_a_fixed_vocabulary_are_enums(engine: Engine) -> None:
    document = _document(engine)
    order = _schema(document, "OrderInfo")["properties"]
    assert _enum(order["side"]) == ["buy", "sell"]
    assert _enum(order["type"]) == ["market", "limit", "stop"]
    assert "stop_loss" in _enum(order["role"]) and "entry" in _enum(order["role"])
    assert _enum(order["mode"]) == ["paper", "live"]
    assert "partially_filled" in _enum(_schema(document, "OrderState"))
    strategy = _schema(document, "StrategySummary")["properties"]
    assert _enum(strategy["state"]) == [state.value for state in State]
    assert strategy["timeframe"]["pattern"] == schemas.TIMEFRAME_PATTERN
    assert _enum(_schema(document, "TransitionInfo")["properties"]["to"]) == [state.value for state in State]
    assert _enum(_schema(document, "GoalInfo")["properties"]["period"]) == [period.value for period in Period]
    assert _enum(_schema(document, "AlertInfo")["properties"]["severity"]) == ["info", "warning", "critical"]


def test_the_api_vocabularies_are_the_engines() -> None:
    """A value the engine gains is a value the API must be allowed to answer (else a 500)."""
    assert set(get_args(schemas_trading.Side)) == {side.value for side in Side}
    assert set(get_args(schemas_trading.OrderKind)) == {kind.value for kind in OrderType}
    assert set(get_args(schemas_trading.GoalKindName)) == {kind.value for kind in GoalKind}
    assert set(get_args(schemas_trading.PeriodName)) == {period.value for period in Period}
    assert set(get_args(schemas_strategies.StrategyState)) == {state.value for state in State}
    assert set(get_args(schemas.Severity)) == {severity.value for severity in Severity}
    assert set(get_args(schemas_trading.ProtectionInfo.model_fields["state"].annotation)) == {
        state.value for state in OPEN_STATES
    }
    source_state = schemas.SourceInfo.model_fields["state"].annotation
    assert set(get_args(source_state)) == {state.value for state in SourceState}
    for timeframe in ("1m", "15m", "4h", "1d", "1w", "0m", "1x", "m", "1h "):
        try:
            timeframe_ms(timeframe)
            valid = True
        except UserInputError:
            valid = False
        assert bool(re.fullmatch(schemas.TIMEFRAME_PATTERN, timeframe)) == valid, timeframe


def _readme_endpoints() -> set[str]:
    """The paths README's "Endpoints:" paragraph names, expanded from its shorthand (`/v1/alerts` (+
    `rules`, `rules/{id}`), `/{id}/activate|pause`), each path parameter written ``{}``."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    paragraph = readme.split("\nEndpoints: ", 1)[1].split("\n\n", 1)[0]
    named: set[str] = set()
    base = ""
    depth = 0
    for part in re.split(r"(`[^`]*`|\(\+|\))", paragraph):
        if part == "(+":
            depth += 1
        elif part == ")" and depth:
            depth -= 1
        elif part.startswith("`") and part.endswith("`"):
            text = part.strip("`").split("?")[0]
            if not text or " " in text:  # a query (`?types=`) or a command, not a path
                continue
            if not depth:
                if not text.startswith("/"):
                    continue
                base, suffixes = "", [text]
            else:
                suffixes = [text if text.startswith("/") else f"/{text}"]
            head, _, last = suffixes[0].rpartition("/")
            for choice in last.split("|"):
                path = re.sub(r"\{[^}]*\}", "{}", f"{base}{head}/{choice}")
                named.add(path)
                if not depth:
                    base = path
    return named


async def test_readme_names_every_endpoint(engine: Engine) -> None:
    """README's list of endpoints is the API's: /v1/fills and /v1/alerts/report were served, not named."""
    served = {re.sub(r"\{[^}]*\}", "{}", path) for path in _document(engine)["paths"]}
    named = _readme_endpoints() - {"/openapi.json"}  # the document itself, not one of its paths
    assert "/v1/strategies/{}/paper" in named and "/v1/orders/by-client-id/{}" in named
    assert served - named == set(), "served but not in README"
    assert named - served == set(), "in README but not served"
