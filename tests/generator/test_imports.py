"""What a generation run (and `mt strategy list`, which reads the pipeline's row format) imports before it
needs it, checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys


def modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_the_pipeline_module_loads_no_compiler() -> None:
    """The pipeline's row format and request types need no kernel: numba loads when a search starts."""
    loaded = modules_after("import mastertrade.engine.generator.pipeline")
    assert "numba" not in loaded
    assert "mastertrade.engine.generator.kernel" not in loaded


def test_reading_stored_features_loads_no_http_client_nor_the_postgres_dialect() -> None:
    """A search reads the feature store; only the collectors fetch (httpx) and only writes upsert with
    the Postgres dialect's ``insert``."""
    loaded = modules_after(
        "import mastertrade.engine.collectors.provider, mastertrade.engine.generator.terms"
    )
    assert "httpx" not in loaded
    assert "sqlalchemy.dialects.postgresql" not in loaded
