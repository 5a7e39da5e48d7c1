"""How an error message quotes a value the user sent: whole up to ``LONG_CHARS`` characters, its first
``SHOWN_CHARS`` characters and its length when longer (``'xxxx…' (100,000 characters)``).

A refusal names the bad value, but a 100 KB string sent in a field (or typed on a command line) must
not come back whole into a terminal or a log. Messages are written all over the code with ``{value!r}``;
rather than every one of them remembering to shorten, the two places that answer an error (the API's
error handlers and the CLI's ``mt: error:`` line) pass the message here with the values the request or
the command line carried, and every long one found in it is shortened.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

SHOWN_CHARS = 80
"""How much of a long refused value an error message quotes: enough to recognise it."""
LONG_CHARS = 255
"""Values up to this long are quoted whole: a file's path (a temporary folder's runs past 80 characters)
or a name is named in full; only what no file system or name takes is shortened."""

_ELLIPSIS = "…"


def _length(count: int) -> str:
    return f"({count:,} characters)"


def shown(value: Any, *, as_json: bool = False) -> str:
    """``value`` quoted for a message (``repr`` of a string, JSON of anything else; with ``as_json``, JSON
    of a string too, as an API client sent it: ``"1"``), shortened if long."""
    text = repr(value) if isinstance(value, str) and not as_json else json.dumps(value, default=str)
    if len(text) <= LONG_CHARS + 2:
        return text
    if isinstance(value, str):
        return f"{text[: SHOWN_CHARS + 1]}{_ELLIPSIS}{text[-1]} {_length(len(value))}"
    return f"{text[:SHOWN_CHARS]}{_ELLIPSIS} {_length(len(text))}"


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a decoded JSON document (keys too), or ``value`` itself if a string."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def shorten_inputs(message: str, inputs: Iterable[str]) -> str:
    """``message`` with every input longer than ``LONG_CHARS`` shortened wherever it appears: quoted
    (``repr`` or JSON, as messages write values) or bare, as sent, stripped, upper- or lower-cased (a
    symbol is upper-cased before it is checked)."""
    long_ones = sorted({text for text in inputs if len(text) > LONG_CHARS}, key=len, reverse=True)
    if len(message) <= LONG_CHARS or not long_ones:
        return message
    for value in long_ones:
        for form in dict.fromkeys((value, value.strip(), value.upper(), value.lower())):
            if len(form) <= LONG_CHARS:
                continue
            for quoted in dict.fromkeys((repr(form), json.dumps(form), json.dumps(form, ensure_ascii=False))):
                if quoted in message:
                    short = f"{quoted[: SHOWN_CHARS + 1]}{_ELLIPSIS}{quoted[-1]} {_length(len(form))}"
                    message = message.replace(quoted, short)
            if form in message:
                message = message.replace(form, f"{form[:SHOWN_CHARS]}{_ELLIPSIS} {_length(len(form))}")
    return message
