"""One exception hierarchy for the whole product.

The engine loop dispatches on the two middle branches: a ``RetryableError`` is retried with backoff
(up to a cap), a ``FatalError`` stops the operation and is reported. ``UserInputError`` is what the
CLI turns into a one-line message and exit code 2; ``OperationFailed`` into exit code 1.

    MasterTradeError
    ├── UserInputError              bad usage or bad input; exit 2; the message names the bad value
    │   ├── ConfigError             malformed config file or environment variable (file, line, key)
    │   ├── DataValidationError     a rejected input file or payload (row number and reason)
    │   ├── InvalidGenome           a strategy genome that fails validation (JSON path of the field)
    │   ├── NotFound                a named thing (series, strategy, order, goal) does not exist
    │   └── AlreadyExists           what is to be added is there already (a rule, a goal name, an order id)
    ├── OperationFailed             the request was fine but the work failed; exit 1
    │   ├── DaemonNotRunning        a command needs the daemon and none answers on the socket
    │   ├── DaemonAlreadyRunning    a second `mt daemon start`
    │   ├── RiskRejected            the risk manager refused an order (the reason is in the message)
    │   ├── StopProtectsPosition    a cancel that would leave a position without its protective stop
    │   └── DatabaseUnavailable     the daemon's database cannot be used now (down, full, locked); API 503
    ├── RetryableError              transient: retry with backoff, then give up as OperationFailed
    │   ├── VenueUnavailable        network error, timeout, 5xx, dropped connection
    │   └── RateLimited             429/418 or the venue's own throttle
    │       └── RateLimitedUnknown  429/418 to an order create, which a gateway may answer after booking it
    └── FatalError                  retrying cannot help; stop and report
        ├── AuthenticationFailed    bad or revoked API key (never spin on it)
        ├── InsufficientFunds       the venue refused for lack of balance
        ├── OrderRejected           the venue refused the order as invalid
        └── OrderStateUnknown       an order whose fate could not be resolved; needs reconciliation
"""

from __future__ import annotations


class MasterTradeError(Exception):
    """Base of every error MasterTrade raises on purpose."""

    exit_code = 1


class UserInputError(MasterTradeError):
    """Bad usage or bad input. The message is one line and names the bad value."""

    exit_code = 2


class ConfigError(UserInputError):
    """A malformed config file or environment variable."""


class DataValidationError(UserInputError):
    """An input file or payload was rejected as a whole."""


class InvalidGenome(UserInputError):
    """A strategy genome failed validation; the message carries the JSON path of the bad field."""


class NotFound(UserInputError):
    """A named series, strategy, order or goal does not exist."""


class AlreadyExists(UserInputError):
    """What is to be added is there already (the message names it); the API answers 409."""


class OperationFailed(MasterTradeError):
    """The request was valid but the work could not be done."""


class DaemonNotRunning(OperationFailed):
    """No daemon answers on the socket."""


class DaemonAlreadyRunning(OperationFailed):
    """A daemon is already running for this installation."""


class RiskRejected(OperationFailed):
    """The risk manager refused an order."""


class StopProtectsPosition(OperationFailed):
    """The order to cancel is the stop protecting an open position (the message names it); the caller
    must say it means to leave the position unprotected."""


class DatabaseUnavailable(OperationFailed):
    """The daemon's database cannot be used now: its server is down or unreachable, the disk is full or
    read-only, another process holds the SQLite file locked (``mastertrade.db.trouble``)."""


class RetryableError(MasterTradeError):
    """A transient failure: retry with backoff, up to a cap."""


class VenueUnavailable(RetryableError):
    """Network error, timeout, server error or dropped connection at a venue."""


class RateLimited(RetryableError):
    """The venue asked us to slow down."""


class RateLimitedUnknown(RateLimited):
    """A 429/418 answered to a request that may have been acted on all the same (an order create: a
    gateway may answer so after the exchange booked it). Not retried: its outcome is unknown."""


class FatalError(MasterTradeError):
    """Retrying cannot help."""


class AuthenticationFailed(FatalError):
    """Bad or revoked API credentials."""


class InsufficientFunds(FatalError):
    """The venue refused an order for lack of balance."""


class OrderRejected(FatalError):
    """The venue refused an order as invalid."""


class OrderStateUnknown(FatalError):
    """An order's fate could not be resolved; reconciliation must settle it."""
