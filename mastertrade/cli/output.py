"""How commands print: data on stdout (a rich table, or one JSON document with ``--json``),
progress and diagnostics on stderr, errors as one line ``mt: error: ...``."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mastertrade.quoting import shorten_inputs
from mastertrade.utc import iso

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

JsonOption = typer.Option("--json", help="Print one JSON document on stdout and nothing else.")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def dumps(data: Any) -> str:
    return json.dumps(data, default=_default, indent=2, allow_nan=False)


def print_json(data: Any) -> None:
    """Write ``data`` as the single JSON document on stdout."""
    sys.stdout.write(dumps(data) + "\n")
    sys.stdout.flush()


# Output piped to a file or another program is not cut to 80 columns.
_PIPE_WIDTH = 200


def stdout() -> Console:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = _PIPE_WIDTH
    return console


def stderr() -> Console:
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = _PIPE_WIDTH
    return console


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    right: Sequence[str] = (),
) -> None:
    """A rich table on stdout; columns named in ``right`` are right-aligned (numbers). Cells are plain
    text: a value such as "[ml] forecasts" or a strategy named "[test]" shows as it is, never as markup."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    stdout().print(table)


def info(message: str, *, style: str | None = None) -> None:
    """A diagnostic line on stderr, as plain text (a bracketed "[generator]" is printed, not taken for
    markup), in ``style`` if given (e.g. "bold red")."""
    stderr().print(message, markup=False, style=style)


_command_line: ContextVar[tuple[str, ...]] = ContextVar("command_line", default=())


def remember_command_line(args: Sequence[str]) -> None:
    """The arguments ``mt`` was run with (an option's ``--name=value`` counts its value too), so an
    error quoting one of them quotes a long one in part (``mastertrade.quoting``)."""
    values = [str(arg) for arg in args]
    values += [arg.split("=", 1)[1] for arg in values if arg.startswith("-") and "=" in arg]
    _command_line.set(tuple(values))


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What a terminal or a log line does not show as itself: control characters (a newline would end the
line, an escape sequence recolour the terminal), line separators and the marks that reorder text
(right-to-left overrides)."""


def one_line(message: str) -> str:
    """``message`` with every character of ``_UNPRINTABLE`` written as its escape (``\\n``,
    ``\\x1b``, ``\\u202e``): a value quoted bare (``on a\\nb``) stays on the error's one line."""
    return _UNPRINTABLE.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), message)


def error(message: str) -> None:
    """The one-line error format of every command; a long value from the command line is quoted in
    part, with its length, instead of whole, and a control character in a value is escaped."""
    message = one_line(shorten_inputs(message, _command_line.get()))
    sys.stderr.write(f"mt: error: {message}\n")
    sys.stderr.flush()


@contextmanager
def progress(*, transient: bool = True) -> Iterator[Progress]:
    """A progress display on stderr (left out when stderr is not a terminal)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = stderr()
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=not console.is_terminal,
    )
    with bar:
        yield bar
