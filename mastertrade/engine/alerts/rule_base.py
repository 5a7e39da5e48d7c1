"""What every alert rule is: its severity, the alert it proposes (``AlertCandidate``) and the ``Rule``
base class. Kept apart from :mod:`.rules` (the built-in kinds and the factory) so that a rule kind in
its own module (``signal_rule``) can subclass ``Rule`` without the factory and the kind importing each
other."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mastertrade.engine.events import Event


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class AlertCandidate:
    """What a rule wants to say; the manager decides whether it is new, repeated or held."""

    rule: str
    severity: Severity
    dedupe_key: str
    title: str
    body: str
    about: str = ""
    """What happened, whichever rule saw it (the built-in form of the dedupe key): two rules that see
    the same happening (the built-in ``order_filled`` and a user's ``order_filled --symbol BTC/USDT``)
    make one alert, not two (:meth:`.rules.RuleSet.evaluate`)."""

    @property
    def rank(self) -> int:
        """How strongly it asks for attention: critical over warning over info."""
        return _RANK[self.severity]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Rule(ABC):
    """A rule: ``evaluate`` returns the alert an event calls for, if any."""

    types: frozenset[str] = frozenset()

    def __init__(self, *, rule_id: int | None, name: str, kind: str, severity: Severity | None) -> None:
        self.rule_id = rule_id
        self.name = name
        self.kind = kind
        self.severity = severity

    @property
    def builtin(self) -> bool:
        return self.rule_id is None

    def params(self) -> dict[str, Any]:
        return {}

    @abstractmethod
    def evaluate(self, event: Event) -> AlertCandidate | None:
        """The alert ``event`` calls for under this rule, or None."""

    def _finish(self, candidate: AlertCandidate | None) -> AlertCandidate | None:
        if candidate is None:
            return None
        severity = self.severity or candidate.severity
        prefix = "" if self.builtin else f"rule{self.rule_id}:"
        return AlertCandidate(
            rule=self.name,
            severity=severity,
            dedupe_key=prefix + candidate.dedupe_key,
            title=candidate.title,
            body=candidate.body,
            about=candidate.about or candidate.dedupe_key,
        )

    def info(self) -> dict[str, Any]:
        return {
            "id": self.rule_id,
            "name": self.name,
            "kind": self.kind,
            "params": self.params(),
            "severity": self.severity.value if self.severity else None,
            "builtin": self.builtin,
        }
