"""The start-up check of the collector names a config gives (see ``names``): run by ``mt daemon start``,
``mt daemon restart`` and ``mt config show`` once the installed plugins can be imported, since a plugin's
name is its class's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mastertrade.engine.collectors.names import BUILTIN_NAMES, NAMED_BY, unknown_name

if TYPE_CHECKING:
    from mastertrade.config import CollectorsSettings


def check_collector_names(settings: CollectorsSettings) -> str | None:
    """Raise ``ConfigError`` for the first name in ``disabled``, ``intervals`` or ``timeouts`` that is
    neither a built-in collector's nor an installed plugin's, naming the key, the name and the known
    names. Plugins are imported only when a name is not a built-in's. When a plugin failed to import,
    its name cannot be known: an unknown name is then not refused (one broken plugin must not stop the
    daemon) but returned as a warning naming the plugin."""
    given = [(key, name) for key in NAMED_BY for name in getattr(settings, key)]
    unknown = [(key, name) for key, name in given if name not in BUILTIN_NAMES]
    if not unknown:
        return None
    from mastertrade.config import key_error
    from mastertrade.engine.collectors.registry import load_plugins

    plugins, failed = load_plugins()
    known = [*BUILTIN_NAMES, *(cls.name for cls in plugins)]
    for key, name in unknown:
        if name in known:
            continue
        if failed:
            return (
                f"[collectors] {key}: {name!r} is no collector's name that loaded; the collector plugin"
                f" {', '.join(failed)} failed to load, so its name is not known"
            )
        raise key_error(["collectors", key], unknown_name(name, known))
    return None
