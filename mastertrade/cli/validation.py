"""Checks of values typed by a human, before anything is sent or written: one line naming the value.

``float`` accepts ``inf``, ``nan`` and ``1e308``; none of them is an amount or a price anyone means, and
each breaks arithmetic downstream (an ``inf`` notional, a ``nan`` that compares false to every limit).
A reason (``--reason``) is kept in a history or the audit log and shown in tables later: it is bounded
and has no control character, checked here as the daemon checks it, so it is refused the same way
whether or not the daemon runs.
"""

from __future__ import annotations

import math
import re
import stat
from pathlib import Path

from mastertrade.errors import UserInputError

MAX_AMOUNT = 1e12
"""No market lists a trillion units of anything; beyond this a typo is more likely than an order."""
MAX_PRICE = 1e12


def check_number(value: float, name: str, *, upper: float) -> float:
    """``value`` if finite, positive and at most ``upper``; else ``UserInputError`` naming it."""
    if not math.isfinite(value):
        raise UserInputError(f"invalid {name} {value!r}: must be a finite number")
    if not value > 0:
        raise UserInputError(f"invalid {name} {value!r}: must be a positive number")
    if value > upper:
        raise UserInputError(f"invalid {name} {value!r}: larger than {upper:g}")
    return value


def check_amount(value: float) -> float:
    return check_number(value, "amount", upper=MAX_AMOUNT)


def check_price(value: float) -> float:
    return check_number(value, "--price", upper=MAX_PRICE)


def check_reason(reason: str, option: str = "--reason") -> str:
    """``reason`` if it fits the API's rule for a reason (``schemas_trading.REASON``); else
    ``UserInputError`` naming it (its first 60 characters when it is long)."""
    from mastertrade.engine.api.schemas_trading import REASON, REASON_MAX

    shown = reason if len(reason) <= 60 else reason[:60] + "..."
    if len(reason) > REASON_MAX:
        raise UserInputError(
            f"invalid {option} {shown!r}: at most {REASON_MAX} characters (got {len(reason):,})"
        )
    if re.fullmatch(REASON, reason) is None:
        raise UserInputError(f"invalid {option} {shown!r}: no tab, newline or other control character")
    return reason


def check_plain_file(path: Path) -> None:
    """Refuse (``UserInputError``) a path that is a device, a pipe or a socket, naming it: reading a
    device never ends (``mt data import /dev/full`` read NUL bytes into memory until killed) and a pipe
    cannot be read twice, which checking a file before reading it does (``<(zcat f.gz)`` ended in an
    ``io.UnsupportedOperation`` traceback). A missing path or a folder is left to the reader to name."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise UserInputError(f"{path} is a device, not a file")
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        raise UserInputError(f"{path} is a pipe, not a file: save what it carries to a file and give that")
