"""What the dask executor needs before anything heavy is imported: the extra, and a scheduler address.

Kept apart from :mod:`.cluster` so the settings and the CLI can check both without importing numpy,
pandas or distributed (:func:`handshake`, which speaks dask's protocol, imports it when called)."""

from __future__ import annotations

from typing import Any

from mastertrade.errors import OperationFailed, UserInputError

INSTALL_HINT = "the dask executor needs the cluster extra: pip install 'mastertrade[cluster]'"
SCHEMES = ("tcp", "tls", "ucx", "inproc")


def require_dask() -> None:
    """Raise ``UserInputError`` (exit 2) saying how to install the extra when ``distributed`` is missing."""
    import importlib.util

    if importlib.util.find_spec("distributed") is None or importlib.util.find_spec("dask") is None:
        raise UserInputError(INSTALL_HINT)


def check_address(scheduler: str) -> str:
    """A scheduler address such as ``tcp://10.0.0.5:8786`` (``UserInputError`` naming a bad one)."""
    scheme, sep, rest = scheduler.partition("://")
    host, colon, port = rest.rpartition(":")
    if not sep or scheme not in SCHEMES or not colon or not host or not port.isdigit():
        raise UserInputError(f"invalid scheduler address {scheduler!r}: expected tcp://HOST:PORT")
    if not 0 < int(port) < 65536:
        raise UserInputError(f"invalid scheduler address {scheduler!r}: port {port} is not in 1..65535")
    return scheduler


PROBE_TIMEOUT_S = 5.0


def probe(scheduler: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Open and close a plain TCP connection to a ``tcp://`` or ``tls://`` scheduler address, raising
    ``OperationFailed`` with the reason when nothing listens there: dask's client keeps retrying a refused
    or unresolvable address until its own timeout, so a typo would otherwise cost that wait."""
    import socket

    scheme, _, rest = check_address(scheduler).partition("://")
    if scheme not in ("tcp", "tls"):
        return
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")  # an IPv6 literal: tcp://[::1]:8786
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except socket.gaierror as exc:
        raise OperationFailed(
            f"cannot reach the dask scheduler at {scheduler}: unknown host {host!r} ({exc.strerror})"
        ) from None
    except TimeoutError:
        raise OperationFailed(
            f"cannot reach the dask scheduler at {scheduler}: no answer within {timeout:g} s"
        ) from None
    except OSError as exc:
        raise OperationFailed(
            f"cannot reach the dask scheduler at {scheduler}: {exc.strerror or exc}"
        ) from None


HANDSHAKE_TIMEOUT_S = 5.0


def handshake(scheduler: str, timeout: float = HANDSHAKE_TIMEOUT_S) -> None:
    """Greet what listens at a ``tcp://`` scheduler address as dask's client would, raising
    ``OperationFailed`` with the reason when it is not a dask scheduler: dask's client waits for the
    greeting without a time limit (a silent server, such as a web page on the dashboard's port, hangs the
    run for good) and reads another protocol's first bytes as a message length (an ssh banner ended in a
    traceback about allocating exabytes). Needs ``distributed``; runs on its own thread and event loop,
    so any caller can use it."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    if check_address(scheduler).partition("://")[0] != "tcp":
        return  # tls:// needs the client's certificates: left to dask
    with ThreadPoolExecutor(1) as pool:
        reason = pool.submit(asyncio.run, _greeting(scheduler, seconds=timeout)).result()
    if reason is not None:
        raise OperationFailed(f"no dask scheduler at {scheduler}: {reason}")


async def _greeting(scheduler: str, *, seconds: float) -> str | None:
    """Why what answers at ``scheduler`` is not a dask scheduler (None when it is), waiting ``seconds``
    at most for each of the connection and the greeting."""
    import asyncio

    from distributed.comm.addressing import parse_address
    from distributed.comm.core import CommClosedError
    from distributed.comm.registry import get_backend

    scheme, location = parse_address(scheduler)
    backend: Any = get_backend(scheme)  # distributed ships without complete annotations
    try:
        comm = await asyncio.wait_for(backend.get_connector().connect(location, deserialize=False), seconds)
    except (OSError, TimeoutError) as exc:
        return f"cannot connect ({exc})"
    try:
        await comm.write(comm.handshake_info())
        greeting = await asyncio.wait_for(comm.read(), seconds)
    except TimeoutError:
        comm.abort()
        return f"it sent no dask greeting within {seconds:g} s (another service on that port?)"
    except CommClosedError:
        comm.abort()
        return "it closed the connection without a dask greeting (another service on that port?)"
    except Exception:  # another protocol's bytes, read as dask's frames, fail in any way
        comm.abort()
        return "it answers in another protocol than dask's (another service on that port?)"
    await comm.close()
    if not isinstance(greeting, dict) or "pickle-protocol" not in greeting:
        return "its greeting is not dask's (another service on that port?)"
    return None


def check_executor(kind: str, choices: tuple[str, ...], scheduler: str | None, *, what: str = "") -> None:
    """Refuse (``UserInputError``) an executor not in ``choices``, a bad ``--scheduler`` address or one
    given without dask, and dask without its extra (``what`` names the use: " for --batch")."""
    if kind not in choices:
        options = f"{', '.join(choices[:-1])} or {choices[-1]}"
        raise UserInputError(f"unknown executor {kind!r}{what}: choose {options}")
    if scheduler is not None:
        check_address(scheduler)
        if kind != "dask":
            raise UserInputError(f"--scheduler {scheduler} needs --executor dask (not {kind})")
    if kind == "dask":
        require_dask()
