"""A wrong scheduler address fails at once, in one line naming it: a port out of range is bad input, and
an address where nothing listens is refused before dask's client would retry it until its timeout."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from mastertrade.engine.generator.cluster_address import check_address, probe
from mastertrade.errors import OperationFailed, UserInputError


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment to get a free one, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("port", ["0", "65536", "99999"])
def test_a_port_out_of_range_is_named(port: str) -> None:
    with pytest.raises(UserInputError, match=f"port {port} is not in 1..65535"):
        check_address(f"tcp://127.0.0.1:{port}")


def test_nothing_listening_fails_at_once_naming_the_address(closed_port: int) -> None:
    address = f"tcp://127.0.0.1:{closed_port}"
    with pytest.raises(OperationFailed, match=f"cannot reach the dask scheduler at {address}: .*refused"):
        probe(address)


def test_a_listening_address_passes_the_probe(listening_port: int) -> None:
    probe(f"tcp://127.0.0.1:{listening_port}")
    probe("inproc://somewhere:1")  # not a TCP address: left to dask


def test_a_session_to_a_closed_port_fails_before_the_client_timeout(closed_port: int) -> None:
    pytest.importorskip("distributed")
    from mastertrade.engine.generator.cluster import CONNECT_TIMEOUT_S, Session

    started = time.monotonic()
    with pytest.raises(OperationFailed, match="refused"):
        Session(f"tcp://127.0.0.1:{closed_port}", None)
    assert time.monotonic() - started < CONNECT_TIMEOUT_S / 2
