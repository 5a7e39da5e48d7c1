"""The documentation's command reference is generated from the Typer app (``docs/hooks/cli_reference.py``):
every command and every visible option appears, so the page cannot drift from the CLI."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import typer

from mastertrade.cli.app import app

HOOK = Path(__file__).parents[2] / "docs" / "hooks" / "cli_reference.py"


def load_hook() -> Any:
    spec = importlib.util.spec_from_file_location("cli_reference", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def walk(command: Any, path: list[str]) -> list[tuple[str, Any]]:
    found = [(" ".join(path), command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not sub.hidden:
            found += walk(sub, [*path, name])
    return found


def test_every_command_and_option_is_in_the_generated_reference() -> None:
    hook = load_hook()
    page = hook.on_page_markdown(f"# Commands\n\n{hook.MARKER}\n", None, None, None)
    assert hook.MARKER not in page
    commands = walk(typer.main.get_command(app), ["mt"])
    assert len(commands) > 50
    for name, command in commands:
        assert f"## `{name}`" in page, name
        section = page.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                assert f"`{param.opts[0]}`" in section, (name, param.opts)
    assert "| `--when` | `<str>` |" in page and "| `--json` | flag |" in page


def test_pages_without_the_marker_are_left_alone() -> None:
    assert load_hook().on_page_markdown("# Install\n", None, None, None) == "# Install\n"
