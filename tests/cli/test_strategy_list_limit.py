"""`mt strategy list --limit` has an upper bound: `--limit 2**63` ended in an OverflowError traceback from
the database driver ("Python int too large to convert to SQLite INTEGER"); `--all` asks for every one."""

from __future__ import annotations

import pytest

from tests.conftest import MT


@pytest.mark.parametrize("limit", [str(2**63), str(10**30), "1000001"])
def test_a_limit_past_a_million_is_refused_naming_it(mt: MT, limit: str) -> None:
    result = mt("strategy", "list", "--limit", limit)
    assert result.exit_code == 2
    assert result.stderr == (
        "mt: error: mt strategy list: Invalid value for '--limit': Input should be less than or equal to"
        f" 1000000 (got {limit}) (see `mt strategy list --help`)\n"
    )


def test_a_limit_of_a_million_lists(mt: MT) -> None:
    assert mt.json("strategy", "list", "--limit", "1000000") == []
