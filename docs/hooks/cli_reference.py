"""MkDocs hook: the command reference, generated from the Typer app at build time.

``docs/reference/commands.md`` holds the marker ``<!-- mt-commands -->``; this hook replaces it with one
section per command, walking the click command tree Typer builds from ``mastertrade.cli.app`` (help text,
usage, arguments and options with their types and defaults). Nothing is copied by hand, so the page
cannot drift from the CLI: a new command or option appears at the next build.
"""

from __future__ import annotations

import inspect
from typing import Any

MARKER = "<!-- mt-commands -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(param: Any) -> str:
    if getattr(param, "is_flag", False) or getattr(param, "count", False) or param.required:
        return ""
    default = param.default
    if default is None or default == () or default == []:
        return ""
    value = getattr(default, "value", default)
    return f"`{value}`"


def _param_rows(command: Any, ctx: Any) -> tuple[list[str], list[str]]:
    arguments, options = [], []
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        help_text = _cell(getattr(param, "help", None) or "")
        if param.param_type_name == "argument":
            kind = param.display_type(ctx) if hasattr(param, "display_type") else ""
            required = "required" if param.required else "optional"
            arguments.append(f"| `{param.name.upper()}` | `{kind}` | {required} | {help_text} |")
            continue
        names = ", ".join(f"`{name}`" for name in [*param.opts, *param.secondary_opts])
        if param.is_flag or param.count:
            kind = "flag"
        else:
            kind = f"`{param.display_type(ctx)}`" if hasattr(param, "display_type") else ""
        options.append(f"| {names} | {kind} | {_default(param)} | {help_text} |")
    return arguments, options


def _section(command: Any, path: list[str], parent_ctx: Any) -> list[str]:
    from typer import _click

    ctx = _click.Context(command, info_name=path[-1], parent=parent_ctx)
    name = " ".join(path)
    lines = [f"## `{name}`", ""]
    help_text = inspect.cleandoc(command.help or "")
    if help_text:
        lines += [help_text, ""]
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines += [f"**Usage:** `{name} {usage}`", ""]
    arguments, options = _param_rows(command, ctx)
    if arguments:
        lines += ["| Argument | Type | | Description |", "|---|---|---|---|", *arguments, ""]
    if options:
        lines += ["| Option | Type | Default | Description |", "|---|---|---|---|", *options, ""]
    subcommands = getattr(command, "commands", None)
    if subcommands:
        listed = [
            (sub_name, sub)
            for sub_name, sub in sorted(subcommands.items())
            if not getattr(sub, "hidden", False)
        ]
        lines += ["| Command | What it does |", "|---|---|"]
        lines += [
            f"| [`{name} {n}`](#{_anchor([*path, n])}) | {_cell(s.get_short_help_str(200))} |"
            for n, s in listed
        ]
        lines.append("")
        for sub_name, sub in listed:
            lines += _section(sub, [*path, sub_name], ctx)
    return lines


def _anchor(path: list[str]) -> str:
    return "-".join(path).lower()


def command_reference() -> str:
    """The whole reference as Markdown."""
    import typer

    from mastertrade.cli.app import app

    root = typer.main.get_command(app)
    return "\n".join(_section(root, ["mt"], None))


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, command_reference())
