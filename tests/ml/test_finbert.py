"""FinBERT through ONNX Runtime and tokenizers, on a tiny classifier the test builds, and its blend
with VADER in the sentiment aggregate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mastertrade.config import CollectorsSettings
from mastertrade.engine.collectors.finbert import FinBert, load
from mastertrade.engine.collectors.sentiment import (
    SentimentBuckets,
    SymbolMatcher,
    score_function,
    scorer,
    scoring,
)
from mastertrade.errors import ConfigError
from tests.ml.tiny_bert import build, build_other_shape

pytest.importorskip("onnx")


@pytest.mark.parametrize("tokenizer_json", [False, True])
def test_loads_tokenises_and_scores(tmp_path: Path, tokenizer_json: bool) -> None:
    finbert = FinBert(build(tmp_path / "finbert", tokenizer_json=tokenizer_json))
    encoded = finbert.tokenizer.encode("Bitcoin surges")
    assert encoded.tokens == ["[CLS]", "bitcoin", "surges", "[SEP]"]
    up, down, flat, unknown = finbert.scores(
        ["Bitcoin surges to a record rally", "Bitcoin plunges in crash", "the market today", "zzz qqq"]
    )
    assert up > 0.5 and down < -0.5 and abs(flat) < 0.01 and abs(unknown) < 0.01
    probabilities = finbert.probabilities(["Ether gains", "hack"])
    assert probabilities.shape == (2, 3)
    assert probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])
    # A batch is padded to its longest text; the padding must not change a short text's score.
    alone = finbert.score("Ether gains")
    batched = finbert.scores(["Ether gains", "bitcoin market today the rally in the market to a record"])[0]
    assert batched == pytest.approx(alone, abs=1e-6)


def test_long_texts_are_truncated_not_refused(tmp_path: Path) -> None:
    finbert = FinBert(build(tmp_path / "finbert"), max_tokens=8)
    assert len(finbert.tokenizer.encode("rally " * 50).ids) == 8
    assert finbert.score("rally " * 50) > 0.5


def test_label_order_comes_from_config(tmp_path: Path) -> None:
    folder = build(tmp_path / "finbert")
    (folder / "config.json").write_text(
        json.dumps({"id2label": {"0": "negative", "1": "positive", "2": "neutral"}})
    )
    assert FinBert(folder).score("Bitcoin surges") < -0.5  # the same logits read the other way round


@pytest.mark.parametrize(
    ("shape", "said"),
    [
        ({"classes": 2}, "gives an output of shape [2, 2] for 2 texts, not [2, 3]"),
        ({"classes": 1}, "gives an output of shape [2, 1] for 2 texts, not [2, 3]"),
        ({"per_token": True}, "gives an output of shape [2, 4, 3] for 2 texts, not [2, 3]"),
        ({"int32": True}, "does not run on tokenised text ("),
    ],
)
def test_a_model_of_another_shape_is_refused_when_it_loads(
    tmp_path: Path, shape: dict[str, object], said: str
) -> None:
    """Before, two logits were read by FinBERT's three labels without a word, one gave an IndexError and a
    token classifier a TypeError on the first headline, int32 inputs an onnxruntime error there."""
    folder = build_other_shape(tmp_path / "other", **shape)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=re.escape(f"finbert_model_dir {folder}: model.onnx {said}")):
        FinBert(folder)


def test_labels_must_be_numbered_from_zero(tmp_path: Path) -> None:
    folder = build(tmp_path / "finbert")
    (folder / "config.json").write_text(json.dumps({"id2label": {"0": "positive", "5": "negative"}}))
    with pytest.raises(ConfigError, match="must number its labels 0, 1, 2"):
        FinBert(folder)


def test_bad_folders_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such folder"):
        load(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="no model.onnx"):
        FinBert(empty)
    folder = build(tmp_path / "broken")
    (folder / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="does not load"):
        FinBert(folder)


def test_the_blend_in_the_sentiment_aggregate(tmp_path: Path) -> None:
    from mastertrade.engine.collectors.sentiment import Item

    vader_only = CollectorsSettings()
    assert score_function(vader_only) == scorer().score
    assert scoring(vader_only).startswith("VADER alone")

    folder = build(tmp_path / "finbert")
    settings = CollectorsSettings(finbert_model_dir=folder, finbert_weight=0.75)
    assert "FinBERT 75% + VADER 25%" in scoring(settings)
    blended = score_function(settings)
    text = "Bitcoin plunges in crash"
    expected = 0.75 * FinBert(folder).score(text) + 0.25 * scorer().score(text)
    assert blended(text) == pytest.approx(expected)

    buckets = SentimentBuckets(3_600_000)
    matcher = SymbolMatcher({"BTC": ["bitcoin"]})
    items = [Item("1", "Bitcoin surges to a record", 1_000), Item("2", "Bitcoin plunges in crash", 2_000)]
    points = buckets.add(items, 10_000, matcher, blended)
    sentiment = {p.symbol: p.value for p in points if p.name == "sentiment"}
    assert sentiment["BTC"] == pytest.approx((blended(items[0].text) + blended(items[1].text)) / 2)


async def test_news_collector_scores_with_finbert_when_configured(tmp_path: Path) -> None:
    import httpx

    from mastertrade.engine.collectors.news import NewsCollector

    feed = (
        b"<?xml version='1.0'?><rss><channel><item><guid>a</guid><title>Bitcoin crash: losses mount</title>"
        b"<pubDate>Thu, 03 Dec 2026 01:10:00 GMT</pubDate></item></channel></rss>"
    )
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=feed))
    settings = CollectorsSettings(
        news_feeds=["https://news.test/rss"], finbert_model_dir=build(tmp_path / "fb"), finbert_weight=1.0
    )
    collector = NewsCollector(settings)
    async with httpx.AsyncClient(transport=transport) as client:
        points = await collector.collect(client, 1_796_260_000_000)
    btc = [p.value for p in points if p.name == "sentiment" and p.symbol == "BTC"]
    assert btc == [pytest.approx(FinBert(tmp_path / "fb").score("Bitcoin crash: losses mount"))]


def test_data_sources_says_whether_finbert_is_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import MT

    mt = MT()
    off = mt("data", "sources", "news")
    assert off.exit_code == 0, off.stderr
    assert "sentiment scoring: VADER alone" in off.stderr
    assert mt.json("data", "sources", "news")[0]["scoring"].startswith("VADER alone")
    monkeypatch.setenv("MT_COLLECTORS__FINBERT_MODEL_DIR", str(build(tmp_path / "fb")))
    on = mt("data", "sources", "news")
    assert "sentiment scoring: FinBERT 50% + VADER 50%" in on.stderr
    assert mt.json("data", "sources", "news")[0]["scoring"].startswith("FinBERT 50%")


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (None, "no such folder"),
        ((), "no model.onnx there"),
        (("model.onnx",), "neither tokenizer.json nor vocab.txt"),
    ],
)
def test_the_scoring_said_is_not_finbert_when_its_folder_cannot_be_one(
    tmp_path: Path, files: tuple[str, ...] | None, problem: str
) -> None:
    """`mt data sources` said "FinBERT 50% + VADER 50% (FinBERT from /nonexistent)" for a folder that did
    not exist, while the collectors that score text failed on it."""
    folder = tmp_path / "finbert"
    if files is not None:
        folder.mkdir()
        for name in files:
            (folder / name).write_bytes(b"")
    said = scoring(CollectorsSettings(finbert_model_dir=folder))
    assert said.startswith(f"FinBERT asked for but unusable ({folder}: {problem}")
    assert "collectors fail" in said


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        ("onnx", "model.onnx does not load"),
        ("labels", "id2label must name 'positive' and 'negative'"),
    ],
)
def test_the_scoring_said_is_not_finbert_when_its_model_does_not_load(
    tmp_path: Path, spoil: str, problem: str
) -> None:
    """`mt data sources` said "FinBERT 50% + VADER 50%" for a folder holding every file but a model.onnx
    that does not load (or a config.json without FinBERT's labels), while the collectors that score text
    failed on it."""
    folder = build(tmp_path / "finbert")
    if spoil == "onnx":
        (folder / "model.onnx").write_bytes(b"not a model")
    else:
        (folder / "config.json").write_text(json.dumps({"id2label": {"0": "up", "1": "down"}}))
    said = scoring(CollectorsSettings(finbert_model_dir=folder))
    assert said.startswith(f"FinBERT asked for but unusable ({folder}: ")
    assert problem in said
    assert "collectors fail" in said
