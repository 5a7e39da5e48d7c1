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
    """The parts of an Apprise URL that may be secret (for scrubbing them out of error text).

    Every part of the URL counts (user, password, host of the schemes that hide tokens there, path
    segments, query values) except the names of query options (``format``, ``mode``, ``to``): they are
    Apprise's vocabulary, and taking them for secrets turned every "mode" in the daemon log into
    "***". A query item without ``=`` is a value, and counts."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return [url] if len(url) >= _MIN_SECRET else []
    body, _, query = rest.partition("?")
    pieces = [rest, *re.split(r"[/@:#]", body)]
    for item in re.split(r"[&;]", query):
        name, equals, value = item.partition("=")
        pieces += re.split(r"[/@:#]", value) if equals else [name]
    if scheme.lower() in _HOST_SCHEMES:
        try:
            parts = urlsplit(url)
            public = {parts.hostname or "", str(parts.port or "")}
        except ValueError:
            public = set()
        pieces = [piece for piece in pieces if piece not in public]
    return sorted({piece for piece in pieces if len(piece) >= _MIN_SECRET}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***``.

    A secret made only of letters (a path word such as ``alerts`` or ``fail``, a word-like password)
    is replaced where it stands as a word, not inside a longer one ("failed" stays "failed"); it still
    counts as a word after a percent escape (``%3ASECRET``). Anything else is replaced wherever it
    appears."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) < _MIN_SECRET:
            continue
        pattern = re.escape(secret)
        if secret.isalpha():
            pattern = rf"(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{{2}})){pattern}(?![A-Za-z0-9])"
        text = re.sub(pattern, "***", text)
    return text


def scrub(text: str, urls: list[str]) -> str:
    """``text`` with every secret part of ``urls`` replaced by ``***``."""
    return redact(text, [secret for url in urls for secret in secrets_of(url)])
