"""Every command that writes a file the trader names goes through one door (``cli/out_file.py``), with
one rule: a file of theirs is kept unless --force, and a folder that does not exist is named, never made.

Before, `mt backtest ... --plot chart.html` replaced a chart.html of the trader's without a word, and
`--plot` and `mt data export --out` made any missing folder (`/nonexistent/` for a typo) while
`mt optimize --out` refused one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import MT

END = "2026-01-01T00:00:00Z"
SERIES = ("--symbol", "BTC/USDT", "--timeframe", "1h")


@pytest.fixture
def stored(mt: MT) -> str:
    """A simulated series and a stored strategy on it; the strategy's id."""
    mt.json("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "300", "--seed", "2", "--end", END)
    return str(mt.json("strategy", "add", "sma_cross", *SERIES)["id"])


def _commands(strategy: str, out: Path) -> dict[str, tuple[str, ...]]:
    return {
        "backtest --plot": ("backtest", "sma_cross", *SERIES, "--plot", str(out)),
        "data export --out": ("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out)),
        "strategy export --out": ("strategy", "export", strategy, "--out", str(out)),
    }


COMMANDS = ["backtest --plot", "data export --out", "strategy export --out"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_of_yours_is_kept_unless_force(mt: MT, stored: str, tmp_path: Path, command: str) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    mine = folder / "mine.html"
    mine.write_text("my own notes\n", encoding="utf-8")
    mine.chmod(0o640)
    args = _commands(stored, mine)[command]
    refused = mt(*args)
    assert refused.exit_code == 2, refused.output
    assert refused.stderr in (
        f"mt: error: {mine} exists: pass --force to overwrite it\n",
        f"mt: error: {mine} exists with other content: pass --force to overwrite it\n",
    )
    assert mine.read_text(encoding="utf-8") == "my own notes\n"
    assert sorted(os.listdir(folder)) == ["mine.html"]  # nothing half-written beside it

    forced = mt(*args, "--force")
    assert forced.exit_code == 0, forced.output
    assert mine.read_text(encoding="utf-8") != "my own notes\n"
    assert mine.stat().st_mode & 0o777 == 0o640  # the replaced file's permissions
    assert sorted(os.listdir(folder)) == ["mine.html"]


@pytest.mark.parametrize("command", [*COMMANDS, "optimize --out"])
def test_a_missing_folder_is_named_and_never_made(mt: MT, stored: str, tmp_path: Path, command: str) -> None:
    out = tmp_path / "typo" / "deeper" / "out.html"
    if command == "optimize --out":
        args: tuple[str, ...] = ("optimize", "sma_cross", *SERIES, "--trials", "2", "--out", str(out))
    else:
        args = _commands(stored, out)[command]
    result = mt(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"mt: error: cannot write {str(out)!r}: the folder {str(out.parent)!r} does not exist (create it"
        " first)\n"
    )
    assert not (tmp_path / "typo").exists()


def test_force_without_a_plot_is_refused(mt: MT, stored: str) -> None:
    result = mt("backtest", "sma_cross", *SERIES, "--force")
    assert result.exit_code == 2
    assert result.stderr == "mt: error: --force overwrites the --plot file; give --plot FILE.html\n"


def test_examples_write_makes_the_folder_named_but_not_the_ones_above_it(mt: MT, tmp_path: Path) -> None:
    typo = tmp_path / "typo" / "cron"
    refused = mt("examples", "--write", str(typo))
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"mt: error: cannot write into {str(typo)!r}: the folder {str(typo.parent)!r} does not exist"
        " (create it first)\n"
    )
    assert not (tmp_path / "typo").exists()
    written = mt.json("examples", "--write", str(tmp_path / "cron"))
    assert {Path(path).parent for path in written["written"]} == {tmp_path / "cron"}


def test_a_file_that_appears_while_it_is_written_is_kept(tmp_path: Path) -> None:
    """The check before any work cannot see a file made during it (a long optimisation): the door puts
    the new file in place only where none is, unless --force."""
    from mastertrade.cli.out_file import write_out_with
    from mastertrade.errors import UserInputError

    folder = tmp_path / "mine"
    folder.mkdir()
    out = folder / "best.json"

    def write(partial: Path) -> None:
        partial.write_text("new\n", encoding="utf-8")
        out.write_text("made meanwhile\n", encoding="utf-8")  # the trader's, saved during the run

    with pytest.raises(UserInputError, match=f"^{out} exists: pass --force to overwrite it$"):
        write_out_with(out, write, force=False)
    assert out.read_text(encoding="utf-8") == "made meanwhile\n"
    assert sorted(os.listdir(folder)) == ["best.json"]
    write_out_with(out, write, force=True)
    assert out.read_text(encoding="utf-8") == "new\n"
