"""Every `mt` command the README and the documentation site show exists, with every option they give it.

The pages are read as a new user reads them: each line of a code block, and each inline code span, that
starts a command with `mt` (after any `VAR=value` prefix) names sub-commands the CLI has and options those
commands take. A renamed option or command, or one documented before it was written, fails here naming
the page and the line, instead of failing for the trader who copies it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from mastertrade.cli.app import app

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
GLOBAL = {"--help", "-h"}
TOP = {"--install-completion", "--show-completion", "--version", "-v", "-vv"}


def commands_shown(text: str) -> list[tuple[int, str]]:
    """(line number, command text) of every `mt ...` in a code block or an inline code span."""
    found: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            code = "" if line.lstrip().startswith("#") else line.split(" #")[0]
            # commands joined by ; && || $( ) or a pipe, or set side by side in columns
            parts = re.split(r";|&&|\|\||\$\(|\)| \| |\s{3,}", code)
        else:
            parts = [p for span in re.findall(r"`([^`]+)`", line) for p in re.split(r" ; |&&| \| ", span)]
        for part in parts:
            command = re.sub(r"^(\w+=\S+\s+)+", "", part.strip()).replace("\\|", "|")
            if re.match(r"mt(\s|$)", command):
                found.append((number, command))
    return found


def is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def resolve(root: Any, words: list[str]) -> tuple[Any, list[str], list[str]]:
    """The command ``words`` name, its path from ``mt``, and the words after it."""
    command, path = root, ["mt"]
    rest = list(words)
    while rest and is_group(command):
        if rest[0].startswith("-"):
            rest.pop(0)
        elif rest[0] in command.commands:
            command = command.commands[rest[0]]
            path.append(rest.pop(0))
        else:
            break
    return command, path, rest


def expand(root: Any, shown: str) -> list[str]:
    """`mt data download [--refetch]|sim|check [--repair]` is three commands; `--type market|limit` one."""
    words = shown.replace("[", " ").replace("]", " ").split()
    command, path, _ = resolve(root, words[1:])
    if "|" not in shown:
        return [shown]
    if not is_group(command):
        path = path[:-1]
        command = resolve(root, path[1:])[0]
    head = " ".join(path)
    if not shown.startswith(head) or not is_group(command):
        return [shown]
    choices: list[str] = []
    for choice in shown[len(head) :].split("|"):
        word = choice.strip().split(" ")[0].strip("[]")
        if word in command.commands or not choices:
            choices.append(choice)
        else:
            choices[-1] += "|" + choice
    return [f"{head} {choice.strip()}" for choice in choices]


def problems_in(root: Any, page: Path, base: Path = ROOT) -> list[str]:
    problems: list[str] = []
    for number, shown in commands_shown(page.read_text(encoding="utf-8")):
        for text in expand(root, shown):
            words = text.replace("[", " ").replace("]", " ").split()
            command, path, rest = resolve(root, words[1:])
            where = f"{page.relative_to(base)}:{number}: {text}"
            if is_group(command):
                word = next((w for w in rest if not w.startswith("-")), None)
                if word and "|" not in word and word != "..." and not word.isupper():
                    problems.append(f"{where}: {' '.join(path)} has no command {word!r}")
            options = set(GLOBAL) | (TOP if path == ["mt"] else set())
            for param in command.params:
                options.update(param.opts)
                options.update(param.secondary_opts)
            for word in rest:
                for option in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", word):
                    if not option.startswith("--") and len(option) > 3:
                        continue  # a negative number or a word with a dash, not an option
                    if option not in options:
                        problems.append(f"{where}: {' '.join(path)} has no option {option}")
    return problems


def root_command() -> Any:
    return typer.main.get_command(app)


def test_every_command_and_option_the_docs_show_exists() -> None:
    root = root_command()
    shown = sum(len(commands_shown(page.read_text(encoding="utf-8"))) for page in PAGES)
    assert shown > 400  # the pages were read: README alone shows a few hundred
    problems = [problem for page in PAGES for problem in problems_in(root, page)]
    assert problems == []


def test_a_wrong_command_or_option_is_found(tmp_path: Path) -> None:
    text = (
        "```sh\nmt data downlaod BTC/USDT   # typo\nMT_HOME=x mt backtest sma_cross --symbl X\n```\n"
        "and `mt strategy lst ; mt data sim BTC/USDT --bars 10`, `mt trade buy|sell X 1 [--price P]`\n"
    )
    fake = tmp_path / "README.md"
    fake.write_text(text, encoding="utf-8")
    found = problems_in(root_command(), fake, tmp_path)
    assert [problem.split(": ", 2)[2] for problem in found] == [
        "mt data has no command 'downlaod'",
        "mt backtest has no option --symbl",
        "mt strategy has no command 'lst'",
    ], found
