"""The daemon's log: one line per record, UTC timestamps, rotated by size, secrets redacted.

Format: ``2026-11-24T12:00:00.123Z INFO mastertrade.engine.daemon: message`` (a traceback follows on
the next lines). ``parse_log_lines`` turns lines back into records for ``mt daemon logs --json``.
Every configured secret (Apprise URL parts, and every ``SecretStr`` setting: the API token, exchange
keys, data sources' and plugins' keys) is replaced by ``***`` in the formatted text, tracebacks
included, before anything reaches a file or stderr.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mastertrade.config import Settings

LINE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+?): (.*)$"
)


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
        self.converter = time.gmtime
        self.secrets = sorted({secret for secret in secrets if len(secret) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        from mastertrade.engine.alerts.masking import redact

        # the alerts' own scrubbing: a letters-only secret (a URL's path word) is hidden where it stands
        # as a word, so "failed" never reads "***ed" when a target's path is /fail
        return redact(super().format(record), self.secrets)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created mode 0600 (they may name symbols, orders, balances)."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.close(fd)
        return super()._open()


def _private_folder(path: Path) -> None:
    """Make the log folder 0700 when this call creates it (a folder the user made stays as it is)."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)  # mkdir's mode is masked by the umask


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret the settings hold, for redaction: each ``SecretStr`` setting of every section (the
    API token, exchange keys, data sources' and plugins' keys: found by type, so a secret setting added
    later is redacted without a change here) and the secret parts of the alert targets' URLs."""
    from mastertrade.engine.alerts.masking import secrets_of

    found: list[str] = []
    for url in settings.alerts.urls:
        pieces = secrets_of(url)
        found += pieces
        # Apprise's own log lines abbreviate a password to its first and last character ("P...7"):
        # two characters of it are still two too many.
        found += [f"{piece[0]}...{piece[-1]}" for piece in pieces]
    found += _secret_values(settings)
    return found


def _secret_values(value: object) -> list[str]:
    """The values of every ``SecretStr`` in a settings model, its sections, lists and tables."""
    from pydantic import BaseModel, SecretStr

    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, BaseModel):
        return [
            secret for name in type(value).model_fields for secret in _secret_values(getattr(value, name))
        ]
    if isinstance(value, dict):
        return [secret for item in value.values() for secret in _secret_values(item)]
    if isinstance(value, list | tuple):
        return [secret for item in value for secret in _secret_values(item)]
    return []


def setup_logging(
    settings: Settings, log_file: Path, *, stderr: bool, extra_secrets: Iterable[str] = ()
) -> None:
    """Route every logger to the rotating daemon log (and stderr in the foreground)."""
    _private_folder(log_file.parent)
    formatter = RedactingFormatter([*settings_secrets(settings), *extra_secrets])
    handlers: list[logging.Handler] = [
        PrivateRotatingFileHandler(
            log_file,
            maxBytes=settings.daemon.log_max_bytes,
            backupCount=settings.daemon.log_backups,
            encoding="utf-8",
        )
    ]
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(settings.daemon.log_level)
    # Libraries that are chatty at INFO (every notification, every connection).
    for name in (
        "apprise",
        "uvicorn.error",
        "httpx",
        "httpcore",
        "aiosqlite",
        "asyncio",
        "alembic.runtime.plugins",
    ):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def parse_log_lines(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    """Records from log lines; lines that do not start a record (tracebacks) join the one before."""
    current: dict[str, str] | None = None
    for raw in lines:
        line = raw.rstrip("\n")
        match = LINE.match(line)
        if match:
            if current is not None:
                yield current
            time_, level, logger, message = match.groups()
            current = {"time": time_, "level": level, "logger": logger, "message": message}
        elif current is not None:
            current["message"] += "\n" + line
        elif line:
            current = {"time": "", "level": "", "logger": "", "message": line}
    if current is not None:
        yield current
