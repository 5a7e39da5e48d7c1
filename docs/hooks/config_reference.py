"""MkDocs hook: the settings reference, generated from ``mastertrade/config.py`` at build time.

``docs/reference/settings.md`` holds the marker ``<!-- mt-settings -->``; this hook replaces it with one
section per config section: each key with its environment variable, its default and the docstring
written under it in ``config.py`` (the text ``mt init`` writes into ``config.toml`` as comments).
Nothing is copied by hand, so the page cannot drift from the config: a new setting appears at the next
build.
"""

from __future__ import annotations

import json
from typing import Any

MARKER = "<!-- mt-settings -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(value: Any) -> str:
    from pydantic import BaseModel, SecretStr

    if value is None or isinstance(value, SecretStr):
        return "unset"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    text = json.dumps(value, default=str) if not isinstance(value, float) else repr(value)
    return f"`{_cell(text)}`"


def _rows(model: Any, names: list[str], section: str | None) -> list[str]:
    from mastertrade.config import ENV_NESTED, ENV_PREFIX
    from mastertrade.config_docs import attribute_docs

    docs = attribute_docs(type(model))
    rows = ["| Key | Environment | Default | What it is |", "|---|---|---|---|"]
    for name in names:
        env = ENV_PREFIX + (f"{section}{ENV_NESTED}{name}" if section else name).upper()
        rows.append(
            f"| `{name}` | `{env}` | {_default(getattr(model, name))} | {_cell(docs.get(name, ''))} |"
        )
    return rows


def settings_reference() -> str:
    """The whole reference as Markdown, from the defaults (never the environment or a config file)."""
    from pydantic import BaseModel

    from mastertrade.config import Settings

    top = Settings.model_construct()  # the defaults, without reading MT_* variables or files
    sections = [
        name
        for name, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    ]
    scalars = [name for name in Settings.model_fields if name not in sections]
    lines = ["## Top level", "", *_rows(top, scalars, None), ""]
    for name in sections:
        model = getattr(top, name)
        doc = (type(model).__doc__ or "").strip()
        lines += [f"## `[{name}]`", ""]
        if doc:
            lines += [" ".join(doc.split()), ""]
        lines += [*_rows(model, list(type(model).model_fields), name), ""]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, settings_reference())
