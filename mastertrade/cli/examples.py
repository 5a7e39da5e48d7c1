"""``mt examples [NAME] [--write DIR]``: the crontab, cron scripts and systemd unit that ship inside the
package, printed or written with absolute paths filled in.

The files live in ``mastertrade/examples_data`` (part of the wheel, so a pipx install has them). They
hold three tokens: ``@MT@`` becomes the command that runs this ``mt`` (an absolute path: cron's PATH is
``/usr/bin:/bin`` and cron never expands ``$HOME`` in a variable assignment), ``@DIR@`` the folder the
scripts are written to (quoted for the shell: cron runs its lines with ``/bin/sh``), and ``@ENV@`` the
``MT_HOME`` of this shell when one is set (a crontab line or a systemd ``Environment=``), so the job
sees the same workspace as the shell that wrote it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.errors import UserInputError

# name -> (what it is, the other examples it calls)
EXAMPLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "crontab": (
        "cron entries: keep-alive every 5 minutes, a morning report, a daily status snapshot",
        ("keep-alive.sh", "nightly-report.sh"),
    ),
    "keep-alive.sh": ("start the daemon when it is not running (for cron)", ()),
    "nightly-report.sh": ("the morning report (`mt report --send`) through the alert targets", ()),
    "mastertrade.service": ("systemd user unit running the daemon in the foreground", ()),
}


def mt_command() -> str:
    """How to run this ``mt`` from anywhere: the absolute path of the running ``mt`` script, else the
    ``mt`` found on PATH, else this interpreter with ``-m mastertrade``."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "mt" and argv0.exists():
        return shlex.quote(str(argv0.absolute()))
    found = shutil.which("mt")
    if found:
        return shlex.quote(str(Path(found).absolute()))
    return f"{shlex.quote(sys.executable)} -m mastertrade"


def check_mt_command(mt: str) -> None:
    """Refuse a ``--mt`` that is blank (it was taken as not given) or holds a character no command line
    shows as itself: a newline in it ended the crontab's line there, the rest a line of its own that cron
    would run, and a systemd unit's line likewise."""
    if not mt.strip():
        raise UserInputError(f"invalid --mt {mt!r}: give the command that runs mt, like /usr/local/bin/mt")
    if not mt.isprintable():
        raise UserInputError(
            f"invalid --mt {mt!r}: a newline, tab or other control character would break the files' lines"
        )


def render(name: str, *, mt: str, directory: Path) -> str:
    """The example ``name`` with its tokens filled in. A ``%`` in a filled-in path is escaped where it
    is special: in a crontab's commands (cron turns a bare ``%`` into a newline) and in a systemd unit
    (where ``%d``, ``%h`` ... are specifiers)."""
    text = (resources.files("mastertrade") / "examples_data" / name).read_text(encoding="utf-8")
    unit = name.endswith(".service")
    home = os.environ.get("MT_HOME")
    if home:
        workspace = str(Path(home).expanduser().absolute())
        # systemd splits an unquoted Environment= at spaces; cron takes the rest of the line as it is.
        env = f'Environment="MT_HOME={_unit_text(workspace)}"' if unit else f"MT_HOME={workspace}"
    else:
        env = ""
    folder = shlex.quote(str(directory))
    if name == "crontab":
        folder = folder.replace("%", "\\%")
    lines = []
    for line in text.splitlines():
        if line.strip() == "@ENV@":
            if env:
                lines.append(env)
            continue
        lines.append(line.replace("@MT@", _unit_text(mt) if unit else mt).replace("@DIR@", folder))
    return "\n".join(lines) + "\n"


def _unit_text(text: str) -> str:
    """``text`` for a systemd unit file, where ``%`` starts a specifier and ``%%`` is a percent sign."""
    return text.replace("%", "%%")


def examples(
    name: Annotated[
        str | None,
        typer.Argument(
            help="The example to print or write (default: list them; with --write, all).",
            show_default=False,
            autocompletion=lambda incomplete: [n for n in EXAMPLES if n.startswith(incomplete)],
        ),
    ] = None,
    write: Annotated[
        Path | None,
        typer.Option(
            "--write",
            help="Write the example (and the scripts it calls) into this folder (made if missing; the"
            " folder above it must exist).",
        ),
    ] = None,
    mt: Annotated[
        str | None,
        typer.Option("--mt", help="Command that runs mt in the files (default: this mt's absolute path)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace files that exist with other content.")
    ] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Print or write the cron and systemd examples, with absolute paths filled in.

    `mt examples` lists them; `mt examples crontab` prints one; `mt examples --write ~/mastertrade-cron`
    writes them all (then `crontab ~/mastertrade-cron/crontab`, or merge it with `crontab -e`).
    An existing file with other content is kept unless --force is given.
    """
    if name is not None and name not in EXAMPLES:
        raise UserInputError(f"unknown example {name!r}: choose from {', '.join(EXAMPLES)}")
    if mt is not None:
        check_mt_command(mt)
    command = mt or mt_command()
    if write is None:
        if name is None:
            if json_out:
                print_json([{"name": n, "description": d} for n, (d, _) in EXAMPLES.items()])
            else:
                print_table(["example", "what it is"], [(n, d) for n, (d, _) in EXAMPLES.items()])
            return
        from mastertrade.locations import locations

        default_dir = locations().data_dir / "examples"
        if EXAMPLES[name][1]:
            info(
                f"paths assume the scripts are in {default_dir}; `mt examples {name} --write DIR` writes them"
            )
        text = render(name, mt=command, directory=default_dir)
        if json_out:
            print_json({"name": name, "text": text})
        else:
            sys.stdout.write(text)
        return
    from mastertrade.cli.out_file import check_out, check_out_folder, make_out_folder, write_out

    directory = write.expanduser().absolute()
    check_out_folder(directory)  # the folder named is made, never the folders above it (a typo)
    names = list(EXAMPLES) if name is None else [name, *EXAMPLES[name][1]]
    texts = {n: render(n, mt=command, directory=directory) for n in names}
    if directory.is_dir():
        for n, text in texts.items():  # every file checked before any is written
            check_out(directory / n, force=force, text=text)
    make_out_folder(directory)
    written = []
    for n, text in texts.items():
        path = directory / n
        write_out(path, text, force=force, mode=0o755 if n.endswith(".sh") else 0o644)
        written.append(str(path))
    if json_out:
        print_json({"written": written, "mt": command})
        return
    for path_text in written:
        info(f"wrote {path_text}")
