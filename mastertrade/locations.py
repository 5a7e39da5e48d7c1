"""Every path MasterTrade reads or writes, in one place.

Paths follow the platform's conventions through platformdirs (``~/.config/mastertrade``,
``~/.local/share/mastertrade`` ... on Linux). Setting ``MT_HOME`` puts everything under one folder
instead: the demo workspace, the test suite and anyone running two independent set-ups use it.
``MT_CONFIG`` names a config file explicitly.

This module is imported by ``mt --help``; it must stay cheap (platformdirs only).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import platformdirs

APP = "mastertrade"

# A Unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class Locations:
    """The folders and files of one MasterTrade installation."""

    config_dir: Path
    data_dir: Path
    log_dir: Path
    runtime_dir: Path
    cache_dir: Path

    @property
    def config_file(self) -> Path:
        override = os.environ.get("MT_CONFIG")
        return Path(override).expanduser() if override else self.config_dir / "config.toml"

    @property
    def secrets_file(self) -> Path:
        """Exchange keys may live here (mode 0600) instead of the config or the environment."""
        return self.config_dir / "secrets.toml"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "mastertrade.db"

    @property
    def default_db_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.database_file}"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "daemon.log"

    @property
    def pid_file(self) -> Path:
        return self.runtime_dir / "daemon.pid"

    @property
    def socket_file(self) -> Path:
        path = self.runtime_dir / "mt.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        # Deep MT_HOME folders (pytest's tmp_path) overflow sun_path: fall back to a short, stable
        # per-installation folder under the system temp dir.
        digest = hashlib.sha256(str(self.runtime_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"mt-{os.getuid()}-{digest}" / "mt.sock"

    @property
    def numba_cache_dir(self) -> Path:
        """Compiled kernels, per installation (not per workspace): a new ``MT_HOME`` finds the kernels the
        installation compiled before. Keyed by the versions that decide the machine code (Python, numba,
        MasterTrade), so an upgrade starts a fresh folder instead of mixing stale entries."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            numba = version("numba")
        except PackageNotFoundError:
            numba = "none"
        from mastertrade import __version__

        key = f"py{sys.version_info[0]}{sys.version_info[1]}-numba{numba}-mastertrade{__version__}"
        return Path(platformdirs.user_cache_dir(APP, appauthor=False)) / "numba" / key

    @property
    def jax_cache_dir(self) -> Path:
        """JAX's persistent compilation cache (the forecast network's compiled training and prediction
        steps), per installation like the numba kernels and keyed by the versions that decide the
        compiled code, so a fresh process loads what an earlier one compiled instead of compiling again."""
        from importlib.metadata import PackageNotFoundError, version

        parts = []
        for name in ("jax", "jaxlib", "keras"):
            try:
                parts.append(f"{name}{version(name)}")
            except PackageNotFoundError:
                parts.append(f"{name}none")
        from mastertrade import __version__

        key = "-".join([f"py{sys.version_info[0]}{sys.version_info[1]}", *parts, f"mastertrade{__version__}"])
        return Path(platformdirs.user_cache_dir(APP, appauthor=False)) / "jax" / key

    def as_dict(self) -> dict[str, str]:
        """The paths a user may want to look at, as printed by ``mt config path``."""
        return {
            "config": str(self.config_file),
            "secrets": str(self.secrets_file),
            "data": str(self.data_dir),
            "database": str(self.database_file),
            "logs": str(self.log_dir),
            "log_file": str(self.log_file),
            "runtime": str(self.socket_file.parent),
            "socket": str(self.socket_file),
            "pid_file": str(self.pid_file),
            "cache": str(self.cache_dir),
        }


def locations() -> Locations:
    """The locations for the current environment (``MT_HOME`` or the platform's user folders)."""
    home = os.environ.get("MT_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return Locations(
            config_dir=root / "config",
            data_dir=root / "data",
            log_dir=root / "logs",
            runtime_dir=root / "run",
            cache_dir=root / "cache",
        )
    dirs = platformdirs.PlatformDirs(APP, appauthor=False)
    if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR"):
        # No session runtime dir (cron, ssh without systemd-logind, containers): a private per-user
        # folder under the temp dir, as platformdirs would pick, but without its warning on every run.
        runtime = Path(tempfile.gettempdir()) / f"mastertrade-{os.getuid()}"
    else:
        runtime = Path(dirs.user_runtime_dir)
    return _where_the_daemon_runs(
        Locations(
            config_dir=Path(dirs.user_config_dir),
            data_dir=Path(dirs.user_data_dir),
            log_dir=Path(dirs.user_log_dir),
            runtime_dir=runtime,
            cache_dir=Path(dirs.user_cache_dir),
        )
    )


RUNTIME_POINTER = "daemon.runtime"
"""The file, in the log folder, in which the daemon writes its runtime folder (``daemon_started``)."""


def _where_the_daemon_runs(where: Locations) -> Locations:
    """``where``, with the runtime folder of this installation's running daemon when that is another.

    The runtime folder follows ``XDG_RUNTIME_DIR``, which a login shell has (``/run/user/UID``) and cron
    does not (a folder under the temp dir): a daemon started from the shell was "not running" for the
    crontab's keep-alive, which then tried to start a second one (refused by the database lock) every
    five minutes, and for its status snapshot. The daemon names its runtime folder in a file of the log
    folder, which does not depend on the session; a folder named there whose pid file a live daemon holds
    is used when this session's own has no pid file."""
    if where.pid_file.exists():
        return where
    try:
        named = Path((where.log_dir / RUNTIME_POINTER).read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError, ValueError):
        return where
    if not named.is_absolute() or named == where.runtime_dir:
        return where
    from mastertrade.pids import pid_file_holder

    if pid_file_holder(named / "daemon.pid") is None:
        return where  # that daemon is gone: this session's folder is where the next one runs
    from dataclasses import replace

    return replace(where, runtime_dir=named)


def daemon_started(where: Locations) -> None:
    """Name the daemon's runtime folder for sessions with another ``XDG_RUNTIME_DIR`` (see
    ``_where_the_daemon_runs``); written whole (a temporary file renamed), never half."""
    if os.environ.get("MT_HOME"):
        return  # one folder for everything: every session finds the same runtime folder
    pointer = where.log_dir / RUNTIME_POINTER
    part = pointer.with_name(f".{RUNTIME_POINTER}.{os.getpid()}")
    with open_private(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "w") as out:
        out.write(f"{where.runtime_dir}\n")
    part.replace(pointer)


def open_private(path: Path, flags: int, mode: str) -> IO[Any]:
    """Open ``path`` (``flags`` as ``os.open`` takes them, ``mode`` as ``open``) readable and writable by
    its owner only (0600), like every private file of ours; one created 0644 by an older version is made
    0600 too."""
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8")
    except BaseException:
        os.close(fd)
        raise


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700: it holds the socket, keys or the pid file."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    owner = path.stat().st_uid
    if owner != os.getuid():
        # A folder someone else made in a shared place (/tmp) could let them swap our socket.
        from mastertrade.errors import OperationFailed

        raise OperationFailed(f"{path} belongs to another user (uid {owner}); refusing to use it")
    path.chmod(0o700)
    return path
