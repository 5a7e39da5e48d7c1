"""A name or id sent to the daemon as a path segment is never empty: `mt daemon run ''` asked for
`POST /v1/jobs//run` and `mt strategy paper ''` for `POST /v1/strategies//paper`, answered "no such
endpoint" with the request's path, naming neither the value nor what was wrong with it."""

from __future__ import annotations

import pytest

from tests.conftest import MT


@pytest.mark.parametrize(
    ("command", "blank"),
    [
        (["daemon", "run"], ""),
        (["daemon", "run"], " "),
        (["strategy", "paper"], ""),
        (["strategy", "retire"], ""),
        (["strategy", "activate"], ""),
    ],
)
def test_an_empty_name_or_id_is_refused_before_anything_is_sent(
    mt: MT, command: list[str], blank: str
) -> None:
    result = mt(*command, blank)
    assert result.exit_code == 2
    assert result.stderr == f"mt: error: invalid {blank!r}: an empty name or id\n"
