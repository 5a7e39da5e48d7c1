"""The ``mt`` command: the root Typer app and its command groups, one module per group.

This module is imported by ``mt --help``: it and the group modules import only typer at module level;
everything heavy (pandas, ccxt, numba, sqlalchemy ...) is imported inside the command that uses it.

The commands and groups are declared in ``COMMANDS`` (name, where it lives, its one-line help) and built
only when used: ``mt backtest ...`` imports and builds ``backtest`` alone, ``mt data --help`` the ``data``
group alone, and ``mt --help`` none of them (its listing is the declared one-line helps; a test holds
them equal to the commands' own). Typer builds every parameter of every command it is given, and that,
with the command modules' imports, was most of ``mt --help``'s start-up.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import typer
import typer.main
from typer import _click  # Typer >= 0.25 vendors click; its Context is the one passed here
from typer.core import TyperCommand, TyperGroup

from mastertrade import __version__
from mastertrade.cli import help_format, termination
from mastertrade.cli.output import error, remember_command_line
from mastertrade.errors import MasterTradeError, UserInputError

help_format.install()


class Declared:
    """A command or group of the root, declared without importing it: ``target`` is
    ``"module:attribute"`` (a command's function, or a group's Typer app, or with ``factory`` a function
    that returns the group), ``summary`` the one-line help ``mt --help`` lists (the first paragraph of the
    command's own help)."""

    def __init__(self, name: str, target: str, summary: str, *, factory: bool = False) -> None:
        self.name = name
        self.target = target
        self.summary = summary
        self.factory = factory

    def load(self) -> Any:
        module, _, attribute = self.target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        return found() if self.factory else found


COMMANDS = [
    Declared(
        "demo",
        "mastertrade.cli.demo:demo",
        "Run the offline demo: simulated market, daemon, quick generation, paper trading and the dashboard.",
    ),
    Declared(
        "init",
        "mastertrade.cli.init:init",
        "Write config.toml (kept if it exists), create the database and bring its schema up to date.",
    ),
    Declared(
        "status",
        "mastertrade.cli.status:status",
        "Show the daemon's services, venue, last candle per symbol, event lag, jobs and uptime.",
    ),
    Declared(
        "backtest",
        "mastertrade.cli.backtest:backtest",
        "Backtest a strategy on stored candles and print its metrics.",
    ),
    Declared(
        "generate",
        "mastertrade.cli.generate:generate",
        "Generate strategies with a genetic search and store them with their validation.",
    ),
    Declared(
        "validate",
        "mastertrade.cli.validate:validate",
        "Validate a strategy on stored candles: walk-forward metrics per window, the deflated Sharpe ratio "
        "for the number of trials you declare, 95% bootstrap intervals for the Sharpe ratio and the maximum "
        "drawdown, buy-and-hold as the baseline, and a plain verdict. Nothing is stored or changed.",
    ),
    Declared(
        "optimize",
        "mastertrade.cli.optimize:optimize",
        "Tune a strategy on the search window, then score the best once on the hold-out the tuning never "
        "saw and judge it with the default filter. Genomes: the numeric parameters (indicator settings, "
        "stops) with Optuna, or the structure with --evolve. Plugins: the int and float parameters they "
        "declare. The trials join the series' trial registry; the report gives the deflated Sharpe ratio "
        "over every trial counted and the probability of backtest overfitting of the tuning.",
    ),
    Declared(
        "positions",
        "mastertrade.cli.orders:positions",
        "The account's open positions (or a strategy paper book's) with their marks and P&L.",
    ),
    Declared("balance", "mastertrade.cli.orders:balance", "The account's balances, equity and P&L."),
    Declared(
        "report",
        "mastertrade.cli.report:report",
        "The morning report: equity and its change, P&L, positions, fills, risk and prices; --send sends it.",
    ),
    Declared(
        "tui",
        "mastertrade.cli.tui:tui",
        "Open the live dashboard: prices, charts, strategies, orders, risk, alerts.",
    ),
    Declared(
        "completion", "mastertrade.cli.completion:completion", "Print the completion script for a shell."
    ),
    Declared(
        "examples",
        "mastertrade.cli.examples:examples",
        "Print or write the cron and systemd examples, with absolute paths filled in.",
    ),
    # the groups (Typer lists commands first, then groups)
    Declared(
        "config", "mastertrade.cli.config:app", "Show the effective settings and where everything lives."
    ),
    Declared(
        "data",
        "mastertrade.cli.data:app",
        "Market data: download, simulate, import, export, list, check and delete candles.",
    ),
    Declared("daemon", "mastertrade.cli.daemon:app", "Start, stop and watch the engine daemon."),
    Declared("alerts", "mastertrade.cli.alerts:app", "Alert rules, targets (Apprise URLs) and history."),
    Declared(
        "strategy",
        "mastertrade.cli.app:strategy_app",
        "Strategies: show a genome, list built-in, plugin and stored strategies and the generation runs that "
        "stored them, move stored ones through paper and active trading, export them.",
        factory=True,
    ),
    Declared(
        "trade",
        "mastertrade.cli.trade:app",
        "Place manual orders (risk-checked, paper unless live is confirmed).",
    ),
    Declared(
        "orders",
        "mastertrade.cli.orders:app",
        "The account's orders; `mt orders show ID` shows one, `mt orders cancel ID` cancels one.",
    ),
    Declared(
        "risk",
        "mastertrade.cli.risk:app",
        "Risk: exposure, drawdown, circuit breakers, VaR; the kill switch.",
    ),
    Declared(
        "goal",
        "mastertrade.cli.goal:app",
        "Goals: targets, progress, projected dates and the risk factor they set.",
    ),
    Declared(
        "rl",
        "mastertrade.cli.rl:app",
        "Reinforcement learning: a PPO trading policy as a strategy of kind model (needs the [ml] extra).",
    ),
    Declared(
        "ml",
        "mastertrade.cli.ml:app",
        "Machine learning: next-bar return forecasts (LSTM-Transformer, LightGBM) as strategy features.",
    ),
]
"""Every command and group of ``mt``, in the order ``mt --help`` lists them."""


def strategy_app() -> typer.Typer:
    """The ``strategy`` group, with ``parity``, ``add`` and ``runs``, which live in modules of their own."""
    from mastertrade.cli import generation_runs as runs_cmd
    from mastertrade.cli import parity as parity_cmd
    from mastertrade.cli import strategy as strategy_cmd
    from mastertrade.cli import strategy_add as strategy_add_cmd

    group = strategy_cmd.app
    registered = {command.name for command in group.registered_commands}
    if "parity" not in registered:
        group.command("parity")(parity_cmd.parity)
    if "add" not in registered:
        group.command("add")(strategy_add_cmd.add)
    if "runs" not in registered:
        group.command("runs")(runs_cmd.runs)
    return group


def build(command: Declared) -> _click.Command:
    """The click command of ``command``, built by Typer exactly as if it had been registered on the root
    app (the root's markup mode and exception settings), with negative numbers taken as values."""
    target = command.load()
    holder = typer.Typer(
        rich_markup_mode=app.rich_markup_mode,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    holder.callback()(_nothing)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=command.name)
    else:
        holder.command(command.name)(target)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    built = group.commands[command.name]
    _negative_numbers_are_values(built)
    _options_given_once(built)
    _plain_numbers(built)
    return built


def _nothing() -> None:
    """The holder's callback (it makes Typer build a group around the one command)."""


class LazyCommands(MutableMapping[str, _click.Command]):
    """The root's commands: every declared name is there, and a command is built on first access
    (``mt backtest`` builds ``backtest`` alone; the documentation hook, walking every command, builds
    them all). ``listed`` gives what the root's help lists without building anything."""

    def __init__(self, declared: list[Declared], built: Mapping[str, _click.Command]) -> None:
        self._declared = {command.name: command for command in declared}
        self._built = dict(built)

    def __getitem__(self, name: str) -> _click.Command:
        found = self._built.get(name)
        if found is None:
            declared = self._declared.get(name)
            if declared is None:
                raise KeyError(name)
            found = self._built[name] = build(declared)
        return found

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._built.pop(name, None)
        self._declared.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._declared, *self._built]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self._declared, *self._built]))

    def __contains__(self, name: object) -> bool:
        return name in self._declared or name in self._built

    def listed(self, name: str) -> _click.Command | None:
        """The command as the root's help lists it: built already, or its declared one-line help."""
        found = self._built.get(name)
        if found is not None:
            return found
        declared = self._declared.get(name)
        return None if declared is None else TyperCommand(name=declared.name, help=declared.summary)


class MTGroup(TyperGroup):
    """Turns MasterTrade errors into one line on stderr and their exit code (2 for bad input); usage
    errors (an unknown option, a missing argument, a value that does not parse) too, instead of
    click's multi-line box. Its commands are ``COMMANDS``, built when used (``LazyCommands``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: LazyCommands = LazyCommands(COMMANDS, self.commands)
        self._listing = False

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if self._listing:
            return self.commands.listed(cmd_name)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        """The root's help lists the commands from their declared one-line helps, building none."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def make_context(self, *args: Any, **kwargs: Any) -> _click.Context:
        if kwargs.get("parent") is None and len(args) > 1:
            remember_command_line(args[1])
        try:
            return super().make_context(*args, **kwargs)
        except _click.exceptions.UsageError as exc:
            raise typer.Exit(_usage_error(exc)) from None

    def invoke(self, ctx: _click.Context) -> Any:
        with termination.terminated_as_interrupt() as terminated:
            return self._invoke(ctx, terminated)

    def _invoke(self, ctx: _click.Context, terminated: list[int]) -> Any:
        try:
            return super().invoke(ctx)
        except _click.exceptions.UsageError as exc:
            raise typer.Exit(_usage_error(exc, ctx)) from None
        except MasterTradeError as exc:
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            # A path typed too long for any file system (over 255 bytes a name) is refused by the first
            # call that touches it, wherever that is: bad input naming it, not a traceback.
            if exc.errno == errno.ENAMETOOLONG and exc.filename is not None:
                error(f"file name too long for the file system: {str(exc.filename)!r}")
                raise typer.Exit(2) from None
            # A full disk or a read-only file system is the machine's state, not a bug: one line naming
            # the file (what was being written is not kept: writes go through temporary files or roll back)
            if exc.errno in _NO_ROOM and exc.strerror:
                where = f"cannot write {exc.filename}: " if exc.filename is not None else ""
                error(f"{where}{exc.strerror}")
                raise typer.Exit(1) from None
            _database_trouble(exc)
            raise
        except Exception as exc:
            _database_trouble(exc)
            raise
        except KeyboardInterrupt:
            if terminated:  # SIGTERM (timeout, systemd, kill): Ctrl-C's clean end, told apart
                error("terminated (SIGTERM)")
                raise typer.Exit(termination.EXIT_CODE) from None
            error("interrupted")
            raise typer.Exit(130) from None


# errors that say the disk has no room or cannot be written, whatever the command was writing
_NO_ROOM = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO}


def _database_trouble(exc: BaseException) -> None:
    """A database that cannot be used now (locked by another process, full, read-only, its server down)
    ends the command with one line (exit 1) instead of a traceback; anything else returns (a bug keeps
    its traceback). The database rolled back what the command had begun."""
    from mastertrade.db.trouble import database_trouble

    reason = database_trouble(exc)
    if reason is None:
        return
    error(f"the database cannot be used: {reason}")
    raise typer.Exit(1) from None


def _negative_numbers_are_values(command: Any) -> None:
    """``mt goal remove -1`` passes -1 as the argument (to be refused by its validation, naming it),
    instead of failing with "No such option: -1": commands with a numeric argument take tokens that
    look like options as arguments (an unknown option then fails as an unexpected argument). Options
    already take the token after them, negative or not."""
    if hasattr(command, "commands"):
        for sub in command.commands.values():
            _negative_numbers_are_values(sub)
        return
    if any(
        param.param_type_name == "argument" and param.type_descriptor.annotation in (int, float)
        for param in command.params
    ):
        command.context_settings = {**command.context_settings, "ignore_unknown_options": True}


def _options_given_once(command: Any) -> None:
    """An option that takes one value is refused when given twice, naming both values: click keeps the
    last one silently, so `mt trade buy BTC/USDT 1 --type limit --price 100 --price 1000` placed a limit
    buy at 1000 and `mt data delete ... --since A --since B` deleted from B. Flags, counters and options
    that take several values (``--param``, ``--state``) may repeat."""
    if hasattr(command, "commands"):
        for sub in command.commands.values():
            _options_given_once(sub)
        return
    takes_value = {
        name: param
        for param in command.params
        if param.param_type_name == "option" and not param.is_flag and not param.count
        for name in param.opts
    }
    once = {name: param for name, param in takes_value.items() if not param.multiple}
    if not once:
        return
    parse_args = command.parse_args

    def parse_args_once(ctx: _click.Context, args: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        index = 0
        while index < len(args):
            word = args[index]
            if word == "--":  # the rest are arguments
                break
            name, equals, value = word.partition("=")
            if not (equals and name.startswith("--") and name in takes_value):
                name, value = word, args[index + 1] if index + 1 < len(args) else ""
                index += 1 if word in takes_value else 0
            index += 1
            param = once.get(name)
            if param is None:
                continue
            key = param.opts[0]
            if key in seen:
                raise UserInputError(f"{key} given twice ({seen[key]!r} and {value!r}): give it once")
            seen[key] = value
        return list(parse_args(ctx, args))

    command.parse_args = parse_args_once


def _plain_numbers(command: Any) -> None:
    """A number typed with an underscore or a character outside ASCII is refused, naming it: Python's
    ``float`` and ``int`` read ``1_0`` as 10 and full-width or Arabic-Indic digits as numbers, so
    `mt trade buy BTC/USDT 1_0` bought 10 and `--price １００` asked for 100. Checked on the text typed,
    before Typer converts it (for every int and float argument and option, from the command line or an
    environment variable)."""
    if hasattr(command, "commands"):
        for sub in command.commands.values():
            _plain_numbers(sub)
        return
    for param in command.params:
        if param.type_descriptor.annotation not in (int, float):
            continue
        name = param.opts[0] if param.param_type_name == "option" else (param.name or "").upper()
        process = param.process_value

        def checked(ctx: _click.Context, value: Any, process: Any = process, name: str = name) -> Any:
            for typed in value if isinstance(value, list | tuple) else (value,):
                if isinstance(typed, str) and (not typed.isascii() or "_" in typed):
                    raise UserInputError(
                        f"{name} {typed!r} is not a plain number: ASCII digits, without underscores"
                    )
            return process(ctx, value)

        param.process_value = checked


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


def _usage_error(exc: _click.exceptions.UsageError, group: _click.Context | None = None) -> int:
    """Print a usage error as one line naming the command and the bad value; its exit code (2).

    A command group run without a command (``mt``, ``mt config``) has printed its help: nothing more is
    said. An error the option parser raised without a context (``mt init --db-url`` with no value) is
    named after the command ``group`` (the root's context) was invoking."""
    if isinstance(exc, _click.exceptions.NoArgsIsHelpError):
        return exc.exit_code
    if exc.ctx is not None:
        where = exc.ctx.command_path
    elif group is not None:
        where = " ".join(filter(None, (group.command_path, group.invoked_subcommand)))
    else:
        where = "mt"
    message = " ".join(exc.format_message().split())
    given = _given(exc)
    if given is not None and given not in message:
        message = f"{message} (got {given})"
    # the root is the program itself, which `mt: error:` already names ("mt: error: mt: No such command")
    error(f"{message} (see `mt --help`)" if where == "mt" else f"{where}: {message} (see `{where} --help`)")
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


def main() -> None:
    """Console-script entry point."""
    try:
        code = app()
    except SystemExit as exc:
        code = exc.code
    if code in (termination.EXIT_CODE, 130) and _training_left_running():
        # Interrupted (Ctrl-C, SIGTERM) while a cancelled training's thread is still inside a step it
        # cannot be stopped in (JAX compiling): the interpreter would wait for it to end (20 s) after the
        # one line; it has nothing left to store. Only here, the real process's entry point, never in a
        # command invoked in-process. Any other end goes through the interpreter's finalisation: no
        # daemon thread runs compiled code then (the kernel-loading threads are joined first), which is
        # what crashed it once (exit -11 after "terminated (SIGTERM)", see ``pipeline.preload``).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _training_left_running() -> bool:
    """Whether a cancelled training's worker thread still runs (``engine/ml/stoppable.py``)."""
    stoppable = sys.modules.get("mastertrade.engine.ml.stoppable")
    return stoppable is not None and bool(stoppable.running())
