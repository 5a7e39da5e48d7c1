"""What the dask executor needs before anything heavy is imported: the extra, and a scheduler address.

Kept apart from :mod:`.cluster` so the settings and the CLI can check both without importing numpy,
pandas or distributed."""

from __future__ import annotations

from mastertrade.errors import UserInputError

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
    return scheduler
