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
