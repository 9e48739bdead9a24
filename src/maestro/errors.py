"""Maestro's exceptions, one tree, named for who must act.

::

    MaestroError                      base of everything Maestro raises
    ├── ConfigurationError            the operator: a setting or URL is wrong
    ├── BackendUnavailableError       the operator: database / Redis unreachable
    ├── RequestError                  the caller: the request cannot be served as sent
    │   ├── ValidationError           a field is invalid (names the field)
    │   ├── NotFoundError             the thing does not exist in this workspace
    │   ├── AuthenticationError       missing, wrong or revoked API key
    │   └── ConflictError             the state changed under the caller (409)
    ├── BudgetError                   nobody: policy refused the spend
    │   ├── BudgetExceededError       the workspace's daily budget is spent
    │   └── RateLimitedError          the token bucket refused (a P0/P1 wait timed out)
    │       ├── DeferredError         a P2 call: no token now; retry at ``retry_at``
    │       └── SkippedError          a P3 call: quota under the low-priority floor
    └── ProviderError                 upstream: the model provider failed
        ├── ProviderTimeoutError      no answer within the call's timeout
        └── TransientProviderError    retryable (429, 5xx, connection reset)

Third-party exceptions are mapped onto this tree at the boundary where they are
caught. Exceptions never log; the layer that handles them decides.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AuthenticationError",
    "BackendUnavailableError",
    "BudgetError",
    "BudgetExceededError",
    "ConfigurationError",
    "ConflictError",
    "DeferredError",
    "MaestroError",
    "NotFoundError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitedError",
    "RequestError",
    "SkippedError",
    "TransientProviderError",
    "ValidationError",
]


class MaestroError(Exception):
    """Base class; ``code`` is machine readable and stable, ``status`` the HTTP status."""

    code = "maestro_error"
    status = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigurationError(MaestroError):
    code = "configuration_error"
    status = 500


class BackendUnavailableError(MaestroError):
    code = "backend_unavailable"
    status = 503


class RequestError(MaestroError):
    code = "bad_request"
    status = 400


class ValidationError(RequestError):
    code = "validation_error"
    status = 422


class NotFoundError(RequestError):
    code = "not_found"
    status = 404


class AuthenticationError(RequestError):
    code = "unauthorized"
    status = 401


class ConflictError(RequestError):
    code = "conflict"
    status = 409


class BudgetError(MaestroError):
    code = "budget"
    status = 429


class BudgetExceededError(BudgetError):
    code = "budget_exceeded"


class RateLimitedError(BudgetError):
    code = "rate_limited"


class DeferredError(RateLimitedError):
    """Carries ``retry_at`` (an aware datetime) for the caller to reschedule."""

    code = "deferred"

    def __init__(self, message: str, *, retry_at: datetime, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_at = retry_at


class SkippedError(RateLimitedError):
    code = "skipped"


class ProviderError(MaestroError):
    code = "provider_error"
    status = 502


class ProviderTimeoutError(ProviderError):
    code = "provider_timeout"
    status = 504


class TransientProviderError(ProviderError):
    code = "provider_transient"
    status = 503
