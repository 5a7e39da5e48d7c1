"""Masking Apprise URLs: they carry tokens and passwords (``tgram://BOT_TOKEN/CHAT``), so no output,
log line or stored error shows one whole.

For the generic web-hook schemes (json, xml, form and their TLS variants) the host and port stay
visible (so a user can tell targets apart) while credentials, path and query are masked; every other
scheme shows only its name, because those put secrets in the "host" part.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_HOST_SCHEMES = {"json", "jsons", "xml", "xmls", "form", "forms", "http", "https"}
_MIN_SECRET = 4


def mask_target(url: str) -> str:
    """A display form of an Apprise URL with every secret replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    if scheme.lower() not in _HOST_SCHEMES:
        return f"{scheme}://***"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return f"{scheme}://***"
    user = "***@" if parts.username or parts.password else ""
    path = "/***" if parts.path.strip("/") else ""
    query = "?***" if parts.query else ""
    return f"{scheme}://{user}{host}{port}{path}{query}"


def secrets_of(url: str) -> list[str]:
    """The parts of an Apprise URL that may be secret (for scrubbing them out of error text)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return [url] if len(url) >= _MIN_SECRET else []
    pieces = [rest]
    pieces += re.split(r"[/@:?&=#]", rest)
    if scheme.lower() in _HOST_SCHEMES:
        try:
            parts = urlsplit(url)
            public = {parts.hostname or "", str(parts.port or "")}
        except ValueError:
            public = set()
        pieces = [piece for piece in pieces if piece not in public]
    return sorted({piece for piece in pieces if len(piece) >= _MIN_SECRET}, key=len, reverse=True)


def scrub(text: str, urls: list[str]) -> str:
    """``text`` with every secret part of ``urls`` replaced by ``***``."""
    for url in urls:
        for secret in secrets_of(url):
            text = text.replace(secret, "***")
    return text
