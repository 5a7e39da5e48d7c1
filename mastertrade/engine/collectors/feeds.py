"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds parsed into sentiment items, safely.

Feeds are untrusted XML: ``defusedxml`` refuses entity declarations (the "billion laughs" expansion),
external entities and external DTDs instead of expanding them. A feed that is not well-formed XML or
not a feed at all is rejected whole as a ``DataValidationError``; an item without a title is skipped.
"""

from __future__ import annotations

import hashlib
import html
import re
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from mastertrade.engine.collectors.sentiment import Item
from mastertrade.errors import DataValidationError
from mastertrade.utc import parse_iso, to_ms

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
SUMMARY_CHARS = 280
"""Only the start of a summary is scored: the headline carries the tone, long bodies dilute it."""


def parse_feed(content: bytes | str, where: str) -> list[Item]:
    """The items of an RSS or Atom document; ``where`` (the feed's host) prefixes their ids."""
    try:
        root = fromstring(content)
    except DefusedXmlException as exc:
        raise DataValidationError(f"{where}: refused unsafe XML ({type(exc).__name__})") from None
    except ParseError as exc:
        raise DataValidationError(f"{where}: malformed XML: {exc}") from None
    if root.tag == f"{ATOM}feed":
        entries = root.findall(f"{ATOM}entry")
        return [item for entry in entries if (item := _atom_item(entry, where)) is not None]
    if root.tag == "rss":
        channel = root.find("channel")
        entries = channel.findall("item") if channel is not None else []
    elif root.tag.endswith("RDF"):
        entries = root.findall(f"{RSS1}item")
    else:
        raise DataValidationError(f"{where}: not an RSS or Atom feed (root element <{root.tag}>)")
    return [item for entry in entries if (item := _rss_item(entry, where)) is not None]


def _text(element: Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _child(entry: Element, *names: str) -> Element | None:
    for name in names:
        found = entry.find(name)
        if found is not None:
            return found
    return None


def _clean(markup: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", markup))).strip()


def _rss_item(entry: Element, where: str) -> Item | None:
    title = _clean(_text(_child(entry, "title", f"{RSS1}title")))
    if not title:
        return None
    link = _text(_child(entry, "link", f"{RSS1}link"))
    guid = _text(entry.find("guid")) or entry.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about", "")
    summary = _clean(_text(_child(entry, "description", f"{RSS1}description", f"{CONTENT}encoded")))
    published = _rfc822(_text(entry.find("pubDate"))) or _iso(_text(entry.find(f"{DC}date")))
    return _item(where, guid or link, title, summary, published)


def _atom_item(entry: Element, where: str) -> Item | None:
    title = _clean(_text(entry.find(f"{ATOM}title")))
    if not title:
        return None
    link_element = entry.find(f"{ATOM}link")
    link = link_element.get("href", "") if link_element is not None else ""
    ident = _text(entry.find(f"{ATOM}id"))
    summary = _clean(_text(_child(entry, f"{ATOM}summary", f"{ATOM}content")))
    published = _iso(_text(entry.find(f"{ATOM}published"))) or _iso(_text(entry.find(f"{ATOM}updated")))
    return _item(where, ident or link, title, summary, published)


def _item(where: str, key: str, title: str, summary: str, published: int | None) -> Item:
    # Items with neither guid nor link are identified by their title: the same headline is the same item.
    ident = key or hashlib.sha256(title.encode("utf-8")).hexdigest()[:24]
    text = f"{title}. {summary[:SUMMARY_CHARS]}" if summary and summary != title else title
    return Item(id=f"{where}:{ident}", text=text, published=published)


def _rfc822(value: str) -> int | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return to_ms(moment)


def _iso(value: str) -> int | None:
    if not value:
        return None
    try:
        return to_ms(parse_iso(value))
    except ValueError:
        return None
