"""Errors of the collectors, and what the caller should do about each.

OmcError
└── CollectorError           a run of one collector failed; its run record says why
    ├── ProviderUnavailable  unreachable, timed out or 5xx after every retry:
    │                        the next run tries again
    ├── ProviderRateLimited  429 beyond the retry budget: slow the cadence down
    ├── ProviderRejected     a 4xx other than 429: fix the URL or credentials
    ├── ProviderErrorBody    the provider answered with an error document
    ├── MalformedPayload     the whole answer is unreadable (not JSON, wrong shape)
    ├── MalformedItem        one item is unreadable: skipped and counted, never fatal
    ├── CollectorDisabled    not configured (e.g. no token): set the named setting
    └── LockHeld             another run of the collector holds its lock: wait
NotFound
└── UnknownCollector         no collector has that name
"""

from omc.errors import NotFound, OmcError

__all__ = [
    "CollectorDisabled",
    "CollectorError",
    "LockHeld",
    "MalformedItem",
    "MalformedPayload",
    "ProviderErrorBody",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderUnavailable",
    "UnknownCollector",
]


class CollectorError(OmcError):
    """A collector run failed; the run is recorded as failed with this message."""


class ProviderUnavailable(CollectorError):
    """The provider did not answer usefully after every retry: the next run retries."""


class ProviderRateLimited(CollectorError):
    """The provider kept answering 429: lengthen the cadence or wait `retry_after_s`."""

    def __init__(self, message: str, *, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ProviderRejected(CollectorError):
    """The provider refused the request (4xx): check the base URL and credentials."""

    def __init__(self, message: str, *, status_code: int, body: bytes) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class ProviderErrorBody(CollectorError):
    """The provider answered with an error document instead of data."""


class MalformedPayload(CollectorError):
    """The answer as a whole cannot be read: the provider changed its format."""


class MalformedItem(CollectorError):
    """One item of an answer cannot be read; collectors skip and count it."""


class CollectorDisabled(CollectorError):
    """The collector is not configured; the message names the missing setting."""


class LockHeld(CollectorError):
    """Another run of this collector is in progress; this one did not start."""


class UnknownCollector(NotFound):
    """No collector has that name: see `omc collect --help` for the list."""
