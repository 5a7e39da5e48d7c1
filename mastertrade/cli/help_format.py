"""Help without fake metavars: Typer 0.29's rich help prints the value type after every option,
so a flag like ``--json`` read as if it took a ``<bool>`` (and ``-v`` an ``<int>``).

Typer has no setting for this; its plain-text help already leaves flags out
(``TyperOption.get_help_record`` checks ``is_flag``), so the rich help is given the same rule by
wrapping ``TyperOption.display_type_rich`` once, when the CLI is imported.
"""

from __future__ import annotations

from typer import _click
from typer.core import TyperOption

_original = TyperOption.display_type_rich


def _display_type_rich(self: TyperOption, ctx: _click.Context) -> str | None:
    if self.is_flag or self.count:
        return None  # a flag or a counter takes no value: show no type
    return _original(self, ctx)


def install() -> None:
    """Hide the type of flags and counters in ``--help`` (idempotent)."""
    TyperOption.display_type_rich = _display_type_rich  # type: ignore[method-assign]
