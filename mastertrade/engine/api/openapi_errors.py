"""The error responses each operation documents in ``/openapi.json``, by status.

Every error body is ``ErrorBody`` (``{"error": {"code", "message"}}``, ``errors.py``); what differs by
operation is which statuses it can answer. Most follow from the operation's shape, and ``document`` adds
them to every route of the app:

- every operation: 401 (a TCP listener's bearer token missing or wrong), 500 (an unexpected failure) and
  503 (the daemon's database cannot be used now);
- with parameters or a body: 400 (a value the handler refused, naming it) and 422 (a value outside the
  parameter's or field's schema) — FastAPI's own 422 schema (``HTTPValidationError``) is not what the API
  sends, so it is replaced;
- with a body: 413 (over the body limit) and 415 (not sent as JSON);
- with a path parameter or a ``book`` query: 404 (nothing by that id or name);
- taking what the trading service provides (``deps.AccountDep`` ...): 409 (trading is off or starting).

A route declares what its handler raises beyond those with ``responses=raises(404, 409, ...)``.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from mastertrade.engine.api.schemas import ErrorBody

MEANING: dict[int, str] = {
    400: "Bad input the daemon refused (bad_request, malformed_json, user_input_error...): the message "
    "names the bad value",
    401: "Missing or wrong bearer token (only on a TCP listener started with a token)",
    404: "Nothing by that id or name (not_found)",
    409: "The request was fine but cannot be carried out now (operation_failed, risk_rejected...): "
    "trading is off or starting, a refused state change, a protective stop; or what it adds is there "
    "already (already_exists, naming it)",
    413: "The request body is over the daemon's limit (payload_too_large)",
    415: "The request body was not sent as JSON (unsupported_media_type)",
    422: "A parameter or body field outside its schema (invalid_request, data_validation_error...)",
    500: "An unexpected failure (internal_error); the daemon log has the traceback",
    502: "The exchange refused or failed the request for good (fatal_error, order_rejected...)",
    503: "The exchange is unavailable or rate-limits (retryable_error, venue_unavailable...), or the "
    "daemon's database cannot be used now: down, full or locked (database_unavailable)",
}


def raises(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: the statuses its handler raises beyond those ``document`` infers."""
    return {status: {"model": ErrorBody, "description": MEANING[status]} for status in statuses}


_TRADING_DEPENDENCIES = frozenset({"get_account", "get_goals", "get_trader"})


def _calls(route: APIRoute) -> set[str]:
    names: set[str] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if dependant.call is not None:
            names.add(getattr(dependant.call, "__name__", ""))
        stack.extend(dependant.dependencies)
    return names


def inferred(route: APIRoute) -> set[int]:
    """The error statuses ``route`` can answer because of its shape (see the module docstring)."""
    found = {401, 500, 503}
    dependant = route.dependant
    params = dependant.path_params + dependant.query_params + dependant.header_params
    if params or route.body_field is not None:
        found |= {400, 422}
    if route.body_field is not None:
        found |= {413, 415}
    if dependant.path_params or any(param.alias == "book" for param in dependant.query_params):
        found.add(404)
    if _calls(route) & _TRADING_DEPENDENCIES:
        found.add(409)
    return found


def document(routes: list[APIRoute]) -> None:
    """Add the inferred error responses to each of ``routes`` (before the app's schema is first built);
    adding them again changes nothing."""
    for route in routes:
        for status, response in raises(*sorted(inferred(route))).items():
            route.responses.setdefault(status, response)
