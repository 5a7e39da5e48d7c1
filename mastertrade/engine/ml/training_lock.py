"""One training of a forecast series at a time.

Two trainings of one model on one series (exchange, symbol, timeframe, horizon) write the same artifact
folder and replace the same stored forecast series: run together, the series ends up holding whichever
finished last, beside an artifact that may be the other one's, and the artifact folder can be replaced
under a reader. So a training holds an exclusive ``flock`` on a small file beside the series' artifacts
(``<models>/forecast/<model>/.<key>.training``) for its whole run, and a second one is refused at once,
naming the running one. Refused rather than queued: a trader who starts a training expects it to run
now; waiting silently behind another one (minutes for the LSTM-Transformer), and then replacing its
forecasts with the same or other settings, is a surprise, while "already being trained by process N"
says what happens and lets them choose. The kernel drops the lock when the holder exits, however it
exits, so a killed training never blocks the next one.

The lock is per machine (it lives in the data folder, as the artifacts do).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mastertrade.artifacts import ArtifactStore, safe_key
from mastertrade.errors import UserInputError
from mastertrade.utc import iso


class TrainingRunning(UserInputError):
    """Another process is training the same model on the same series."""


def lock_path(store: ArtifactStore, kind: str, model: str, key: Mapping[str, Any]) -> Path:
    return store.root / kind / model / f".{safe_key(str(v) for v in key.values())}.training"


def _holder(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return f"{data['by']} (pid {int(data['pid'])}, started {data['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"  # it holds the lock but has not written who it is yet


@contextmanager
def training_lock(
    store: ArtifactStore, kind: str, model: str, key: Mapping[str, Any], *, series: str, by: str
) -> Iterator[None]:
    """Hold the training lock of ``model`` on ``key`` (``series`` names it in words), or raise
    :class:`TrainingRunning` naming the process that holds it. ``by`` says who trains ("mt ml train")."""
    path = lock_path(store, kind, model, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TrainingRunning(
                f"{model} on {series} (horizon {key.get('horizon')}) is already being trained by"
                f" {_holder(path)}: wait for it to finish; this one stored nothing"
            ) from None
        os.ftruncate(fd, 0)
        record = {"by": by, "pid": os.getpid(), "since": iso(datetime.now(UTC), "seconds")}
        os.write(fd, json.dumps(record).encode())
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (removing it would race a waiting locker)
