"""``mt completion SHELL``: print the shell completion script for bash, zsh or fish.

Typer's own ``--show-completion`` prints the script of the shell it detects and takes no argument, so a
script for another shell (a dotfiles repository, a container image) needs this command. The script is
Typer's: it calls ``mt`` back with ``_MT_COMPLETE`` set, so completion always matches the installed
commands.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

COMPLETE_VAR = "_MT_COMPLETE"


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to print the script for.", show_default=False)],
) -> None:
    """Print the completion script for a shell.

    Install it with, for example, `mt completion bash > ~/.local/share/bash-completion/completions/mt`,
    `mt completion zsh > ~/.zfunc/_mt` (with `fpath+=~/.zfunc; autoload -Uz compinit; compinit` in
    ~/.zshrc), or `mt completion fish > ~/.config/fish/completions/mt.fish`; or let
    `mt --install-completion` do it for the shell you are in.
    """
    from typer._completion_shared import get_completion_script  # Typer's, the one --show-completion prints

    typer.echo(get_completion_script(prog_name="mt", complete_var=COMPLETE_VAR, shell=shell.value))
