"""The root's commands are declared with their one-line help and built only when used: ``mt --help``
lists every one without importing any command module, and each declared help is the command's own."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import typer.main

from mastertrade.cli.app import COMMANDS, app, build


def first_paragraph(command: object) -> str:
    """What the root's help lists for a command (Typer's ``_make_command_help``)."""
    text = getattr(command, "short_help", None) or getattr(command, "help", None) or ""
    return " ".join(inspect.cleandoc(text).split("\n\n")[0].split())


def test_each_declared_help_is_the_commands_own() -> None:
    for declared in COMMANDS:
        built = build(declared)
        assert built.name == declared.name
        assert " ".join(declared.summary.split()) == first_paragraph(built), declared.name
        assert not built.hidden and not built.deprecated


def test_the_root_lists_the_declared_commands_and_builds_one_when_it_is_used() -> None:
    root = typer.main.get_command(app)
    names = [declared.name for declared in COMMANDS]
    assert list(root.commands) == names  # type: ignore[attr-defined]
    assert len(set(names)) == len(names)
    assert root.commands.listed("data").name == "data"  # type: ignore[attr-defined]
    assert root.commands._built == {}  # type: ignore[attr-defined]
    data = root.commands["data"]  # type: ignore[attr-defined]
    assert "download" in data.commands and list(root.commands._built) == ["data"]  # type: ignore[attr-defined]


def test_mt_help_imports_no_command_module() -> None:
    script = (
        "import json, sys\nfrom mastertrade.cli.app import main\nsys.argv = ['mt', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.startswith('mastertrade.cli.'))))"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    commands = {declared.target.partition(":")[0] for declared in COMMANDS} - {"mastertrade.cli.app"}
    assert not loaded & commands, sorted(loaded & commands)
    for declared in COMMANDS:  # every command is listed, with its help
        assert f" {declared.name} " in out.stdout, declared.name
