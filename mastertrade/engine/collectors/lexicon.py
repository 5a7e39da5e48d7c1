"""The crypto lexicon that VADER's general-purpose one lacks.

VADER (Hutto & Gilbert, 2014) scores text from a lexicon of words rated -4 (most negative) to +4 (most
positive) by human raters, plus rules for negation, intensifiers, capitals and punctuation. It knows
nothing of market slang: "BTC to the moon" scores 0 and "got rekt" scores 0. The valences below are on
VADER's scale and were set by the same yardstick its raters used: how a trader would read the word about
the asset named beside it. Words VADER already rates but reads differently in markets ("dump" as in
selling, "crash" as in prices) are rated again here.

VADER scores single tokens, so a few multi-word idioms ("all-time high", "rug pull", "pump and dump",
"buy the dip") are first rewritten to one token that the lexicon rates (``normalise``).
"""

from __future__ import annotations

import re

CRYPTO_LEXICON: dict[str, float] = {
    # bullish slang
    "moon": 2.8,
    "mooning": 3.0,
    "moonshot": 2.5,
    "hodl": 1.5,
    "hodling": 1.5,
    "hodlers": 1.2,
    "wagmi": 2.5,
    "lambo": 2.0,
    "bullish": 2.6,
    "bull": 1.5,
    "bulls": 1.5,
    "ath": 2.6,
    "athigh": 2.6,
    "recordhigh": 2.5,
    "newhigh": 2.2,
    "bullrun": 2.6,
    "btfd": 1.5,
    "shortsqueeze": 1.2,
    "pump": 1.6,
    "pumping": 1.8,
    "pumps": 1.6,
    "breakout": 2.0,
    "rally": 2.2,
    "rallies": 2.2,
    "rallied": 2.2,
    "surge": 2.2,
    "surges": 2.2,
    "surged": 2.2,
    "soar": 2.5,
    "soars": 2.5,
    "soared": 2.5,
    "soaring": 2.5,
    "jumps": 1.8,
    "jumped": 1.8,
    "climbs": 1.6,
    "climbed": 1.6,
    "rebound": 1.6,
    "rebounds": 1.6,
    "rebounded": 1.6,
    "recovers": 1.6,
    "recovery": 1.4,
    "skyrockets": 2.8,
    "inflows": 1.5,
    "inflow": 1.5,
    "adoption": 1.5,
    "accumulate": 1.0,
    "accumulating": 1.0,
    "outperforms": 1.8,
    "upgrade": 1.2,
    "fomo": 0.8,
    # bearish slang
    "rekt": -3.0,
    "rug": -3.0,
    "rugged": -3.2,
    "rugpull": -3.5,
    "rugpulled": -3.5,
    "pumpanddump": -3.0,
    "fud": -2.0,
    "ngmi": -2.5,
    "bagholder": -2.5,
    "bagholders": -2.5,
    "bagholding": -2.5,
    "bearish": -2.6,
    "bear": -1.5,
    "bears": -1.5,
    "bearmarket": -2.2,
    "alltimelow": -2.6,
    "dump": -2.2,
    "dumps": -2.2,
    "dumped": -2.2,
    "dumping": -2.2,
    "crash": -3.0,
    "crashes": -3.0,
    "crashed": -3.0,
    "crashing": -3.0,
    "plunge": -2.8,
    "plunges": -2.8,
    "plunged": -2.8,
    "plummets": -3.0,
    "plummeted": -3.0,
    "tumbles": -2.4,
    "tumbled": -2.4,
    "sinks": -2.0,
    "sank": -2.0,
    "slides": -1.6,
    "slid": -1.6,
    "slump": -2.2,
    "slumps": -2.2,
    "falls": -1.5,
    "fell": -1.5,
    "drops": -1.5,
    "dropped": -1.5,
    "selloff": -2.2,
    "sell-off": -2.2,
    "bloodbath": -3.2,
    "capitulation": -2.6,
    "liquidated": -2.6,
    "liquidation": -2.0,
    "liquidations": -2.0,
    "outflows": -1.5,
    "outflow": -1.5,
    "hack": -2.8,
    "hacked": -3.0,
    "hacker": -2.5,
    "hackers": -2.5,
    "exploit": -2.6,
    "exploited": -2.8,
    "drained": -2.8,
    "ponzi": -3.2,
    "scam": -3.0,
    "scammers": -3.0,
    "shitcoin": -2.0,
    "delisted": -2.2,
    "delisting": -2.2,
    "delists": -2.2,
    "insolvent": -3.0,
    "insolvency": -3.0,
    "bankruptcy": -3.0,
    "crackdown": -2.2,
    "lawsuit": -1.8,
    "sues": -1.8,
    "dip": -0.8,
    "correction": -1.0,
    "underperforms": -1.8,
}
"""Token -> valence on VADER's -4..+4 scale, merged over VADER's own lexicon."""

# Idioms rewritten to one token before scoring, longest first so the specific wins over the general.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), token)
    for pattern, token in (
        (r"\ball[\s-]+time[\s-]+highs?\b", "athigh"),
        (r"\ball[\s-]+time[\s-]+lows?\b", "alltimelow"),
        (r"\brecord[\s-]+highs?\b", "recordhigh"),
        (r"\bnew[\s-]+highs?\b", "newhigh"),
        (r"\brug[\s-]*pull(?:ed|s)?\b", "rugpull"),
        (r"\bpump[\s-]+(?:and|&|n)[\s-]+dump\b", "pumpanddump"),
        (r"\bbuy(?:ing)?[\s-]+the[\s-]+dip\b", "btfd"),
        (r"\bbear[\s-]+market\b", "bearmarket"),
        (r"\bbull[\s-]+(?:run|market)\b", "bullrun"),
        (r"\bshort[\s-]+squeeze\b", "shortsqueeze"),
        (r"\bto[\s-]+the[\s-]+moon\b", "moon"),
    )
)


def normalise(text: str) -> str:
    """Rewrite the multi-word idioms of ``text`` to the single tokens the lexicon rates."""
    for pattern, token in _PHRASES:
        text = pattern.sub(token, text)
    return text
