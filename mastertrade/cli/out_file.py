"""The one door through which a command writes a file the trader names (``--out``, ``--plot``,
``--write``): nothing the trader stored is ever lost, and a mistyped path creates nothing.

- A file that exists is kept unless ``--force`` (one that already holds exactly what would be written
  is no clash): refused up front, before any work, and again when the file is put in place, so a file
  that appeared meanwhile is kept too (the new one is linked into place, which never replaces a file).
- The folder a file goes into must exist: it is named when it does not, and never created (`mt backtest
  --plot` and `mt data export --out` created ``/nonexistent/`` for a typo). A folder named by
  ``--write`` is created, but not the folders above it.
- A folder, a device or a pipe where the file should go is bad input said before any work.
- The file is written whole beside its place and renamed into place, so it is never left half-written;
  it gets the permissions of the file it replaces (``--force``), else what the umask leaves of rw-rw-rw-.

Every refusal is a ``UserInputError`` (exit 2, one line naming the file).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from mastertrade.errors import UserInputError


def check_out(out: Path, *, force: bool, text: str | None = None) -> None:
    """Refuse ``out`` up front (exit 2) when it is a folder, a device or a pipe, its folder does not
    exist, or it is a file (with other content than ``text``, when that is known already) and not
    ``force``."""
    if out.is_dir():
        raise UserInputError(f"cannot write {str(out)!r}: it is a folder")
    check_not_special(out)
    check_folder_of(out)
    if not force:
        check_not_there(out, text)


def check_folder_of(out: Path) -> None:
    """Refuse ``out`` when the folder it goes into does not exist, or is a file: naming that folder,
    since creating it would turn a mistyped path into new folders."""
    reason = _not_a_folder(out.parent)
    if reason:
        raise UserInputError(f"cannot write {str(out)!r}: {reason}")


def _not_a_folder(folder: Path) -> str:
    """Why files cannot go into ``folder`` ("" when they can)."""
    if folder.is_dir():
        return ""
    if folder.exists():
        return f"{str(folder)!r} is a file, not a folder"
    return f"the folder {str(folder)!r} does not exist (create it first)"


def check_not_there(out: Path, text: str | None = None) -> None:
    """Refuse ``out`` when a file (or a link, even a broken one) is there, unless it holds exactly
    ``text``."""
    if not (out.exists() or out.is_symlink()):
        return
    if text is None:
        raise UserInputError(f"{out} exists: pass --force to overwrite it")
    if not holds(out, text):
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


def check_out_folder(folder: Path) -> None:
    """Refuse a folder to write files into (``--write DIR``) when it is a file, or when it does not
    exist and cannot be made without making the folder above it too (only the folder named is made)."""
    if folder.is_dir():
        return
    if folder.exists() or folder.is_symlink():
        raise UserInputError(f"cannot write into {str(folder)!r}: it is not a folder")
    reason = _not_a_folder(folder.parent)
    if reason:
        raise UserInputError(f"cannot write into {str(folder)!r}: {reason}")


def make_out_folder(folder: Path) -> None:
    """Create the folder ``check_out_folder`` let through, and not the folders above it."""
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot write into {str(folder)!r}: {exc.strerror or exc}") from None


def write_out(out: Path, text: str, *, force: bool, mode: int | None = None) -> None:
    """Write ``text`` to ``out`` (see the module docstring); a file already holding exactly ``text``
    is left as it is. ``mode`` sets the file's permissions (a script's 0o755)."""
    if holds(out, text) and (mode is None or stat.S_IMODE(out.stat().st_mode) == mode):
        return

    def write(partial: Path) -> None:
        partial.write_text(text, encoding="utf-8")

    write_out_with(out, write, force=force or holds(out, text), mode=mode)


def write_out_with[T](out: Path, write: Callable[[Path], T], *, force: bool, mode: int | None = None) -> T:
    """Have ``write`` write the file at a path beside ``out`` (a hidden name ending in ``out``'s own
    suffix: a writer may insist on one, as the chart's ``.html``), then put it in place; returns what
    ``write`` returned. Without ``force``, a file that appeared at ``out`` since ``check_out`` is kept
    and the command refused. An ``OSError`` is bad input naming ``out``; whatever fails, the partial
    file is removed."""
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    try:
        produced = write(partial)
        os.chmod(partial, _mode(out) if mode is None else mode)
        _place(partial, out, force=force)
    except OSError as exc:
        _remove(partial)
        raise UserInputError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(partial)
        raise
    return produced


def _place(partial: Path, out: Path, *, force: bool) -> None:
    """Move the written ``partial`` to ``out``: replacing a file there only with ``force``. A hard link
    is made without ``force`` since it never replaces one; where the filesystem has none (FAT, some
    network shares), the file is looked for just before the rename."""
    if force:
        partial.replace(out)
        return
    try:
        os.link(partial, out, follow_symlinks=False)
    except FileExistsError:
        raise UserInputError(f"{out} exists: pass --force to overwrite it") from None
    except OSError:
        check_not_there(out)
        partial.replace(out)
        return
    partial.unlink()


def _mode(out: Path) -> int:
    """The permissions ``out`` gets: those of the file it replaces, else what the umask leaves of
    rw-rw-rw-, as any file a command writes."""
    try:
        return stat.S_IMODE(out.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def _remove(partial: Path) -> None:
    with contextlib.suppress(OSError):  # there may be no partial file, nor a folder to hold one
        partial.unlink(missing_ok=True)


def holds(path: Path, text: str) -> bool:
    """Whether ``path`` is a file holding exactly ``text`` (writing it again changes nothing)."""
    try:
        return path.is_file() and path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False
