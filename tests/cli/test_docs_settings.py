"""The documentation's settings reference is generated from ``mastertrade/config.py``
(``docs/hooks/config_reference.py``): every setting appears with its section, environment variable,
default and the docstring written under it, so the page cannot drift from the config."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from mastertrade.config import Settings
from mastertrade.config_docs import attribute_docs

HOOK = Path(__file__).parents[2] / "docs" / "hooks" / "config_reference.py"
MKDOCS = Path(__file__).parents[2] / "mkdocs.yml"


def load_hook() -> Any:
    spec = importlib.util.spec_from_file_location("config_reference", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_setting_is_in_the_generated_reference() -> None:
    hook = load_hook()
    page = hook.on_page_markdown(f"# Settings\n\n{hook.MARKER}\n", None, None, None)
    assert hook.MARKER not in page
    assert '| `mode` | `MT_MODE` | `"paper"` |' in page
    count = 0
    for section, field in Settings.model_fields.items():
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        assert f"## `[{section}]`" in page, section
        part = page.split(f"## `[{section}]`", 1)[1].split("\n## ", 1)[0]
        docs = attribute_docs(model)
        for key in model.model_fields:
            row = next((line for line in part.splitlines() if line.startswith(f"| `{key}` |")), None)
            assert row is not None, f"[{section}] {key}"
            assert f"`MT_{section.upper()}__{key.upper()}`" in row, row
            first_words = " ".join(docs[key].split()[:4])
            assert first_words in row, (section, key, first_words)
            count += 1
    assert count > 150
    assert "| `max_drawdown` | `MT_RISK__MAX_DRAWDOWN` | `0.15` |" in page
    assert "| `api_key` | `MT_EXCHANGE__API_KEY` | unset |" in page


def test_the_hook_is_registered_and_pages_without_the_marker_are_left_alone() -> None:
    assert "docs/hooks/config_reference.py" in MKDOCS.read_text()
    assert load_hook().on_page_markdown("# Install\n", None, None, None) == "# Install\n"
