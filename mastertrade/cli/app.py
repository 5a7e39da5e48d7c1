"""The ``mt`` command: the root Typer app and its command groups, one module per group.

This module is imported by ``mt --help``: it and the group modules import only typer at module level;
everything heavy (pandas, ccxt, numba, sqlalchemy ...) is imported inside the command that uses it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import typer
from typer import _click  # Typer >= 0.25 vendors click; its Context is the one passed here
from typer.core import TyperGroup

from mastertrade import __version__
from mastertrade.cli import alerts as alerts_cmd
from mastertrade.cli import backtest as backtest_cmd
from mastertrade.cli import completion as completion_cmd
from mastertrade.cli import config as config_cmd
from mastertrade.cli import daemon as daemon_cmd
from mastertrade.cli import data as data_cmd
from mastertrade.cli import demo as demo_cmd
from mastertrade.cli import examples as examples_cmd
from mastertrade.cli import generate as generate_cmd
from mastertrade.cli import goal as goal_cmd
from mastertrade.cli import help_format
from mastertrade.cli import init as init_cmd
from mastertrade.cli import ml as ml_cmd
from mastertrade.cli import optimize as optimize_cmd
from mastertrade.cli import orders as orders_cmd
from mastertrade.cli import parity as parity_cmd
from mastertrade.cli import risk as risk_cmd
from mastertrade.cli import rl as rl_cmd
from mastertrade.cli import status as status_cmd
from mastertrade.cli import strategy as strategy_cmd
from mastertrade.cli import strategy_add as strategy_add_cmd
from mastertrade.cli import trade as trade_cmd
from mastertrade.cli import tui as tui_cmd
from mastertrade.cli import validate as validate_cmd
from mastertrade.cli.output import error
from mastertrade.errors import MasterTradeError

help_format.install()


class MTGroup(TyperGroup):
    """Turns MasterTrade errors into one line on stderr and their exit code (2 for bad input); usage
    errors (an unknown option, a missing argument, a value that does not parse) too, instead of
    click's multi-line box."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _negative_numbers_are_values(self)

    def make_context(self, *args: Any, **kwargs: Any) -> _click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except _click.exceptions.UsageError as exc:
            raise typer.Exit(_usage_error(exc)) from None

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _click.exceptions.UsageError as exc:
            raise typer.Exit(_usage_error(exc)) from None
        except MasterTradeError as exc:
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error("interrupted")
            raise typer.Exit(130) from None


def _negative_numbers_are_values(group: Any) -> None:
    """``mt goal remove -1`` passes -1 as the argument (to be refused by its validation, naming it),
    instead of failing with "No such option: -1": commands with a numeric argument take tokens that
    look like options as arguments (an unknown option then fails as an unexpected argument). Options
    already take the token after them, negative or not."""
    for command in group.commands.values():
        if hasattr(command, "commands"):
            _negative_numbers_are_values(command)
            continue
        if any(
            param.param_type_name == "argument" and param.type_descriptor.annotation in (int, float)
            for param in command.params
        ):
            command.context_settings = {**command.context_settings, "ignore_unknown_options": True}


def _given(exc: _click.exceptions.UsageError) -> str | None:
    """The value a parameter refused (Typer validates bounds with pydantic, whose message omits it)."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return None
    try:
        found = errors()
    except Exception:  # noqa: BLE001 - not pydantic's after all
        return None
    if not found or "input" not in found[0]:
        return None
    return str(found[0]["input"])


def _usage_error(exc: _click.exceptions.UsageError) -> int:
    """Print a usage error as one line naming the command and the bad value; its exit code (2)."""
    where = exc.ctx.command_path if exc.ctx is not None else "mt"
    message = " ".join(exc.format_message().split())
    given = _given(exc)
    if given is not None and given not in message:
        message = f"{message} (got {given})"
    error(f"{where}: {message} (see `{where} --help`)")
    return exc.exit_code


app = typer.Typer(
    name="mt",
    cls=MTGroup,
    help="MasterTrade: generate strategies, prove them honestly, trade them safely.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode="markdown",  # reflows docstring paragraphs instead of keeping source line breaks
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
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="Log more on stderr (-v: info, -vv: debug)."
    ),
) -> None:
    """MasterTrade: generate strategies, prove them honestly, trade them safely."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="mt: %(levelname)s: %(message)s", stream=sys.stderr, force=True)
    # alembic narrates every migration step at INFO; that is debugging detail, not news
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING) if verbose < 2 else logging.DEBUG)


app.command("demo")(demo_cmd.demo)
app.command("init")(init_cmd.init)
app.add_typer(config_cmd.app, name="config")
app.add_typer(data_cmd.app, name="data")
app.add_typer(daemon_cmd.app, name="daemon")
app.command("status")(status_cmd.status)
app.add_typer(alerts_cmd.app, name="alerts")
app.add_typer(strategy_cmd.app, name="strategy")
strategy_cmd.app.command("parity")(parity_cmd.parity)
strategy_cmd.app.command("add")(strategy_add_cmd.add)
app.command("backtest")(backtest_cmd.backtest)
app.command("generate")(generate_cmd.generate)
app.command("validate")(validate_cmd.validate)
app.command("optimize")(optimize_cmd.optimize)
app.add_typer(trade_cmd.app, name="trade")
app.add_typer(orders_cmd.app, name="orders")
app.command("positions")(orders_cmd.positions)
app.command("balance")(orders_cmd.balance)
app.add_typer(risk_cmd.app, name="risk")
app.add_typer(goal_cmd.app, name="goal")
app.command("tui")(tui_cmd.tui)
app.add_typer(rl_cmd.app, name="rl")
app.command("completion")(completion_cmd.completion)
app.command("examples")(examples_cmd.examples)
app.add_typer(ml_cmd.app, name="ml")


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())
