"""``mt config path`` names the database in force: with ``[db] url`` (or ``MT_DB__URL``) set it showed the
default SQLite file anyway, a file that is not the database (someone backing it up copied the wrong one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mastertrade.locations import locations
from tests.conftest import MT


def test_the_database_row_is_the_configured_one_password_masked(
    mt: MT, mt_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT_DB__URL", "postgresql+asyncpg://bob:hunter2@127.0.0.1:5432/mt")
    result = mt("config", "path", "--json")
    assert result.exit_code == 0 and "hunter2" not in result.stdout + result.stderr
    assert mt.json("config", "path")["database"] == "postgresql+asyncpg://bob:***@127.0.0.1:5432/mt"


def test_the_default_is_the_sqlite_file_in_the_data_folder(mt: MT, mt_home: Path) -> None:
    assert mt.json("config", "path")["database"] == str(mt_home / "data" / "mastertrade.db")


def test_a_broken_config_still_prints_the_paths_and_says_so(mt: MT, mt_home: Path) -> None:
    config = locations().config_file
    config.parent.mkdir(parents=True)
    config.write_text("[risk\n")
    result = mt("config", "path", "--json")
    assert result.exit_code == 0
    assert (
        f"{config}:1: invalid TOML" in result.stderr and "the database shown is the default" in result.stderr
    )
    assert '"config": "' + str(config) + '"' in result.stdout
