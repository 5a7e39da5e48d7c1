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


@pytest.fixture
def not_a_scheduler(request: pytest.FixtureRequest) -> Iterator[str]:
    """A loopback address where another service listens: it sends a banner on each connection (as sshd
    does) or, parametrized with "silent", accepts and says nothing (as a web server waiting for a request)."""
    import threading

    banner = b"" if getattr(request, "param", "banner") == "silent" else b"SSH-2.0-OpenSSH_9.6\r\n"
    accepted: list[socket.socket] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # the server closed: the test is over
                return
            accepted.append(conn)
            if banner:
                conn.sendall(banner)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        thread.join(5)
        for conn in accepted:
            conn.close()


def test_another_service_on_the_port_is_named_in_one_line_not_a_traceback(not_a_scheduler: str) -> None:
    """Was: dask's client read the banner's first bytes as a message length, and `mt generate --executor
    dask --scheduler tcp://HOST:22` ended after 40 s in a traceback about allocating 2.82 EiB."""
    pytest.importorskip("distributed")
    from mastertrade.engine.generator.cluster import CONNECT_TIMEOUT_S, Session

    started = time.monotonic()
    with pytest.raises(OperationFailed, match=f"no dask scheduler at {not_a_scheduler}: .*another protocol"):
        Session(not_a_scheduler, None)
    assert time.monotonic() - started < CONNECT_TIMEOUT_S / 2


@pytest.mark.parametrize("not_a_scheduler", ["silent"], indirect=True)
def test_a_service_that_says_nothing_fails_within_the_timeout(not_a_scheduler: str) -> None:
    """Was: dask's client waits for the scheduler's greeting without a time limit, so a scheduler address
    on the dashboard's port (a web server waiting for a request) hung the run for good."""
    pytest.importorskip("distributed")
    from mastertrade.engine.generator.cluster_address import handshake

    started = time.monotonic()
    with pytest.raises(OperationFailed, match=f"no dask scheduler at {not_a_scheduler}: .*within 0.5 s"):
        handshake(not_a_scheduler, timeout=0.5)
    assert time.monotonic() - started < 5
