"""The database URL as the user writes it: a raw ``@`` in the password is refused at config load in one
line naming the host (SQLAlchemy would take the host from inside the password); passwords are masked
wherever the URL is shown, whatever they hold; a database that cannot be opened is one line, not a
traceback. None of this needs a server: a refused port stands in for a Postgres that is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mastertrade.config import load_settings, mask_url
from mastertrade.db.database import create_engine
from mastertrade.errors import ConfigError, UserInputError
from mastertrade.locations import locations
from tests.conftest import MT

TWO_AT_SIGNS = "postgresql+asyncpg://mt:hunt@er2@127.0.0.1:5432/test"


def test_a_raw_at_sign_in_the_password_is_refused_naming_the_host_only(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT_DB__URL", TWO_AT_SIGNS)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert "postgresql+asyncpg://***@127.0.0.1:5432/test holds more than one '@'" in str(refused.value)
    assert "%40" in str(refused.value) and "hunt" not in str(refused.value)
    result = mt("data", "list")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("mt: error: environment variable MT_DB__URL: ")
    assert result.stderr.count("\n") == 1 and "hunt" not in result.stderr and "er2" not in result.stderr
    with pytest.raises(UserInputError, match="more than one '@'"):
        create_engine(TWO_AT_SIGNS)  # `mt init --db-url` and tests reach the engine without Settings


def test_the_config_file_refuses_it_too_without_echoing_it(mt_home: Path) -> None:
    config = locations().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[db]\nurl = "{TWO_AT_SIGNS}"\n')
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert f"{config}:2: key 'db.url'" in str(refused.value) and "hunt" not in str(refused.value)


def test_a_database_no_driver_reaches_is_a_config_error_naming_the_key(
    mt: MT, mt_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`url = "mysql://..."` passed `mt config show` and `mt daemon start` forked a daemon that died
    at once: exit 1, "the daemon exited during start-up (exit code 2)", no key or line named."""
    config = locations().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[db]\nurl = "mysql://bob:hunter2@db/mt"\n')
    said = (
        f"mt: error: {config}:2: key 'db.url': Value error, unsupported database URL"
        " 'mysql://bob:***@db/mt': use sqlite+aiosqlite://... or postgresql+asyncpg://...\n"
    )
    for command in (("config", "show"), ("daemon", "start")):
        refused = mt(*command)
        assert refused.exit_code == 2 and refused.stderr == said, refused.output
    config.unlink()
    monkeypatch.setenv("MT_DB__URL", "postgresql+psycopg2://bob:hunter2@db/mt")
    with pytest.raises(
        ConfigError, match=r"MT_DB__URL: .*unsupported database URL 'postgresql\+psycopg2://bob:\*\*\*@db"
    ):
        load_settings()


def test_an_encoded_at_sign_is_accepted_and_read_as_part_of_the_password() -> None:
    engine = create_engine("postgresql+asyncpg://mt:hunt%40er2@127.0.0.1:5432/test")
    assert engine.url.password == "hunt@er2" and engine.url.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+asyncpg://bob:hunter2@db/mt", "postgresql+asyncpg://bob:***@db/mt"),
        ("postgresql+asyncpg://bob:hun/ter2@db/mt", "postgresql+asyncpg://bob:***@db/mt"),
        ("postgresql+asyncpg://bob:hun?ter#2@db:5432/mt", "postgresql+asyncpg://bob:***@db:5432/mt"),
        ("postgresql+asyncpg://bob@db:5432/mt", "postgresql+asyncpg://bob@db:5432/mt"),
        ("sqlite+aiosqlite:////data/a:b@c.db", "sqlite+aiosqlite:////data/a:b@c.db"),
    ],
)
def test_passwords_are_masked_whatever_they_hold(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert create_engine(url).url.host in ("db", None)  # the host SQLAlchemy connects to: the one shown


def test_config_show_masks_a_password_with_a_slash(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_DB__URL", "postgresql+asyncpg://bob:s3cr/et@127.0.0.1:5432/mt")
    shown = mt("config", "show")
    assert shown.exit_code == 0, shown.output
    assert "s3cr" not in shown.output and "bob:***@127.0.0.1:5432/mt" in shown.output


def test_a_secret_of_the_wrong_type_is_not_echoed() -> None:
    secrets = locations().secrets_file
    secrets.parent.mkdir(parents=True, exist_ok=True)
    secrets.write_text("api_key = 98765432\n")
    secrets.chmod(0o600)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert "exchange.api_key" in str(refused.value) and "98765432" not in str(refused.value)


def test_a_database_that_cannot_be_opened_is_one_line(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_DB__URL", "postgresql+asyncpg://bob:hunter2@127.0.0.1:9/none")  # port 9: refused
    down = mt("data", "list")
    assert down.exit_code == 1 and down.stdout == ""
    assert down.stderr.startswith(
        "mt: error: cannot open database postgresql+asyncpg://bob:***@127.0.0.1:9/none: "
    )
    assert down.stderr.count("\n") == 1 and "hunter2" not in down.stderr
    monkeypatch.setenv("MT_DB__URL", "sqlite+aiosqlite:////proc/no-such-folder/mt.db")
    nowhere = mt("data", "list")
    assert nowhere.exit_code == 1
    assert nowhere.stderr == (
        "mt: error: cannot open database /proc/no-such-folder/mt.db: No such file or directory\n"
    )


def test_a_relative_sqlite_path_is_refused_and_a_home_path_is_expanded(
    mt: MT, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MT_DB__URL", "sqlite+aiosqlite:///mt.db")
    relative = mt("data", "list")
    assert relative.exit_code == 2 and relative.stderr == (
        "mt: error: the SQLite file 'mt.db' in the database URL is a relative path, so each folder mt runs"
        " from (cron, systemd, your shell) would get a database of its own: write it absolute, like"
        f" sqlite+aiosqlite:///{tmp_path}/mt.db\n"
    )
    assert list(tmp_path.iterdir()) == []  # nothing made
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MT_DB__URL", "sqlite+aiosqlite:///~/mt.db")
    listed = mt("data", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert (home / "mt.db").stat().st_size > 0  # the schema went into the file under HOME
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+asyncpg//bob:hunter2@db/mt", "***@db/mt"),  # no "://": the password cannot be told
        ("postgresql+asyncpg://bob:hunter2@db:fivefour/mt", "postgresql+asyncpg://bob:***@db:fivefour/mt"),
    ],
)
def test_an_unreadable_url_is_one_line_without_its_password(
    mt: MT, monkeypatch: pytest.MonkeyPatch, url: str, shown: str
) -> None:
    monkeypatch.setenv("MT_DB__URL", url)
    result = mt("data", "list")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"mt: error: invalid database URL '{shown}': expected sqlite+aiosqlite:////PATH/FILE.db or"
        " postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DATABASE\n"
    )


@pytest.mark.parametrize("port", ["0", "65536", "99999"])
def test_a_port_outside_1_to_65535_is_bad_input_naming_it(
    mt: MT, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, port: str
) -> None:
    """asyncpg refused it only while connecting ("connect(): port must be 0-65535.", exit 1, as if the
    server were down), and took port 0 for a real one."""
    monkeypatch.setenv("MT_DB__URL", f"postgresql://bob:hunter2@127.0.0.1:{port}/mt")
    result = mt("data", "list")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"mt: error: invalid database URL 'postgresql+asyncpg://bob:***@127.0.0.1:{port}/mt': port {port}"
        " is not in 1..65535\n"
    )
    monkeypatch.delenv("MT_DB__URL")
    monkeypatch.setenv("MT_HOME", str(tmp_path / "ws"))
    init = mt("init", "--db-url", f"postgresql://bob@127.0.0.1:{port}/mt")
    assert init.exit_code == 2 and f"port {port} is not in 1..65535" in init.stderr
    assert not (tmp_path / "ws").exists()  # nothing written


def test_spaces_around_the_url_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_DB__URL", "  postgresql+asyncpg://bob@db/mt\n")
    assert load_settings().db.url == "postgresql+asyncpg://bob@db/mt"


def test_a_password_in_the_query_is_masked_everywhere_the_url_is_shown(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLAlchemy passes the query to asyncpg, so `?password=` is the password: `mt config show`,
    `mt config path` and the error of a database that cannot be opened printed it."""
    url = "postgresql+asyncpg://bob@127.0.0.1:9/none?ssl=disable&password=hunter2"  # port 9: refused
    assert create_engine(url).dialect.create_connect_args(create_engine(url).url)[1]["password"] == "hunter2"
    masked = "postgresql+asyncpg://bob@127.0.0.1:9/none?ssl=disable&password=***"
    assert mask_url(url) == masked
    monkeypatch.setenv("MT_DB__URL", url)
    shown, paths, down = mt("config", "show"), mt("config", "path", "--json"), mt("data", "list")
    assert shown.exit_code == 0 and f'url = "{masked}"' in shown.stdout
    assert paths.exit_code == 0 and json.loads(paths.stdout)["database"] == masked
    assert down.exit_code == 1 and down.stderr.startswith(f"mt: error: cannot open database {masked}: ")
    assert all("hunter2" not in result.output for result in (shown, paths, down))


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://bob:hunter2@127.0.0.1:9/none", "postgresql+asyncpg"),
        ("postgres://bob:hunter2@127.0.0.1:9/none", "postgresql+asyncpg"),
        ("PostgreSQL://bob@127.0.0.1:9/none", "postgresql+asyncpg"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite"),
    ],
)
def test_a_url_without_a_driver_reaches_the_async_one(
    mt: MT, monkeypatch: pytest.MonkeyPatch, given: str, driver: str
) -> None:
    """``postgresql://`` is what psql, libpq and hosting dashboards give; it was refused as unsupported."""
    assert create_engine(given).url.drivername == driver
    monkeypatch.setenv("MT_DB__URL", given)
    assert load_settings().db.url == driver + "://" + given.partition("://")[2]
    if driver.startswith("postgresql"):  # port 9 refuses: the driver was reached, the password not shown
        down = mt("data", "list")
        assert down.exit_code == 1 and "hunter2" not in down.stderr
        assert down.stderr.startswith("mt: error: cannot open database postgresql+asyncpg://bob")


def test_another_driver_is_still_refused_by_name() -> None:
    with pytest.raises(
        UserInputError, match=r"unsupported database URL 'postgresql\+psycopg2://bob:\*\*\*@db/mt'"
    ):
        create_engine("postgresql+psycopg2://bob:secret@db/mt")
