"""`mt examples --mt` is written into the crontab's and the unit's command lines: a newline in it ended a
crontab line there and made the rest a line of its own that cron would run (`--mt $'mt\\n* * * * * rm
-rf ~'`), and a blank one was taken as not given. Both are refused, naming the value, and nothing is
written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MT


@pytest.mark.parametrize("value", ["/usr/bin/mt\n* * * * * rm -rf ~", "mt\r", "mt\x1b[31m", "", " "])
def test_a_blank_or_multi_line_mt_command_is_refused(mt: MT, tmp_path: Path, value: str) -> None:
    printed = mt("examples", "crontab", "--mt", value)
    assert printed.exit_code == 2
    assert printed.stderr.startswith(f"mt: error: invalid --mt {value!r}: ")
    assert printed.stdout == ""
    written = mt("examples", "--write", str(tmp_path / "cron"), "--mt", value)
    assert written.exit_code == 2
    assert not (tmp_path / "cron").exists()


def test_a_path_with_spaces_and_accents_is_still_taken(mt: MT) -> None:
    result = mt("examples", "crontab", "--mt", "/opt/my tools/métier/mt")
    assert result.exit_code == 0
    assert "/opt/my tools/métier/mt" in result.stdout
