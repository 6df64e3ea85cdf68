"""The errors of the adapter interface (re-exported by :mod:`.adapter`).

Adapters translate every provider error into one of these; the core only ever catches them.
"""


class CloudError(Exception):
    """Base of all adapter errors.

    ``code`` is the provider's own error code or HTTP status, ``path`` the item concerned when
    known; both go into the sync logs (never secrets). ``retryable`` tells the queue whether a
    retry may succeed.
    """

    retryable = False

    def __init__(self, message="", code=None, path=None, retry_after=None):
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__
        self.code = code
        self.path = path
        self.retry_after = retry_after

    def __str__(self):
        parts = [self.message]
        if self.code:
            parts.append("[%s]" % self.code)
        if self.path:
            parts.append("(%s)" % self.path)
        return " ".join(parts)


class NotFound(CloudError):
    """The item does not exist (any more)."""


class Conflict(CloudError):
    """An item with that name already exists where the operation wanted to put one."""

    def __init__(self, message="", existing_id=None, **kw):
        super().__init__(message, **kw)
        self.existing_id = existing_id


class RateLimited(CloudError):
    """Too many requests; ``retry_after`` seconds to wait when the provider said so."""

    retryable = True


class AuthExpired(CloudError):
    """Credentials are no longer valid and could not be refreshed: reconnect needed."""


class QuotaExceeded(CloudError):
    """The account has no space left."""


class Transient(CloudError):
    """Server error, timeout, connection lost: the request may or may not have been applied."""

    retryable = True


class ResetNeeded(CloudError):
    """The change-feed cursor is no longer valid: the caller must re-list and reconcile."""


class InvalidRequest(CloudError):
    """The provider refused the request for a reason a retry will not fix (bad name, ...)."""
