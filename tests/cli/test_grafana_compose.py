"""``examples/grafana/docker-compose.yml``: Prometheus must be able to read the daemon's api-token file,
which the daemon writes mode 0600 for its own user, while the prom/prometheus image runs as "nobody"."""

from __future__ import annotations

import stat
from pathlib import Path

import yaml

COMPOSE = Path(__file__).parents[2] / "examples" / "grafana" / "docker-compose.yml"


def test_the_api_token_file_is_private_to_its_owner() -> None:
    from mastertrade.config import load_settings
    from mastertrade.engine.api.auth import ensure_token, token_file

    ensure_token(load_settings())
    assert stat.S_IMODE(token_file().stat().st_mode) == 0o600  # so the container's user must be able to


def test_prometheus_runs_as_a_user_that_can_read_the_mounted_token() -> None:
    service = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]["prometheus"]
    assert any(volume.endswith(":/etc/prometheus/mt-api-token:ro") for volume in service["volumes"])
    # "nobody" (the image's user) cannot open a 0600 file of another user; root in the container can
    assert str(service.get("user")) in {"root", "0", "0:0"}
