"""The ``mt`` command: the root Typer app and its command groups, one module per group.

This module is imported by ``mt --help``: it and the group modules import only typer at module level;
everything heavy (pandas, ccxt, numba, sqlalchemy ...) is imported inside the command that uses it.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer import _click  # Typer >= 0.25 vendors click; its Context is the one passed here
from typer.core import TyperGroup

from mastertrade import __version__
from mastertrade.cli import config as config_cmd
from mastertrade.cli import data as data_cmd
from mastertrade.cli import init as init_cmd
from mastertrade.cli.output import error
from mastertrade.errors import MasterTradeError


class MTGroup(TyperGroup):
    """Turns MasterTrade errors into one line on stderr and their exit code (2 for bad input)."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MasterTradeError as exc:
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error("interrupted")
            raise typer.Exit(130) from None


app = typer.Typer(
    name="mt",
    cls=MTGroup,
    help="MasterTrade: generate strategies, prove them honestly, trade them safely.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # tracebacks with locals could print secrets
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mt {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """MasterTrade: generate strategies, prove them honestly, trade them safely."""


app.command("init")(init_cmd.init)
app.add_typer(config_cmd.app, name="config")
app.add_typer(data_cmd.app, name="data")


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())
