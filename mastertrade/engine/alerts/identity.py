"""Telling alert targets apart without showing their secrets.

Masking (``masking.py``) shows two Telegram bots, or two Discord hooks, as the same ``tgram://***``:
a user cannot tell which one failed, and delivery bookkeeping cannot either. Each target therefore
has an identity: a keyed hash (HMAC-SHA256) of its whole URL, shortened to ``ID_LENGTH`` hex digits
and shown beside the masked form (``tgram://*** #3f9a1c2e07``). The key is random, made once per
workspace and kept in ``alert-targets.key`` (mode 0600) in the data folder, never shown: a plain
hash of a URL whose secret is a weak password could be reversed by trying passwords, a keyed one
cannot without the key. Delivery records keep each target's identity, so a retry after the config
changed goes to every target that has not had the alert, even one that masks like a target that had.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from mastertrade.engine.alerts.masking import mask_target

log = logging.getLogger(__name__)

KEY_FILE = "alert-targets.key"
ID_LENGTH = 10
"""Hex digits of a target's identity: 40 bits, so that a swapped target matches the one it replaced
about once in a trillion times."""
_KEY_BYTES = 32


def key_file() -> Path:
    """Where this workspace keeps its key (the data folder)."""
    from mastertrade.locations import locations

    return locations().data_dir / KEY_FILE


def load_key(path: Path | None = None) -> bytes:
    """The workspace's key, made (0600) on first use. A key file that does not hold a key is
    replaced: the identities change, so unfinished deliveries go again to every target (a repeat,
    never a loss)."""
    path = path or key_file()
    key = _read_key(path)
    if key is not None:
        return key
    damaged = path.exists()
    if damaged:
        log.warning("%s does not hold a key; making a new one", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(_KEY_BYTES)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    if damaged:
        os.replace(draft, path)
        return key
    try:
        os.link(draft, path)  # never over a key another process has just made
    except FileExistsError:
        key = _read_key(path) or key
    finally:
        draft.unlink()
    return key


def _read_key(path: Path) -> bytes | None:
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return None
    return key if len(key) == _KEY_BYTES else None


def target_id(url: str, key: bytes) -> str:
    """The identity of the target ``url``: the same URL always has the same one (with this key)."""
    return hmac.new(key, url.encode("utf-8"), hashlib.sha256).hexdigest()[:ID_LENGTH]


def target_label(url: str, key: bytes) -> str:
    """How a target is shown: its masked form and its identity, ``tgram://*** #3f9a1c2e07``."""
    return f"{mask_target(url)} #{target_id(url, key)}"
