"""The API's StrategySummary (in /openapi.json) called its headline figures "the out-of-sample
(walk-forward) figures": they are the hold-out's, bars scored once after selection, which the search's own
walk-forward test folds are not. A script reading the schema was told the wrong window."""

from __future__ import annotations

from mastertrade.engine.api.schemas_strategies import StrategySummary


def test_the_headline_figures_are_named_as_the_hold_outs() -> None:
    description = " ".join(StrategySummary.model_json_schema()["description"].split())
    assert "walk-forward" not in description
    assert "hold-out" in description and "never saw" in description
