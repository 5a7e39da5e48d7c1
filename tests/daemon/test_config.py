"""The daemon's config sections: validation with one-line errors naming the value, Apprise URLs from
the environment as JSON, and examples/config.toml kept in sync with the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mastertrade.config import load_settings, render_config_file
from mastertrade.errors import ConfigError

EXAMPLE = Path(__file__).parents[2] / "examples" / "config.toml"
REGENERATE = (
    "examples/config.toml is out of date; regenerate it with: env -i .venv/bin/python -c "
    "\"from mastertrade.config import render_config_file; open('examples/config.toml', 'w')"
    '.write(render_config_file())"'
)


def test_the_example_config_is_what_mt_init_writes() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == render_config_file(), REGENERATE


def test_the_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_CONFIG", str(EXAMPLE))
    settings = load_settings()
    assert settings.scheduler.jobs["nightly_generation"] == "0 3 * * *"
    assert settings.api.tcp_port is None and settings.alerts.urls == []


def write_config(mt_home: Path, text: str) -> None:
    path = mt_home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[scheduler]\njobs = { nightly_generation = "0 25 * * *" }\n', "hour value '25' is outside 0-23"),
        ('[scheduler]\njobs = { data_refresh = "every hour" }\n', "expected 5 fields"),
        (
            '[scheduler]\njobs = { nightly_genration = "0 4 * * *" }\n',
            "key 'scheduler.jobs': .*unknown job 'nightly_genration': expected one of data_refresh,"
            " goal_snapshots, ml_retrain, nightly_generation, risk_metrics",
        ),
        ('[alerts]\nquiet_hours = "late"\n', "invalid quiet hours 'late'"),
        ('[alerts]\nevents = ["order_filled", "moon"]\n', "unknown alert event 'moon'"),
        ('[alerts]\ntimezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ("[api]\ntcp_port = 70000\n", "key 'api.tcp_port'"),
        ('[daemon]\nlog_level = "LOUD"\n', "key 'daemon.log_level'"),
    ],
)
def test_bad_values_are_reported_in_one_line(mt_home: Path, text: str, message: str) -> None:
    write_config(mt_home, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings()
    assert "\n" not in str(caught.value) and "config.toml:2" in str(caught.value)


def test_alert_urls_and_jobs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_ALERTS__URLS", json.dumps(["json://127.0.0.1:8000/a", "tgram://t/c"]))
    monkeypatch.setenv(
        "MT_SCHEDULER__JOBS", json.dumps({"data_refresh": "@hourly", "nightly_generation": ""})
    )
    monkeypatch.setenv("MT_API__TOKEN", "s3cret-token")
    settings = load_settings()
    assert settings.alerts.urls == ["json://127.0.0.1:8000/a", "tgram://t/c"]
    assert settings.scheduler.jobs == {
        "nightly_generation": "",
        "data_refresh": "@hourly",
        "risk_metrics": "*/5 * * * *",
        "goal_snapshots": "0 * * * *",
        "ml_retrain": "30 2 * * *",
    }
    assert settings.api.token is not None and settings.api.token.get_secret_value() == "s3cret-token"
    assert "s3cret-token" not in repr(settings)


def test_a_jobs_table_naming_one_job_leaves_the_others_scheduled(mt_home: Path) -> None:
    """`jobs = {nightly_generation = "0 4 * * *"}` (moving the nightly run) replaced the whole table:
    risk_metrics, goal_snapshots, data_refresh and ml_retrain were left unscheduled without a word."""
    write_config(mt_home, '[scheduler]\njobs = { nightly_generation = "0 4 * * *", ml_retrain = "" }\n')
    assert load_settings().scheduler.jobs == {
        "nightly_generation": "0 4 * * *",
        "data_refresh": "*/15 * * * *",
        "risk_metrics": "*/5 * * * *",
        "goal_snapshots": "0 * * * *",
        "ml_retrain": "",
    }


def test_the_jobs_a_schedule_may_name_are_the_daemons_jobs() -> None:
    """`[scheduler] jobs` refuses a name that is no job (a typo left the job it meant on its default
    schedule, said only by an INFO log line): the names it knows are exactly the daemon's jobs."""
    from mastertrade.config import SchedulerSettings
    from mastertrade.engine.services import build_jobs

    assert set(SchedulerSettings.model_fields["jobs"].default) == set(build_jobs().names())


def test_an_unknown_job_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_SCHEDULER__JOBS", json.dumps({"risk_metric": "*/10 * * * *"}))
    with pytest.raises(ConfigError, match="MT_SCHEDULER__JOBS: .*unknown job 'risk_metric'"):
        load_settings()
