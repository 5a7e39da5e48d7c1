"""A file the trader names with ``--out``: a file of theirs is kept unless ``--force``, a folder or a
missing folder is bad input said before any work is done, and the file is never left half-written."""

from __future__ import annotations

import contextlib
from pathlib import Path

from mastertrade.errors import UserInputError


def check_out(out: Path, *, force: bool, text: str | None = None) -> None:
    """Refuse ``out`` up front (exit 2) when it is a folder, its folder does not exist, or it is a file
    with other content than ``text`` (any content while ``text`` is not known yet) and not ``force``."""
    if out.is_dir():
        raise UserInputError(f"cannot write {str(out)!r}: it is a folder")
    check_not_special(out)
    if not out.parent.is_dir():
        raise UserInputError(f"cannot write {str(out)!r}: the folder {str(out.parent)!r} does not exist")
    if out.exists() and not force and (text is None or not holds(out, text)):
        raise UserInputError(f"{out} exists with other content: pass --force to overwrite it")


def check_not_special(out: Path) -> None:
    """Refuse an ``out`` that exists and is neither a file nor a folder (a device, a pipe, a socket, or
    a link to one, like ``/dev/stdout``): a file is written whole beside it and renamed into place, and
    the rename replaced the device itself. Run as root, `mt data export ... --out /dev/full --force`
    said "exported 2000 candles" and left /dev/full a regular file holding them."""
    if out.exists() and not out.is_file() and not out.is_dir():
        raise UserInputError(
            f"cannot write {str(out)!r}: it is a device or a pipe, not a file (a file is written whole"
            " and renamed into place)"
        )


def write_out(out: Path, text: str) -> None:
    """Write ``text`` to ``out`` through a partial file renamed into place; an ``OSError`` is bad input."""
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(out)
    except OSError as exc:
        with contextlib.suppress(OSError):  # there may be no partial file, nor a folder to hold one
            partial.unlink(missing_ok=True)
        raise UserInputError(f"cannot write {str(out)!r}: {exc.strerror}") from None


def holds(path: Path, text: str) -> bool:
    """Whether ``path`` is a file holding exactly ``text`` (writing it again changes nothing)."""
    try:
        return path.is_file() and path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False
