"""Which collectors exist: the built-in ones and plugins registered under the entry point group
``mastertrade.collectors``.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."mastertrade.collectors"]
    my_source = "my_package.module:MyCollector"

where ``MyCollector`` subclasses ``mastertrade.engine.collectors.base.Collector``. A plugin that fails
to import, is not a collector, or takes a built-in's name is skipped with a warning: one broken plugin
must not stop the others or the daemon.
"""

from __future__ import annotations

import logging
import re
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from mastertrade.engine.collectors.base import Collector
from mastertrade.engine.collectors.fear_greed import FearGreedCollector
from mastertrade.engine.collectors.glassnode import GlassnodeCollector
from mastertrade.engine.collectors.lunarcrush import LunarCrushCollector
from mastertrade.engine.collectors.macro import MacroCollector
from mastertrade.engine.collectors.moralis import MoralisCollector
from mastertrade.engine.collectors.names import ENTRY_POINT_GROUP
from mastertrade.engine.collectors.news import NewsCollector, RedditCollector
from mastertrade.engine.collectors.onchain import BlockchainStatsCollector, MempoolCollector
from mastertrade.engine.collectors.whales import WhaleCollector
from mastertrade.engine.collectors.x import XCollector

if TYPE_CHECKING:
    from mastertrade.config import CollectorsSettings

log = logging.getLogger("mastertrade.collectors")

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")

BUILTIN: tuple[type[Collector], ...] = (
    NewsCollector,
    RedditCollector,
    FearGreedCollector,
    MempoolCollector,
    BlockchainStatsCollector,
    WhaleCollector,
    MacroCollector,
    GlassnodeCollector,
    MoralisCollector,
    LunarCrushCollector,
    XCollector,
)
"""Built-in sources, in the order they are listed (and preferred when several store one feature)."""


def plugin_classes() -> list[type[Collector]]:
    """Collector classes registered by installed plugins (broken ones skipped with a warning)."""
    return load_plugins()[0]


def load_plugins() -> tuple[list[type[Collector]], list[str]]:
    """Collector classes registered by installed plugins, and a line for each entry point that failed to
    import (whose source name is therefore unknown). Broken ones are skipped with a warning."""
    builtin_names = {cls.name for cls in BUILTIN}
    found: list[type[Collector]] = []
    failed: list[str] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = entry.load()
        except Exception as exc:  # a plugin's import error must not stop the others
            log.warning("collector plugin %s failed to load: %s: %s", entry.name, type(exc).__name__, exc)
            failed.append(f"{entry.name} ({type(exc).__name__}: {exc})")
            continue
        if not (isinstance(cls, type) and issubclass(cls, Collector)):
            log.warning("collector plugin %s is not a Collector subclass; skipped", entry.name)
            continue
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            log.warning("collector plugin %s has no valid name (lower-case, up to 32 characters)", entry.name)
            continue
        if name in builtin_names or any(other.name == name for other in found):
            log.warning("collector plugin %s reuses the source name %r; skipped", entry.name, name)
            continue
        found.append(cls)
    return found, failed


def collector_classes() -> list[type[Collector]]:
    """Every known collector class: built-ins first, then plugins."""
    return [*BUILTIN, *plugin_classes()]


def build_collectors(settings: CollectorsSettings) -> list[Collector]:
    """One instance of every known collector, enabled or not (disabled ones report why)."""
    collectors: list[Collector] = []
    for cls in collector_classes():
        try:
            collectors.append(cls(settings))
        except Exception as exc:  # a plugin whose constructor fails is skipped like one that fails to load
            log.warning("collector %s could not be created: %s: %s", cls.name, type(exc).__name__, exc)
    return collectors
