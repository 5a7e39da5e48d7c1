"""The names a config may give a collector (``[collectors] disabled``, ``intervals``, ``timeouts``).

A leaf module (standard library only) that the config's validators use: a misspelt name
(``disabled = ["redit"]``) was accepted without a word and the source the trader meant to switch off
kept running. The built-in names are known here without importing the collectors (a test holds them to
the registry's). A plugin's name is its class's ``name``, not its entry point's (which is informational),
so it is known only once the plugin's code is imported: the config refuses an unknown name when no
collector plugin is installed at all (entry-point metadata, no import), and ``check.py`` refuses it
once the plugins are loaded (``mt daemon start``, ``restart``, ``mt config show``).
"""

from __future__ import annotations

from collections.abc import Iterable

ENTRY_POINT_GROUP = "mastertrade.collectors"

BUILTIN_NAMES: tuple[str, ...] = (
    "news",
    "reddit",
    "fear_greed",
    "mempool",
    "blockchain",
    "whales",
    "macro",
    "glassnode",
    "moralis",
    "lunarcrush",
    "x",
)
"""The built-in collectors' names, in the registry's order."""

NAMED_BY = ("disabled", "intervals", "timeouts")
"""The ``[collectors]`` keys whose entries are collector names."""


def plugins_installed() -> bool:
    """Whether any installed package registers a collector plugin (its metadata only: nothing imported)."""
    from importlib.metadata import entry_points

    return bool(entry_points(group=ENTRY_POINT_GROUP))


def unknown_name(name: str, known: Iterable[str]) -> str:
    """The reason a name that is no collector's is refused, naming the known ones."""
    return f"unknown collector {name!r}: expected one of {', '.join(sorted(known))}"
