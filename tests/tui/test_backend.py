"""The dashboard's ``Backend`` is what ``DaemonClient`` offers: every method of the protocol exists on the
client (and on the tests' fake) and takes the arguments the dashboard passes, by the same names."""

from __future__ import annotations

import inspect

import pytest

from mastertrade.client import DaemonClient
from mastertrade.tui.backend import Backend
from tests.tui.fakes import FakeBackend

MEMBERS = [
    name for name, value in vars(Backend).items() if not name.startswith("_") and inspect.isfunction(value)
]


def accepts(implementation: object, name: str) -> list[str]:
    """What is wrong with ``implementation.name`` as the protocol's ``name`` (empty: nothing)."""
    wanted = inspect.signature(getattr(Backend, name))
    method = getattr(implementation, name, None)
    if method is None:
        return [f"{name} is missing"]
    offered = inspect.signature(method).parameters
    problems = []
    for parameter in list(wanted.parameters.values())[1:]:
        found = offered.get(parameter.name)
        if found is None:
            problems.append(f"{name} takes no {parameter.name}")
        elif found.kind != parameter.kind:
            problems.append(f"{name}: {parameter.name} is {found.kind.description}")
        elif parameter.default is not inspect.Parameter.empty and found.default != parameter.default:
            problems.append(f"{name}: {parameter.name} defaults to {found.default!r}")
    is_async = inspect.iscoroutinefunction(getattr(Backend, name))
    if is_async != inspect.iscoroutinefunction(method):
        problems.append(f"{name} should {'' if is_async else 'not '}be a coroutine function")
    return problems


def test_the_protocol_is_not_empty() -> None:
    assert {"status", "check_order", "strategies", "change_strategy", "run_job", "logs"} <= set(MEMBERS)


@pytest.mark.parametrize("implementation", [DaemonClient, FakeBackend], ids=["client", "fake"])
def test_the_client_and_the_fake_offer_the_protocol(implementation: type) -> None:
    assert [problem for name in MEMBERS for problem in accepts(implementation, name)] == []


def test_a_missing_or_different_method_is_caught() -> None:
    class Partial:
        async def status(self) -> None: ...

        def logs(self, limit: int = 100) -> None: ...

    assert accepts(Partial, "balance") == ["balance is missing"]
    assert accepts(Partial, "logs") == [
        "logs: limit is positional or keyword",
        "logs should be a coroutine function",
    ]
